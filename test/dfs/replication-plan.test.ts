// Rule (dfs-architecture.md, "Flujo de Re-replicación"; issue 3): when a chunk has fewer live
// replicas than its factor, the replication manager copies it from a good replica to a healthy
// node (target pulls from source), fewest live replicas first and throttled; over-replicated
// chunks are trimmed, corrupt replicas are removed once a good copy exists, unknown chunks are
// deleted; the last good replica of a chunk is never deleted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { PlacementNode } from '../../src/dfs/meta/placement.js';
import {
  chunkIsSettled,
  planReplication,
  type CopyAction,
  type CopyInFlight,
  type PlanChunk,
  type PlanInput,
  type PlanReplica,
  type ReplicationAction,
  type ReplicationThrottle,
} from '../../src/dfs/meta/replication-plan.js';
import { asNodeId, type ChunkId, type NodeId, type NodeState } from '../../src/dfs/meta/types.js';

const n = asNodeId;
const chunkId = (i: number): ChunkId =>
  `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` as ChunkId;

function node(id: string, extra: Partial<PlacementNode> = {}): PlacementNode {
  return { nodeId: n(id), rack: null, state: 'active', freeBytes: 1e12, load: 0, ...extra };
}

function chunk(i: number, replicas: string, factor = 3, sizeBytes = 100): PlanChunk {
  // "a b! c" = a ok, b corrupt, c ok
  const parsed: PlanReplica[] = replicas
    .split(' ')
    .filter(Boolean)
    .map((r) => ({ nodeId: n(r.replace('!', '')), health: r.endsWith('!') ? 'corrupt' : 'ok' }));
  return { chunkId: chunkId(i), factor, sizeBytes, replicas: parsed };
}

const copies = (actions: readonly ReplicationAction[]): CopyAction[] =>
  actions.filter((a): a is CopyAction => a.kind === 'copy');
const deletes = (actions: readonly ReplicationAction[]) =>
  actions.filter((a) => a.kind === 'delete');

