// Rule (distrisearch-architecture.md: nodes sit on a d-dimensional hypercube, a node's
// neighbours are the ids one bit apart; issue 6: "the hypercube drawn with live and dead nodes
// and the current leader"): the Search page's cube has a vertex for every slot (or every known
// node of a large cube), an edge exactly between drawn neighbours, a node live only when its
// status answered, dead when it is known (registered or listed by a peer) but silent, and as
// leader the id most nodes follow; and the drawing never puts two vertices on one point or a
// vertex on an edge that is not its own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { SearchNodeView, WireSearchStatus } from '../../src/web/api-types.js';
import {
  agreedLeader,
  buildCubeView,
  cubePosition,
  MAX_DRAWN_SLOTS,
} from '../../src/web/hypercube-view.pure.js';

function status(
  nodeId: number,
  leaderId: number | null,
  live: number[],
  dimensions = 4,
): WireSearchStatus {
  return {
    node_id: nodeId,
    binary_id: nodeId.toString(2).padStart(dimensions, '0'),
    url: `http://127.0.0.1:${9300 + nodeId}`,
    dimensions,
    replicas: 2,
    neighbors: [],
    live_nodes: live,
    leader_id: leaderId,
    leader_url: null,
    is_leader: nodeId === leaderId,
    election_role: nodeId === leaderId ? 'leader' : 'follower',
    doc_count: 0,
    term_count: 0,
    primary_doc_count: 0,
  };
}

function liveNode(
  nodeId: number,
  leaderId: number | null,
  live: number[],
  dimensions = 4,
): SearchNodeView {
  return {
    server_id: `search-${nodeId}`,
    url: `http://127.0.0.1:${9300 + nodeId}`,
    registry_status: 'active',
    node_id: nodeId,
    status: { ok: true, data: status(nodeId, leaderId, live, dimensions) },
  };
}

function silentNode(
  nodeId: number,
  registryStatus: 'active' | 'inactive' = 'active',
): SearchNodeView {
  return {
    server_id: `search-${nodeId}`,
    url: `http://127.0.0.1:${9300 + nodeId}`,
    registry_status: registryStatus,
    node_id: nodeId,
    status: { ok: false, error: 'connect ECONNREFUSED' },
  };
}

const distance = (a: { x: number; y: number }, b: { x: number; y: number }): number =>
  Math.hypot(a.x - b.x, a.y - b.y);

