/**
 * The DataBalancer of distrisearch-balancer.md: locate_terms answers which live nodes hold the
 * terms; update_node_index is idempotent ("actualizar mismo término varias veces es seguro"):
 * a replayed or older seq changes nothing, a FULL report replaces the node's entry; nodes are
 * dead after 30 s without a heartbeat ("si un nodo muere, se limpia en 30s"); get_stats has the
 * seed's shape plus the global statistics BM25 needs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DataBalancer, type IndexUpdate } from '../../../src/search/balancer/index.js';

const url = (id: number) => `http://127.0.0.1:${9301 + id}`;
const figures = (docCount: number, totalLength: number) => ({
  docCount,
  termCount: 10,
  totalLength,
});

function withNodes(ids: number[], nowMs = 0, options = {}): DataBalancer {
  const balancer = new DataBalancer({ nodeId: 99, ...options });
  for (const id of ids) balancer.registerNode(id, url(id), nowMs);
  return balancer;
}

function update(
  nodeId: number,
  seq: number,
  added: Record<string, number>,
  removed: string[] = [],
) {
  return { nodeId, seq, added, removed } satisfies IndexUpdate;
}

describe('DataBalancer.locateTerms', () => {
  test('answers, per term, the nodes holding it with url and df, by node id', () => {
    const balancer = withNodes([1, 2, 3]);
    balancer.updateNodeIndex(update(1, 1, { distributed: 2, consensus: 1, raft: 4 }), 0);
    balancer.updateNodeIndex(update(2, 1, { hypercube: 1, routing: 3, raft: 1 }), 0);
    const located = balancer.locateTerms(['raft', 'hypercube', 'missing'], 1);
    assert.deepEqual(located, {
      raft: [
        { node_id: 1, url: url(1), df: 4 },
        { node_id: 2, url: url(2), df: 1 },
      ],
      hypercube: [{ node_id: 2, url: url(2), df: 1 }],
      missing: [],
    });
    assert.deepEqual(balancer.locate(['consensus', 'routing'], 1).nodes, [1, 2]);
  });

  test('leaves out dead nodes and nodes that never registered', () => {
    const balancer = withNodes([1, 2], 0, { deadAfterMs: 30_000 });
    balancer.updateNodeIndex(update(1, 1, { raft: 1 }), 0);
    balancer.updateNodeIndex(update(2, 1, { raft: 1 }), 0);
    balancer.updateNodeIndex(update(3, 1, { raft: 1 }), 0); // no url known for node 3
    balancer.heartbeat(2, url(2), figures(1, 5), 20_000);
    assert.deepEqual(balancer.locate(['raft'], 29_999).nodes, [1, 2]);
    assert.deepEqual(balancer.locate(['raft'], 30_000).nodes, [2], 'node 1 silent for 30 s');
    balancer.heartbeat(1, url(1), figures(1, 5), 31_000);
    assert.deepEqual(balancer.locate(['raft'], 31_000).nodes, [1, 2], 'node 1 recovered');
    balancer.heartbeat(3, url(3), figures(1, 5), 31_000);
    assert.deepEqual(balancer.locate(['raft'], 31_000).nodes, [1, 2, 3], 'node 3 registered');
  });

  test('a dead node is forgotten, terms and all, after forgetAfterMs', () => {
    const balancer = withNodes([1], 0, { deadAfterMs: 1000, forgetAfterMs: 5000 });
    balancer.updateNodeIndex(update(1, 1, { raft: 1 }), 0);
    balancer.sweep(1000);
    assert.equal(balancer.getStats(1000).nodes[0]?.status, 'inactive');
    assert.equal(balancer.globalIndex.termCount, 1, 'kept while dead');
    balancer.sweep(6000);
    assert.equal(balancer.globalIndex.termCount, 0);
    assert.deepEqual(balancer.getStats(6000).nodes, []);
  });

  test('a node that changes its url is located at the new url', () => {
    const balancer = withNodes([1]);
    balancer.updateNodeIndex(update(1, 1, { raft: 1 }), 0);
    assert.equal(balancer.locateTerms(['raft'], 0)['raft']?.[0]?.url, url(1));
    balancer.heartbeat(1, 'http://10.0.0.9:9301', figures(1, 1), 1);
    assert.equal(balancer.locateTerms(['raft'], 1)['raft']?.[0]?.url, 'http://10.0.0.9:9301');
  });
});

describe('DataBalancer.updateNodeIndex is idempotent', () => {
  const updates = [
    update(1, 1, { a: 1, b: 1 }),
    update(1, 2, { c: 2 }, ['a']),
    update(1, 3, { a: 3 }, ['b']),
    update(2, 1, { a: 1, d: 1 }),
    update(2, 2, {}, ['d']),
  ];

  test('replaying the same seq twice changes nothing', () => {
    const once = withNodes([1, 2]);
    const twice = withNodes([1, 2]);
    for (const u of updates) {
      assert.equal(once.updateNodeIndex(u, 0).applied, true);
      assert.equal(twice.updateNodeIndex(u, 0).applied, true);
      assert.equal(twice.updateNodeIndex(u, 0).applied, false);
    }
    assert.deepEqual(twice.toSnapshot(0), once.toSnapshot(0));
    assert.deepEqual(twice.getStats(0).updates, { applied: 5, ignored: 5 });
  });

  test('an older seq arriving late is ignored', () => {
    const balancer = withNodes([1]);
    balancer.updateNodeIndex(update(1, 5, { fresh: 1 }, ['stale']), 0);
    const late = balancer.updateNodeIndex(update(1, 4, { stale: 1 }, ['fresh']), 0);
    assert.equal(late.applied, false);
    assert.deepEqual(Object.keys(balancer.locateTerms(['fresh'], 0)), ['fresh']);
    assert.deepEqual(balancer.locate(['fresh', 'stale'], 0).terms['stale'], []);
    assert.deepEqual(balancer.locate(['fresh'], 0).nodes, [1]);
  });

  test('any replay of any prefix, in any order, gives the state of the updates in order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: updates.length - 1 }), { maxLength: 30 }), (replays) => {
        const reference = withNodes([1, 2]);
        for (const u of updates) reference.updateNodeIndex(u, 0);
        const balancer = withNodes([1, 2]);
        for (const u of updates) {
          balancer.updateNodeIndex(u, 0);
          for (const i of replays) {
            const old = updates[i];
            // only replays of updates already delivered: duplicates and late deliveries
            if (old !== undefined && updates.indexOf(old) <= updates.indexOf(u)) {
              balancer.updateNodeIndex(old, 0);
            }
          }
        }
        assert.deepEqual(balancer.toSnapshot(0), reference.toSnapshot(0));
      }),
      { numRuns: 200 },
    );
  });

  test('a FULL report replaces the node entry and is itself idempotent', () => {
    const balancer = withNodes([1, 2]);
    balancer.updateNodeIndex(update(1, 1, { a: 1, b: 2 }), 0);
    balancer.updateNodeIndex(update(2, 1, { a: 1 }), 0);
    const full = { nodeId: 1, seq: 7, added: { b: 5, c: 1 }, full: true } satisfies IndexUpdate;
    assert.equal(balancer.updateNodeIndex(full, 0).applied, true);
    assert.deepEqual(balancer.locateTerms(['a', 'b', 'c'], 0), {
      a: [{ node_id: 2, url: url(2), df: 1 }],
      b: [{ node_id: 1, url: url(1), df: 5 }],
      c: [{ node_id: 1, url: url(1), df: 1 }],
    });
    const before = balancer.toSnapshot(0);
    assert.equal(balancer.updateNodeIndex(full, 0).applied, false);
    assert.equal(balancer.updateNodeIndex({ ...full, seq: 6 }, 0).applied, false);
    assert.deepEqual(balancer.toSnapshot(0), before);
  });

  test('a FULL report numbered like an earlier increment is applied once, for a new leader', () => {
    const balancer = withNodes([1]);
    // The node sent an increment to the new leader before its FULL report, both at seq 9.
    const first = balancer.updateNodeIndex(update(1, 9, { late: 1 }), 0);
    assert.deepEqual(first, { applied: true, fullRequired: true });
    const full = { nodeId: 1, seq: 9, added: { x: 1, late: 1 }, full: true } satisfies IndexUpdate;
    assert.deepEqual(balancer.updateNodeIndex(full, 0), { applied: true, fullRequired: false });
    assert.deepEqual(balancer.updateNodeIndex(full, 0), { applied: false, fullRequired: false });
    assert.deepEqual(balancer.locate(['x'], 0).nodes, [1]);
  });

  test('heartbeats and updates tell a node without a FULL report to send one', () => {
    const balancer = new DataBalancer();
    assert.deepEqual(balancer.heartbeat(4, url(4), figures(1, 1), 0), { fullRequired: true });
    balancer.updateNodeIndex({ nodeId: 4, seq: 1, added: {}, full: true }, 0);
    assert.deepEqual(balancer.heartbeat(4, url(4), figures(1, 1), 0), { fullRequired: false });
  });

  test('an update carrying a url registers the node; unregisterNode forgets everything', () => {
    const balancer = new DataBalancer();
    balancer.updateNodeIndex({ ...update(6, 3, { raft: 1 }), url: url(6) }, 0);
    assert.deepEqual(balancer.locate(['raft'], 0).nodes, [6]);
    assert.equal(balancer.unregisterNode(6), true);
    assert.deepEqual(balancer.locate(['raft'], 0).nodes, []);
    assert.equal(balancer.globalIndex.termCount, 0);
    // Its seq is forgotten too: a node whose data was wiped can start again from 1.
    assert.equal(
      balancer.updateNodeIndex({ ...update(6, 1, { raft: 1 }), url: url(6) }, 0).applied,
      true,
    );
    assert.equal(balancer.unregisterNode(42), false);
  });
});

describe('DataBalancer.getStats', () => {
  test('has the seed shape and sums doc_count and total_length over active nodes', () => {
    const balancer = withNodes([1, 2, 3], 0, { deadAfterMs: 10_000 });
    balancer.heartbeat(1, url(1), figures(100, 1000), 5000);
    balancer.heartbeat(2, url(2), figures(50, 1500), 5000);
    balancer.heartbeat(3, url(3), figures(7, 70), 0);
    balancer.updateNodeIndex(update(1, 1, { a: 1, b: 1 }), 5000);
    balancer.updateNodeIndex(update(2, 1, { b: 1, c: 1 }), 5000);
    const stats = balancer.getStats(12_000); // node 3 is dead by now
    assert.equal(stats.node_id, 99);
    assert.equal(stats.total_nodes, 3);
    assert.equal(stats.active_nodes, 2);
    assert.equal(stats.total_terms, 3);
    assert.equal(stats.doc_count, 150);
    assert.equal(stats.total_length, 2500);
    assert.equal(stats.avg_doc_length, 2500 / 150);
    assert.deepEqual(stats.global_index, { terms: 3, nodes: 2 });
    assert.deepEqual(stats.node_registry, {
      total_nodes: 3,
      active_nodes: 2,
      total_documents: 150,
      total_terms: 20,
    });
    assert.deepEqual(
      stats.nodes.map((node) => [node.node_id, node.status, node.indexed_terms, node.last_seq]),
      [
        [1, 'active', 2, 1],
        [2, 'active', 2, 1],
        [3, 'inactive', 0, null],
      ],
    );
    assert.deepEqual(balancer.globalStats(12_000), {
      doc_count: 150,
      total_length: 2500,
      avg_doc_length: 2500 / 150,
    });
  });

  test('an empty balancer answers zeros', () => {
    const stats = new DataBalancer().getStats(0);
    assert.equal(stats.node_id, null);
    assert.equal(stats.doc_count, 0);
    assert.equal(stats.avg_doc_length, 0);
    assert.deepEqual(stats.nodes, []);
  });
});

describe('DataBalancer.restore', () => {
  test('fills in only the nodes that have not reported yet, asking them for FULL reports', () => {
    const old = withNodes([1, 2]);
    old.updateNodeIndex({ nodeId: 1, seq: 4, added: { a: 1, old: 1 }, full: true }, 0);
    old.updateNodeIndex({ nodeId: 2, seq: 8, added: { b: 1 }, full: true }, 0);
    const snapshot = old.toSnapshot(0);

    const leader = new DataBalancer();
    leader.updateNodeIndex({ nodeId: 1, seq: 5, added: { a: 1 }, full: true, url: url(1) }, 100);
    assert.deepEqual(leader.restore(snapshot, 100), [2]);
    assert.deepEqual(leader.locate(['old'], 100).nodes, [], 'node 1 keeps its own report');
    assert.deepEqual(leader.locate(['b'], 100).nodes, [2]);
    assert.equal(leader.heartbeat(2, url(2), figures(1, 1), 100).fullRequired, true);
    assert.equal(
      leader.updateNodeIndex({ nodeId: 2, seq: 8, added: { c: 1 }, full: true }, 100).applied,
      true,
    );
    assert.deepEqual(leader.locate(['b', 'c'], 100).nodes, [2]);
    assert.deepEqual(leader.locate(['b'], 100).terms['b'], []);
  });

  test('with liveNodeIds, only those nodes start active', () => {
    const old = withNodes([1, 2]);
    old.updateNodeIndex(update(1, 1, { a: 1 }), 0);
    old.updateNodeIndex(update(2, 1, { a: 1 }), 0);
    const leader = new DataBalancer();
    leader.restore(old.toSnapshot(0), 50, [2]);
    assert.deepEqual(leader.locate(['a'], 50).nodes, [2]);
  });
});