describe('planReplication: examples', () => {
  test('a replica lost with a dead node is copied from a live replica to a new node', () => {
    const nodes = [node('a', { state: 'dead' }), node('b'), node('c'), node('d')];
    const plan = planReplication({ chunks: [chunk(1, 'a b c')], nodes });
    assert.equal(plan.actions.length, 1);
    const [copy] = copies(plan.actions);
    assert.ok(copy && ['b', 'c'].includes(copy.sourceNodeId) && copy.targetNodeId === 'd');
    assert.equal(copy.sizeBytes, 100);
  });

  test('fewest live replicas first', () => {
    const nodes = [
      node('a'),
      node('b'),
      node('c'),
      node('d', { state: 'dead' }),
      node('e', { state: 'dead' }),
    ];
    const chunks = [chunk(1, 'a b d'), chunk(2, 'c d e')];
    const plan = planReplication({ chunks, nodes, throttle: { maxCopiesTotal: 1 } });
    assert.deepEqual(
      copies(plan.actions).map((c) => c.chunkId),
      [chunkId(2)],
    );
    assert.deepEqual([...plan.underReplicated].sort(), [chunkId(1), chunkId(2)]);
  });

  test('per-node throttle: one source serves at most maxCopiesPerNode copies at once', () => {
    const nodes = [node('src'), node('t1'), node('t2'), node('t3'), node('t4')];
    const chunks = [1, 2, 3, 4].map((i) => chunk(i, 'src', 2));
    const plan = planReplication({ chunks, nodes, throttle: { maxCopiesPerNode: 2 } });
    assert.equal(copies(plan.actions).length, 2);
  });

  test('in-flight copies count: no new copy, no trim while a copy runs', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((id) => node(id));
    const inFlight: CopyInFlight[] = [
      { chunkId: chunkId(1), sourceNodeId: n('a'), targetNodeId: n('c') },
    ];
    assert.deepEqual(planReplication({ chunks: [chunk(1, 'a b')], nodes, inFlight }).actions, []);
    const over = planReplication({ chunks: [chunk(1, 'a b c d')], nodes, inFlight });
    assert.deepEqual(over.actions, []);
  });

  test('a copy in flight to a node that died does not count', () => {
    const nodes = [node('a'), node('b'), node('c', { state: 'dead' }), node('d')];
    const inFlight: CopyInFlight[] = [
      { chunkId: chunkId(1), sourceNodeId: n('a'), targetNodeId: n('c') },
    ];
    const plan = planReplication({ chunks: [chunk(1, 'a b')], nodes, inFlight });
    assert.deepEqual(
      copies(plan.actions).map((c) => c.targetNodeId),
      ['d'],
    );
  });

  test('replicas on inactive nodes still count, but are not sources', () => {
    const nodes = [node('a', { state: 'inactive' }), node('b'), node('c'), node('d')];
    assert.deepEqual(planReplication({ chunks: [chunk(1, 'a b c')], nodes }).actions, []);
    const onlyInactive = planReplication({ chunks: [chunk(2, 'a', 1)], nodes });
    assert.deepEqual(onlyInactive.actions, []);
    assert.deepEqual(onlyInactive.lost, []);
  });

  test('over-replicated: trim the copy on the fullest node', () => {
    const nodes = [node('a'), node('b', { freeBytes: 10 }), node('c'), node('d')];
    const plan = planReplication({ chunks: [chunk(1, 'a b c d')], nodes });
    assert.deepEqual(plan.actions, [
      { kind: 'delete', chunkId: chunkId(1), nodeId: 'b', reason: 'over-replicated' },
    ]);
  });

  test('over-replicated with racks: trim from the rack holding two copies first', () => {
    const nodes = [
      node('a', { rack: 'r1' }),
      node('b', { rack: 'r1', freeBytes: 5e11 }),
      node('c', { rack: 'r2', freeBytes: 10 }),
      node('d', { rack: 'r3' }),
    ];
    const plan = planReplication({ chunks: [chunk(1, 'a b c d')], nodes });
    assert.deepEqual(
      deletes(plan.actions).map((d) => d.nodeId),
      ['b'],
    );
  });

  test('a corrupt replica is re-copied and removed', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((id) => node(id));
    const plan = planReplication({ chunks: [chunk(1, 'a b! c')], nodes });
    assert.deepEqual(
      copies(plan.actions).map((c) => c.targetNodeId),
      ['d'],
    );
    assert.deepEqual(deletes(plan.actions), [
      { kind: 'delete', chunkId: chunkId(1), nodeId: 'b', reason: 'corrupt' },
    ]);
  });

  test('with no spare node, the corrupt copy goes first and its node is refilled next round', () => {
    const nodes = ['a', 'b', 'c'].map((id) => node(id));
    const first = planReplication({ chunks: [chunk(1, 'a b! c')], nodes });
    assert.deepEqual(first.actions, [
      { kind: 'delete', chunkId: chunkId(1), nodeId: 'b', reason: 'corrupt' },
    ]);
    const second = planReplication({ chunks: [chunk(1, 'a c')], nodes });
    assert.deepEqual(
      copies(second.actions).map((c) => c.targetNodeId),
      ['b'],
    );
  });

  test('every replica corrupt: nothing deleted, the chunk is reported lost', () => {
    const nodes = ['a', 'b', 'c'].map((id) => node(id));
    const plan = planReplication({ chunks: [chunk(1, 'a! b!')], nodes });
    assert.deepEqual(plan.actions, []);
    assert.deepEqual(plan.lost, [chunkId(1)]);
  });

  test('unknown chunks are deleted on active nodes, never a known chunk', () => {
    const nodes = [node('a'), node('b', { state: 'dead' })];
    const unknown = [
      { nodeId: n('a'), chunkId: chunkId(9) },
      { nodeId: n('a'), chunkId: chunkId(9) },
      { nodeId: n('b'), chunkId: chunkId(8) },
      { nodeId: n('a'), chunkId: chunkId(1) },
    ];
    const plan = planReplication({ chunks: [chunk(1, 'a', 1)], nodes, unknown });
    assert.deepEqual(plan.actions, [
      { kind: 'delete', chunkId: chunkId(9), nodeId: 'a', reason: 'unknown' },
    ]);
  });

  test('deletes per node are bounded', () => {
    const unknown = [1, 2, 3, 4, 5].map((i) => ({ nodeId: n('a'), chunkId: chunkId(i) }));
    const plan = planReplication({
      chunks: [],
      nodes: [node('a')],
      unknown,
      throttle: { maxDeletesPerNode: 3 },
    });
    assert.equal(plan.actions.length, 3);
  });

  test('copies respect racks and free space', () => {
    const nodes = [
      node('a', { rack: 'r1' }),
      node('b', { rack: 'r2', state: 'dead' }),
      node('c', { rack: 'r1' }),
      node('d', { rack: 'r2' }),
      node('e', { rack: 'r3', freeBytes: 50 }),
    ];
    const plan = planReplication({ chunks: [chunk(1, 'a b', 2)], nodes });
    assert.deepEqual(
      copies(plan.actions).map((c) => c.targetNodeId),
      ['d'],
    );
  });
});

