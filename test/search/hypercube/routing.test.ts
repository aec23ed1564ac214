// Rule checked (distrisearch-architecture.md, "Algoritmo de Ruteo" and "Flujo 3"): at each hop
// the message goes to the neighbour that flips the highest differing bit if it is alive, else to
// the live neighbour with the smallest XOR distance; 2 -> 6 -> 7 on a 3-cube; on a full cube a
// message reaches its target in popcount(src ^ dst) hops. Ours adds: never loop, back out of dead
// ends, drop with a reason when the destination is unreachable or too far for hop_limit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  createRouteMessage,
  highestDifferingBit,
  popcount,
  routeStep,
  viewFromLiveIds,
  withoutId,
  type RouteDecision,
  type RouteMessage,
  type RouteView,
} from '../../../src/search/hypercube/index.js';

type Mode = 'view' | 'neighbours';

function viewFor(self: number, d: number, live: ReadonlySet<number>, mode: Mode): RouteView {
  const view = viewFromLiveIds(self, d, live);
  return mode === 'view' ? view : { dimensions: d, liveNeighbours: view.liveNeighbours };
}

/** Walks a message to its end; returns the final decision and the ids it went through. */
function walk(
  src: number,
  dst: number,
  d: number,
  live: ReadonlySet<number>,
  mode: Mode,
  hopLimit = 32,
) {
  let msg: RouteMessage<string> = createRouteMessage(src, dst, 'ping', { hopLimit });
  let at = src;
  const trail = [src];
  for (let step = 0; step < 10_000; step++) {
    const decision: RouteDecision<string> = routeStep(msg, at, viewFor(at, d, live, mode));
    if (decision.action !== 'forward') return { decision, trail };
    at = decision.next;
    msg = decision.msg;
    trail.push(at);
  }
  throw new Error('routing did not terminate');
}

const full = (d: number): Set<number> => new Set(Array.from({ length: 2 ** d }, (_, i) => i));

describe('routeStep', () => {
  test("the seed's example: 2 -> 6 -> 7 on a full 3-cube", () => {
    for (const mode of ['view', 'neighbours'] as const) {
      const { decision, trail } = walk(2, 7, 3, full(3), mode);
      assert.equal(decision.action, 'deliver');
      assert.deepEqual(trail, [2, 6, 7]);
      assert.equal(decision.msg.hops, 2);
      assert.equal(decision.msg.hop_limit, 30);
    }
  });

  test("when 6 is dead, 2 -> 3 -> 7 (the seed's greedy fallback, min XOR)", () => {
    const live = full(3);
    live.delete(6);
    for (const mode of ['view', 'neighbours'] as const) {
      assert.deepEqual(walk(2, 7, 3, live, mode).trail, [2, 3, 7]);
    }
  });

  test('a message with only the seed fields is routed, its holder taken as source', () => {
    const msg = {
      type: 'route',
      dest_id: 7,
      hop_limit: 32,
      payload: { type: 'ping', sender_id: 2 },
    } as const;
    const decision = routeStep(msg, 2, viewFromLiveIds(2, 3, full(3)));
    assert.equal(decision.action, 'forward');
    assert.equal(decision.action === 'forward' && decision.next, 6);
    assert.deepEqual(decision.msg.path, [2, 6]);
    assert.equal(decision.msg.source_id, 2);
  });

  test('the destination delivers', () => {
    const decision = routeStep(createRouteMessage(5, 5, null), 5, viewFromLiveIds(5, 3, full(3)));
    assert.equal(decision.action, 'deliver');
  });

  test('a destination outside the cube is dropped as invalid-destination', () => {
    const decision = routeStep(createRouteMessage(0, 9, null), 0, viewFromLiveIds(0, 3, full(3)));
    assert.equal(decision.action === 'drop' && decision.reason, 'invalid-destination');
  });

  test('inconsistent routing fields are dropped as invalid-message', () => {
    const view = viewFromLiveIds(1, 3, full(3));
    const notHolder = { ...createRouteMessage(0, 7, null), path: [0, 4] };
    const notWalk = { ...createRouteMessage(0, 7, null), path: [0, 3, 1], visited: [0, 3, 1] };
    const badLimit = { ...createRouteMessage(1, 7, null), hop_limit: -1 };
    for (const msg of [notHolder, notWalk, badLimit]) {
      const decision = routeStep(msg, 1, view);
      assert.equal(decision.action === 'drop' && decision.reason, 'invalid-message');
    }
  });

  test('a node outside the cube is a programmer error', () => {
    assert.throws(() =>
      routeStep(createRouteMessage(0, 1, null), 8, { dimensions: 3, liveNeighbours: [] }),
    );
  });

  test('an isolated source drops as unreachable with a reason', () => {
    for (const mode of ['view', 'neighbours'] as const) {
      const { decision } = walk(0, 3, 2, new Set([0, 3]), mode);
      assert.equal(decision.action, 'drop');
      assert.equal(decision.action === 'drop' && decision.reason, 'unreachable');
      assert.match(decision.action === 'drop' ? decision.detail : '', /no live route from 0 to 3/);
    }
  });

  test('a dead destination is unreachable; with a view it is dropped at the source', () => {
    const live = full(4);
    live.delete(15);
    const withView = walk(0, 15, 4, live, 'view');
    assert.equal(withView.decision.action === 'drop' && withView.decision.reason, 'unreachable');
    assert.deepEqual(withView.trail, [0]);
    const neighboursOnly = walk(0, 15, 4, live, 'neighbours', 100);
    assert.equal(
      neighboursOnly.decision.action === 'drop' && neighboursOnly.decision.reason,
      'unreachable',
    );
    assert.ok(neighboursOnly.trail.length > 15, 'without a view it searches the whole component');
  });

  test('greedy dead end: the view routes around it; without a view the message backtracks', () => {
    // Live: 0, 1, 2, 3, 4, 7 of a 3-cube. From 0 to 7 the seed's rule picks 4 (XOR 3), whose
    // other neighbours 5 and 6 are dead: greedy alone is stuck there.
    const live = new Set([0, 1, 2, 3, 4, 7]);
    const viaView = walk(0, 7, 3, live, 'view');
    assert.equal(viaView.decision.action, 'deliver');
    assert.deepEqual(viaView.trail, [0, 2, 3, 7]);
    const dfs = walk(0, 7, 3, live, 'neighbours');
    assert.equal(dfs.decision.action, 'deliver');
    assert.deepEqual(dfs.trail, [0, 4, 0, 2, 3, 7]);
    assert.equal(dfs.decision.msg.hops, 5);
    assert.deepEqual(dfs.decision.msg.path, [0, 2, 3, 7]);
  });

  test('a destination farther than hop_limit is dropped as hop-limit before sending anything', () => {
    const { decision, trail } = walk(0, 15, 4, full(4), 'view', 3);
    assert.equal(decision.action === 'drop' && decision.reason, 'hop-limit');
    assert.deepEqual(trail, [0]);
    const exact = walk(0, 15, 4, full(4), 'view', 4);
    assert.equal(exact.decision.action, 'deliver');
  });

  test('without a view, an exhausted hop_limit drops the message on the way', () => {
    const { decision, trail } = walk(0, 15, 4, full(4), 'neighbours', 2);
    assert.equal(decision.action === 'drop' && decision.reason, 'hop-limit');
    assert.deepEqual(trail, [0, 8, 12]);
  });

  test('a failed send: the driver marks the hop dead and asks again', () => {
    const view = viewFromLiveIds(2, 3, full(3));
    const first = routeStep(createRouteMessage(2, 7, null), 2, view);
    assert.equal(first.action === 'forward' && first.next, 6);
    const retry = routeStep(createRouteMessage(2, 7, null), 2, withoutId(view, 6));
    assert.equal(retry.action === 'forward' && retry.next, 3);
  });

  test('never enters a visited id, even when its view says that is shortest', () => {
    // The holder 1 arrived from 0; the view says 0 -> ... but 0 is visited.
    const msg = { ...createRouteMessage(0, 2, null), path: [0, 1], visited: [0, 1], hops: 1 };
    const decision = routeStep(msg, 1, viewFromLiveIds(1, 2, full(2)));
    assert.equal(decision.action === 'forward' && decision.next, 3);
  });
});

