// Rule (issue 4, "Every document is stored on k nodes" and "Joining"): a write goes to the k
// owners that rendezvous placement picks among the live ids and is acknowledged when at least
// one stored it; when a node dies, re-replication copies each of its documents from a surviving
// copy to the document's next owner, and copies a node no longer owns are dropped only once
// every owner holds them. New nodes take the lowest free id of the cube.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { placeDocument } from '../../../src/search/balancer/index.js';
import type { StoredDocument } from '../../../src/search/index/index.js';
import { peersFromServers } from '../../../src/search/node/cluster-view.js';
import { JoinAllocator, lowestFreeId } from '../../../src/search/node/join.js';
import type { ClusterView } from '../../../src/search/node/cluster-view.js';
import type { LocalNode } from '../../../src/search/node/local-node.js';
import { createLogger } from '../../../src/core/logger.js';
import { planRepair, Repairer } from '../../../src/search/node/repair.js';
import { groupByOwner, placeAndStore } from '../../../src/search/node/writer.js';
import type { ServerRecord } from '../../../src/registry/index.js';

const docs: StoredDocument[] = Array.from({ length: 400 }, (_, i) => ({
  doc_id: `d${i}`,
  content: `text ${i}`,
  metadata: {},
}));

describe('placement of writes', () => {
  test('every document goes to exactly its k owners', () => {
    const groups = groupByOwner(docs, [0, 1, 2, 3], 2);
    const copies = new Map<string, number[]>();
    for (const [node, held] of groups)
      for (const doc of held) copies.set(doc.doc_id, [...(copies.get(doc.doc_id) ?? []), node]);
    for (const doc of docs) {
      assert.deepEqual(
        copies.get(doc.doc_id)?.sort(),
        placeDocument(doc.doc_id, [0, 1, 2, 3], 2).sort(),
      );
    }
  });

  test('all owners answer: each document stored on both, in chunks', async () => {
    const requests: number[] = [];
    const outcome = await placeAndStore(
      docs,
      [0, 1, 2, 3],
      async (_node, batch) => void requests.push(batch.length),
      {
        k: 2,
        chunkDocs: 50,
      },
    );
    assert.equal(outcome.failedDocs.length, 0);
    assert.equal(outcome.underReplicated, 0);
    assert.ok(requests.every((size) => size <= 50));
    assert.equal(
      requests.reduce((a, b) => a + b, 0),
      docs.length * 2,
    );
  });

  test('an owner down: the other copy acknowledges; documents that lost both owners move on', async () => {
    const failed: number[] = [];
    const outcome = await placeAndStore(
      docs,
      [0, 1, 2, 3],
      async (node) => {
        if (node === 1 || node === 2) throw new Error('down');
      },
      { k: 2, chunkDocs: 1000, onNodeFailed: (id) => failed.push(id) },
    );
    assert.deepEqual(outcome.failedDocs, []);
    assert.deepEqual(failed.sort(), [1, 2]);
    for (const doc of docs) {
      const stored = outcome.storedOn.get(doc.doc_id) ?? [];
      assert.ok(stored.length >= 1);
      assert.ok(stored.every((node) => node === 0 || node === 3));
    }
    assert.ok(outcome.underReplicated > 0);
  });

  test('no node answers: every document is reported failed', async () => {
    const outcome = await placeAndStore(
      docs.slice(0, 10),
      [0, 1],
      async () => Promise.reject(new Error('down')),
      {
        k: 2,
        chunkDocs: 10,
      },
    );
    assert.equal(outcome.failedDocs.length, 10);
  });

  test('a doc_id twice in one batch is stored once, the last version', async () => {
    const stored: StoredDocument[] = [];
    const batch = [
      { doc_id: 'x', content: 'first', metadata: {} },
      { doc_id: 'x', content: 'second', metadata: {} },
    ];
    await placeAndStore(batch, [0], async (_node, chunk) => void stored.push(...chunk), {
      k: 1,
      chunkDocs: 10,
    });
    assert.deepEqual(
      stored.map((doc) => doc.content),
      ['second'],
    );
  });
});

describe('re-replication plan', () => {
  test('after a node dies, the surviving copies are pushed to the next owner; property over live sets', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 3, maxLength: 8 }),
        fc.nat(),
        (before, pick) => {
          const dead = before[pick % before.length] as number;
          const after = before.filter((id) => id !== dead);
          // What each node holds before the failure: its documents under the old placement.
          const held = new Map<number, string[]>(before.map((id) => [id, []]));
          for (const doc of docs.slice(0, 120))
            for (const owner of placeDocument(doc.doc_id, before, 2))
              held.get(owner)?.push(doc.doc_id);
          const copies = new Map<string, Set<number>>();
          for (const node of after) {
            for (const docId of held.get(node) ?? [])
              copies.set(docId, new Set([...(copies.get(docId) ?? []), node]));
            const plan = planRepair(node, held.get(node) ?? [], after, 2);
            assert.deepEqual(plan.strays, []);
            for (const [target, ids] of plan.checks) {
              assert.notEqual(target, node);
              for (const docId of ids)
                copies.set(docId, new Set([...(copies.get(docId) ?? []), target]));
            }
          }
          // Every document is now on exactly its new owners.
          for (const doc of docs.slice(0, 120)) {
            assert.deepEqual(
              [...(copies.get(doc.doc_id) ?? [])].sort(),
              placeDocument(doc.doc_id, after, 2).sort(),
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a node that came back finds the copies made meanwhile to be strays elsewhere', () => {
    const all = [0, 1, 2, 3];
    const without1 = [0, 2, 3];
    const docIds = docs.map((doc) => doc.doc_id);
    // A document placed on {x, 1} got a copy on its third node while 1 was down.
    const moved = docIds.filter((id) => placeDocument(id, all, 2).includes(1));
    for (const docId of moved) {
      const third = placeDocument(docId, without1, 2).find(
        (id) => !placeDocument(docId, all, 2).includes(id),
      );
      if (third === undefined) continue;
      const plan = planRepair(third, [docId], all, 2);
      assert.deepEqual(plan.strays, [docId]);
      assert.deepEqual([...plan.checks.keys()].sort(), placeDocument(docId, all, 2).sort());
    }
  });
});