// ---- properties ----

const STATES: NodeState[] = ['active', 'active', 'active', 'inactive', 'dead'];

interface World {
  nodes: PlacementNode[];
  chunks: PlanChunk[];
}

function worldArb(states: readonly NodeState[], minActive: number): fc.Arbitrary<World> {
  return fc
    .record({
      nodeCount: fc.integer({ min: minActive, max: 9 }),
      nodeStates: fc.array(fc.constantFrom(...states), { minLength: 9, maxLength: 9 }),
      racks: fc.integer({ min: 0, max: 4 }),
      chunkSpecs: fc.array(
        fc.record({
          factor: fc.integer({ min: 1, max: 4 }),
          holders: fc.array(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.boolean()), {
            maxLength: 6,
          }),
        }),
        { maxLength: 12 },
      ),
    })
    .map(({ nodeCount, nodeStates, racks, chunkSpecs }) => {
      const nodes = Array.from({ length: nodeCount }, (_, i) =>
        node(`n${i}`, {
          state: i < minActive ? 'active' : (nodeStates[i] ?? 'active'),
          rack: racks === 0 ? null : `r${i % racks}`,
          freeBytes: 1e9,
        }),
      );
      const chunks = chunkSpecs.map((spec, i): PlanChunk => {
        const seen = new Set<number>();
        const replicas = spec.holders
          .filter(([h]) => h < nodeCount && !seen.has(h) && seen.add(h))
          .map(([h, bad]): PlanReplica => ({ nodeId: n(`n${h}`), health: bad ? 'corrupt' : 'ok' }));
        return { chunkId: chunkId(i), factor: spec.factor, sizeBytes: 1000, replicas };
      });
      return { nodes, chunks };
    });
}

const stateIn = (world: World, id: NodeId): NodeState =>
  world.nodes.find((x) => x.nodeId === id)?.state ?? 'dead';

const goodActive = (world: World, c: PlanChunk): NodeId[] =>
  c.replicas
    .filter((r) => r.health === 'ok' && stateIn(world, r.nodeId) === 'active')
    .map((r) => r.nodeId);

/** Applies a plan as if every action succeeded at once. */
function apply(world: World, actions: readonly ReplicationAction[]): World {
  const chunks = world.chunks.map((c) => {
    let replicas = [...c.replicas];
    for (const a of actions) {
      if (a.chunkId !== c.chunkId) continue;
      if (a.kind === 'delete') replicas = replicas.filter((r) => r.nodeId !== a.nodeId);
      else replicas.push({ nodeId: a.targetNodeId, health: 'ok' });
    }
    return { ...c, replicas };
  });
  const nodes = world.nodes.map((x) => {
    const used = copies(actions).filter((a) => a.targetNodeId === x.nodeId).length * 1000;
    return { ...x, freeBytes: x.freeBytes - used };
  });
  return { nodes, chunks };
}