/** Distance from p to the segment ab. */
function segmentDistance(
  p: { x: number; y: number },
  a: { x: number; y: number },
  b: { x: number; y: number },
): number {
  const [dx, dy] = [b.x - a.x, b.y - a.y];
  const t = Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

describe('the drawn hypercube', () => {
  test('cubes drawn whole keep vertices apart and off the edges of others', () => {
    for (let d = 1; 2 ** d <= MAX_DRAWN_SLOTS; d += 1) {
      const points = Array.from({ length: 2 ** d }, (_, id) => cubePosition(id, d));
      const xs = points.map((p) => p.x);
      const ys = points.map((p) => p.y);
      const extent = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
      for (let a = 0; a < points.length; a += 1) {
        for (let b = a + 1; b < points.length; b += 1) {
          assert.ok(distance(points[a]!, points[b]!) > 0.1 * extent, `d=${d}: ${a} and ${b} apart`);
        }
        for (let from = 0; from < points.length; from += 1) {
          for (let bit = 0; bit < d; bit += 1) {
            const to = from ^ (1 << bit);
            if (to < from || from === a || to === a) continue;
            const gap = segmentDistance(points[a]!, points[from]!, points[to]!);
            assert.ok(gap > 0.04 * extent, `d=${d}: ${a} is off the edge ${from}-${to}`);
          }
        }
      }
    }
  });

  test('larger cubes still give every slot its own point', () => {
    for (const d of [5, 6, 8, 10]) {
      const seen = new Set(
        Array.from({ length: 2 ** d }, (_, id) => JSON.stringify(cubePosition(id, d))),
      );
      assert.equal(seen.size, 2 ** d, `d=${d}`);
    }
  });

  test('three live nodes of a 4-cube: 16 slots, 32 edges, two of them live', () => {
    const live = [0, 1, 2];
    const cube = buildCubeView(live.map((id) => liveNode(id, 2, live)));
    assert.ok(cube);
    assert.equal(cube.dimensions, 4);
    assert.equal(cube.vertices.length, 16);
    assert.equal(cube.edges.length, 32);
    assert.deepEqual(
      cube.vertices.filter((v) => v.state === 'live').map((v) => v.node_id),
      [0, 1, 2],
    );
    assert.deepEqual(
      cube.edges.filter((e) => e.state === 'live').map((e) => [e.from, e.to]),
      [
        [0, 1],
        [0, 2],
      ],
    );
    assert.equal(cube.leader_id, 2);
    assert.deepEqual(
      cube.vertices.filter((v) => v.leader).map((v) => v.binary_id),
      ['0010'],
    );
    assert.equal(cube.sparse, false);
  });

  test('a silent node is dead, and so are nodes only its peers still list', () => {
    const cube = buildCubeView([
      liveNode(0, 3, [0, 1, 3]),
      silentNode(1),
      silentNode(5, 'inactive'),
    ]);
    assert.ok(cube);
    const stateOf = (id: number): string | undefined =>
      cube.vertices.find((v) => v.node_id === id)?.state;
    assert.equal(stateOf(0), 'live');
    assert.equal(stateOf(1), 'dead');
    assert.equal(stateOf(3), 'dead', 'listed live by node 0, but it did not answer us');
    assert.equal(stateOf(5), 'dead');
    assert.equal(stateOf(2), 'empty');
    assert.equal(cube.edges.find((e) => e.from === 0 && e.to === 1)?.state, 'dead');
    assert.equal(cube.edges.find((e) => e.from === 0 && e.to === 2)?.state, 'empty');
    assert.equal(cube.leader_id, 3, 'the leader the live nodes follow, even if it is silent');
  });

  test('no node answered: the default dimension, every known node dead, no leader', () => {
    const cube = buildCubeView([silentNode(0), silentNode(6)]);
    assert.ok(cube);
    assert.equal(cube.dimensions, 4);
    assert.equal(cube.leader_id, null);
    assert.equal(cube.vertices.filter((v) => v.state === 'dead').length, 2);
    assert.equal(buildCubeView([]), null);
  });

  test('a large cube draws only the known nodes', () => {
    const live = [0, 1, 512, 513];
    const cube = buildCubeView(live.map((id) => liveNode(id, 513, live, 10)));
    assert.ok(cube);
    assert.equal(cube.sparse, true);
    assert.deepEqual(
      cube.vertices.map((v) => v.node_id),
      live,
    );
    assert.deepEqual(
      cube.edges.map((e) => [e.from, e.to]),
      [
        [0, 1],
        [0, 512],
        [1, 513],
        [512, 513],
      ],
    );
  });

  test('the leader is the id most nodes follow; a tie goes to the higher id', () => {
    assert.equal(agreedLeader([status(0, 3, []), status(1, 3, []), status(3, 2, [])]), 3);
    assert.equal(agreedLeader([status(0, 1, []), status(1, 2, [])]), 2);
    assert.equal(agreedLeader([status(0, null, [])]), null);
    assert.equal(agreedLeader([]), null);
  });

  test('property: edges join drawn neighbours only, live exactly when both ends are live', () => {
    const scenario = fc.integer({ min: 1, max: 6 }).chain((d) =>
      fc.tuple(
        fc.constant(d),
        fc.array(fc.constantFrom<'live' | 'dead' | 'none'>('live', 'dead', 'none'), {
          minLength: 2 ** d,
          maxLength: 2 ** d,
        }),
      ),
    );
    fc.assert(
      fc.property(scenario, ([d, states]) => {
        const liveIds = states.flatMap((s, id) => (s === 'live' ? [id] : []));
        const nodes = states.flatMap((s, id) =>
          s === 'live' ? [liveNode(id, null, liveIds, d)] : s === 'dead' ? [silentNode(id)] : [],
        );
        const cube = buildCubeView(nodes);
        if (nodes.length === 0) return assert.equal(cube, null);
        assert.ok(cube);
        const drawn = new Map(cube.vertices.map((v) => [v.node_id, v]));
        if (!cube.sparse)
          assert.equal(cube.edges.length, (cube.dimensions * 2 ** cube.dimensions) / 2);
        for (const edge of cube.edges) {
          const diff = edge.from ^ edge.to;
          assert.ok(diff > 0 && (diff & (diff - 1)) === 0, 'one bit apart');
          const [a, b] = [drawn.get(edge.from), drawn.get(edge.to)];
          assert.ok(a && b);
          assert.equal(edge.state === 'live', a.state === 'live' && b.state === 'live');
        }
        for (const [id, s] of states.entries()) {
          const vertex = drawn.get(id);
          if (s === 'live') assert.equal(vertex?.state, 'live');
          else if (s === 'dead' && vertex) assert.equal(vertex.state, 'dead');
        }
        return undefined;
      }),
      { numRuns: 200 },
    );
  });
});