describe('routing on a full cube (property)', () => {
  for (const mode of ['view', 'neighbours'] as const) {
    test(`${mode}: reaches any target in popcount(src ^ dst) hops, fixing the highest bit first`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 10 }), fc.nat(), fc.nat(), (d, a, b) => {
          const src = a % 2 ** d;
          const dst = b % 2 ** d;
          const { decision, trail } = walk(src, dst, d, full(d), mode);
          assert.equal(decision.action, 'deliver');
          assert.equal(decision.msg.hops, popcount(src ^ dst));
          for (let i = 1; i < trail.length; i++) {
            const prev = trail[i - 1] ?? -1;
            assert.equal(prev ^ (trail[i] ?? -1), 1 << highestDifferingBit(prev, dst));
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('backtracking', () => {
  test('a dead end whose previous hop is down drops as unreachable instead of retrying forever', () => {
    // The message went 0 -> 4 toward 7; at 4 nothing unvisited is alive and 0 has died since.
    const msg = { ...createRouteMessage(0, 7, null), path: [0, 4], visited: [0, 4], hops: 1 };
    const decision = routeStep(msg, 4, { dimensions: 3, liveNeighbours: [] });
    assert.equal(decision.action === 'drop' && decision.reason, 'unreachable');
    assert.match(decision.action === 'drop' ? decision.detail : '', /previous hop 0 is down/);
  });

  test('a backtrack spends a hop and pops the path but keeps visited', () => {
    const msg = {
      ...createRouteMessage(0, 7, null),
      path: [0, 4],
      visited: [0, 4],
      hops: 1,
      hop_limit: 31,
    };
    const decision = routeStep(msg, 4, { dimensions: 3, liveNeighbours: [0] });
    assert.equal(decision.action, 'forward');
    assert.ok(decision.action === 'forward' && decision.backtrack && decision.next === 0);
    assert.deepEqual(decision.msg.path, [0]);
    assert.deepEqual(decision.msg.visited, [0, 4]);
    assert.equal(decision.msg.hops, 2);
    assert.equal(decision.msg.hop_limit, 30);
  });
});