/** The safety rules every plan obeys, whatever the input. */
function assertSafe(world: World, input: PlanInput, actions: readonly ReplicationAction[]): void {
  const after = apply(world, actions);
  world.chunks.forEach((before, i) => {
    const kept = goodActive(after, after.chunks[i] ?? before).filter((id) =>
      goodActive(world, before).includes(id),
    );
    const had = goodActive(world, before).length;
    assert.ok(
      kept.length >= Math.min(had, Math.max(1, before.factor)),
      `${before.chunkId} lost good copies`,
    );
  });
  for (const a of actions) {
    assert.equal(stateIn(world, a.kind === 'copy' ? a.targetNodeId : a.nodeId), 'active');
    if (a.kind !== 'copy') continue;
    const c = world.chunks.find((x) => x.chunkId === a.chunkId);
    assert.ok(c && goodActive(world, c).includes(a.sourceNodeId), 'copy from a bad source');
    assert.ok(!c.replicas.some((r) => r.nodeId === a.targetNodeId), 'copy onto a holder');
  }
  assertThrottle(input, actions);
}

function assertThrottle(input: PlanInput, actions: readonly ReplicationAction[]): void {
  const perNodeMax = input.throttle?.maxCopiesPerNode ?? 2;
  const totalMax = input.throttle?.maxCopiesTotal ?? 32;
  const inFlight = input.inFlight ?? [];
  const fresh = copies(actions);
  assert.ok(fresh.length === 0 || inFlight.length + fresh.length <= totalMax, 'total throttle');
  const involved = (list: readonly CopyInFlight[], id: NodeId): number =>
    list.filter((c) => c.sourceNodeId === id || c.targetNodeId === id).length;
  for (const x of input.nodes) {
    const mine = involved(fresh, x.nodeId);
    if (mine > 0)
      assert.ok(involved(inFlight, x.nodeId) + mine <= perNodeMax, `node throttle ${x.nodeId}`);
  }
}

/** The planner's input for `world`: copies in flight and unknown replicas picked by `picks`. */
function inputWith(
  world: World,
  throttle: Partial<ReplicationThrottle>,
  picks: readonly number[],
): PlanInput {
  const inFlight: CopyInFlight[] = picks.map((p) => ({
    chunkId: chunkId(p % Math.max(1, world.chunks.length)),
    sourceNodeId: n(`n${p % 5}`),
    targetNodeId: n(`n${(p + 1) % 7}`),
  }));
  const unknown = picks.map((p) => ({ nodeId: n(`n${p % 9}`), chunkId: chunkId(p % 20) }));
  return { ...world, throttle, inFlight, unknown };
}

const throttleArb = fc.record({
  maxCopiesPerNode: fc.integer({ min: 1, max: 3 }),
  maxCopiesTotal: fc.integer({ min: 1, max: 6 }),
});