describe('the repair loop', () => {
  test('a copy stored here after the last run, that this node does not own, starts a run', async () => {
    const live = [0, 1, 2, 3];
    // Only what a run and storedFromPeer read: the live set, its version and the held documents.
    const view = { version: 1, liveIds: () => live } as unknown as ClusterView;
    const local = { index: { documents: () => [] } } as unknown as LocalNode;
    const repairer = new Repairer({
      self: 0,
      k: 2,
      local,
      view,
      transport: { missing: () => Promise.resolve([]), store: () => Promise.resolve() },
      logger: createLogger({ name: 'repair-test', level: 'silent' }),
      delayMs: 1,
      intervalMs: 60_000,
      chunkDocs: 10,
    });
    const docIds = docs.map((doc) => doc.doc_id);
    const owned = docIds.filter((id) => placeDocument(id, live, 2).includes(0));
    const foreign = docIds.find((id) => !placeDocument(id, live, 2).includes(0));
    assert.ok(foreign !== undefined && owned.length > 0);
    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));
    repairer.storedFromPeer(owned);
    await settle();
    assert.equal(repairer.stats.runs, 0, 'copies it owns need no run');
    repairer.storedFromPeer([...owned, foreign]);
    await settle();
    assert.equal(repairer.stats.runs, 1, 'a stray makes the node dirty');
    await repairer.stop();
  });
});

describe('the repair loop reports clean runs', () => {
  test('onClean hears a run that confirmed every copy, not one whose push failed', async () => {
    const live = [0, 1, 2];
    const view = { version: 1, liveIds: () => live } as unknown as ClusterView;
    // Documents node 0 owns (no strays to delete): the run pushes each to its other owner.
    const held = docs.filter((doc) => placeDocument(doc.doc_id, live, 2).includes(0)).slice(0, 20);
    const local = {
      index: { documents: () => held },
      get: (id: string) => held.find((doc) => doc.doc_id === id),
    } as unknown as LocalNode;
    let failPushes = true;
    const clean: number[][] = [];
    const repairer = new Repairer({
      self: 0,
      k: 2,
      local,
      view,
      transport: {
        missing: (_node, ids) => Promise.resolve([...ids]),
        store: () => (failPushes ? Promise.reject(new Error('refused')) : Promise.resolve()),
      },
      logger: createLogger({ name: 'repair-test', level: 'silent' }),
      delayMs: 60_000,
      intervalMs: 60_000,
      chunkDocs: 10,
      onClean: (over) => clean.push([...over]),
    });
    await repairer.run();
    assert.deepEqual(clean, [], 'a failed push is no clean run');
    failPushes = false;
    await repairer.run();
    assert.deepEqual(clean, [live]);
    await repairer.stop();
  });
});

describe('node ids', () => {
  test('lowest free id', () => {
    assert.equal(lowestFreeId(2, new Set()), 0);
    assert.equal(lowestFreeId(2, new Set([0, 1, 3])), 2);
    assert.equal(lowestFreeId(2, new Set([0, 1, 2, 3])), undefined);
  });

  test('the leader hands out the lowest id free of live nodes and recent reservations', () => {
    const joins = new JoinAllocator(3, 1_000);
    assert.equal(joins.allocate('http://a', [0, 1], 0), 2);
    assert.equal(joins.allocate('http://a', [0, 1], 10), 2, 'the same joiner asking again');
    assert.equal(joins.allocate('http://b', [0, 1], 20), 3);
    assert.equal(
      joins.allocate('http://c', [0, 1, 2], 30),
      4,
      'a reservation lapses once the id is live',
    );
    assert.equal(joins.allocate('http://d', [0, 1, 2], 5_000), 3, 'or after reserveMs');
    assert.throws(() => new JoinAllocator(1, 1_000).allocate('http://e', [0, 1], 0), /every id/);
  });

  test('the registry list maps search nodes by hypercube id; the fresher of two claims wins', () => {
    const record = (serverId: string, nodeId: unknown, heartbeat: number): ServerRecord => ({
      server_id: serverId,
      role: 'search-node',
      host: '127.0.0.1',
      port: 1,
      url: `http://${serverId}`,
      metadata: { node_id: nodeId },
      status: 'active',
      registered_at: 0,
      last_heartbeat: heartbeat,
      recoveries: 0,
    });
    const peers = peersFromServers([
      record('a', 0, 5),
      record('b', 1, 5),
      record('c', 1, 9),
      record('d', 'x', 9),
      record('e', -1, 9),
    ]);
    assert.deepEqual([...peers.keys()].sort(), [0, 1]);
    assert.equal(peers.get(1)?.serverId, 'c');
  });
});