describe('planReplication: properties', () => {
  test('never deletes the last good copy (nor below the factor); sources good; throttle respected', () => {
    fc.assert(
      fc.property(
        worldArb(STATES, 0),
        throttleArb,
        fc.array(fc.nat(), { maxLength: 4 }),
        (world, throttle, picks) => {
          const input = inputWith(world, throttle, picks);
          assertSafe(world, input, planReplication(input).actions);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('applying plans repeatedly brings every recoverable chunk to its factor', () => {
    fc.assert(
      fc.property(worldArb(['active', 'dead'], 4), throttleArb, (initial, throttle) => {
        let world = initial;
        let placement;
        for (let round = 0; round < 200; round++) {
          const input: PlanInput = { ...world, throttle, ...(placement ? { placement } : {}) };
          const plan = planReplication(input);
          assertSafe(world, input, plan.actions);
          if (plan.actions.length === 0) break;
          world = apply(world, plan.actions);
          placement = plan.placement;
        }
        const live = world.nodes.filter((x) => x.state === 'active').length;
        initial.chunks.forEach((c0, i) => {
          const c = world.chunks[i] ?? c0;
          if (goodActive(initial, c0).length === 0) return; // nothing to copy from
          const good = goodActive(world, c);
          assert.equal(good.length, Math.min(c.factor, live), `${c.chunkId} at ${good.length}`);
          assert.equal(new Set(good).size, good.length);
          const corrupt = c.replicas.filter(
            (r) => r.health === 'corrupt' && stateIn(world, r.nodeId) === 'active',
          );
          assert.deepEqual(corrupt, [], 'corrupt replica left behind');
        });
      }),
      { numRuns: 300 },
    );
  });
});

/** Every other chunk made healthy: its factor in good replicas on the first active nodes. */
function withHealthyChunks(world: World): World {
  const active = world.nodes.filter((x) => x.state === 'active').map((x) => x.nodeId);
  const chunks = world.chunks.map((c, i): PlanChunk => {
    if (i % 2 === 1 || c.factor > active.length) return c;
    const replicas = active
      .slice(0, c.factor)
      .map((nodeId): PlanReplica => ({ nodeId, health: 'ok' }));
    return { ...c, replicas };
  });
  return { ...world, chunks };
}

// The replication manager leaves settled chunks out of the plan's input (a healthy cluster's
// tick then allocates nothing per chunk); that must not change the plan.
describe('settled chunks', () => {
  test('a plan without the settled chunks is the same plan', () => {
    let settledSeen = 0;
    fc.assert(
      fc.property(
        worldArb(STATES, 0).map(withHealthyChunks),
        throttleArb,
        fc.array(fc.nat(), { maxLength: 4 }),
        (world, throttle, picks) => {
          const input = inputWith(world, throttle, picks);
          const copying = new Set((input.inFlight ?? []).map((copy) => copy.chunkId));
          const stateOf = (id: NodeId): NodeState => stateIn(world, id);
          const rest = world.chunks.filter((c) => {
            const replicas = c.replicas.map((r) => [r.nodeId, r] as const);
            return !chunkIsSettled(c.factor, replicas, stateOf, copying.has(c.chunkId));
          });
          settledSeen += world.chunks.length - rest.length;
          const known = new Set(world.chunks.map((c) => c.chunkId));
          const isKnownChunk = (id: ChunkId): boolean => known.has(id);
          assert.deepEqual(
            planReplication({ ...input, chunks: rest, isKnownChunk }),
            planReplication(input),
          );
        },
      ),
      { numRuns: 500 },
    );
    assert.ok(settledSeen > 50, `only ${settledSeen} settled chunks generated`);
  });

  test('settled: exactly the factor, all good, all active, no copy running', () => {
    const stateOf = (id: NodeId): NodeState => (id === n('x') ? 'inactive' : 'active');
    const ok = { health: 'ok' } as const;
    const bad = { health: 'corrupt' } as const;
    const of = (...ids: string[]) => ids.map((id) => [n(id), ok] as const);
    assert.equal(chunkIsSettled(3, of('a', 'b', 'c'), stateOf, false), true);
    assert.equal(chunkIsSettled(3, of('a', 'b', 'c'), stateOf, true), false);
    assert.equal(chunkIsSettled(3, of('a', 'b'), stateOf, false), false);
    assert.equal(chunkIsSettled(2, of('a', 'b', 'c'), stateOf, false), false);
    assert.equal(chunkIsSettled(3, of('a', 'b', 'x'), stateOf, false), false);
    assert.equal(chunkIsSettled(2, of('a', 'a'), stateOf, false), false);
    assert.equal(chunkIsSettled(2, [...of('a'), [n('b'), bad] as const], stateOf, false), false);
  });
});
