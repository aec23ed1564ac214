/**
 * Document placement (issue 4: "with 10,000 documents on 4 nodes, the fullest node holds at most
 * 1.2 times the emptiest"; every document on k nodes) by rendezvous hashing (Thaler and
 * Ravishankar): k distinct owners, the same on every node, balanced, and removing a node moves
 * only the documents that were on it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  placeDocument,
  placementWeight,
  primaryOwner,
} from '../../../src/search/balancer/index.js';

function loads(docIds: readonly string[], nodes: number[], k: number): Map<number, number> {
  const load = new Map(nodes.map((node) => [node, 0]));
  for (const docId of docIds) {
    for (const owner of placeDocument(docId, nodes, k)) load.set(owner, (load.get(owner) ?? 0) + 1);
  }
  return load;
}

function imbalance(load: Map<number, number>): number {
  const values = [...load.values()];
  return Math.max(...values) / Math.min(...values);
}

const docIds10k = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 24 }), {
  minLength: 10_000,
  maxLength: 10_000,
});

describe('placeDocument', () => {
  test('answers k distinct live nodes, deterministic, best first', () => {
    const owners = placeDocument('doc-1', [0, 1, 2, 3], 2);
    assert.equal(owners.length, 2);
    assert.notEqual(owners[0], owners[1]);
    assert.deepEqual(placeDocument('doc-1', [3, 2, 1, 0], 2), owners, 'order of ids is irrelevant');
    const [first, second] = owners;
    assert.ok(placementWeight('doc-1', first ?? -1) > placementWeight('doc-1', second ?? -1));
    assert.equal(primaryOwner('doc-1', [0, 1, 2, 3]), first);
  });

  test('answers fewer owners when fewer nodes are live; none when none are', () => {
    assert.deepEqual(placeDocument('d', [5], 2), [5]);
    assert.deepEqual(placeDocument('d', [5, 5, 5], 2), [5], 'duplicates count once');
    assert.deepEqual(placeDocument('d', [], 2), []);
    assert.equal(primaryOwner('d', []), undefined);
    assert.throws(() => placeDocument('d', [1], 0), RangeError);
    assert.throws(() => placeDocument('d', [-1], 1), RangeError);
  });

  test('the primary is the first live owner: owners of a subset are the survivors, in order', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.uniqueArray(fc.integer({ min: 0, max: 1023 }), { minLength: 1, maxLength: 12 }),
        fc.nat(),
        (docId, nodes, cut) => {
          const ranking = placeDocument(docId, nodes, nodes.length);
          const survivors = nodes.filter((_, i) => i !== cut % nodes.length);
          const expected = ranking.filter((node) => survivors.includes(node));
          assert.deepEqual(
            placeDocument(docId, survivors, Math.max(1, survivors.length)),
            expected,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  test('10,000 random doc ids on 4 nodes with k = 2: fullest <= 1.2 x emptiest', () => {
    let worst = 1;
    fc.assert(
      fc.property(docIds10k, (docIds) => {
        const ratio = imbalance(loads(docIds, [0, 1, 2, 3], 2));
        worst = Math.max(worst, ratio);
        assert.ok(ratio <= 1.2, `max/min load ${ratio.toFixed(3)}`);
      }),
      { numRuns: 10 },
    );
    assert.ok(worst < 1.1, `worst max/min over the runs: ${worst.toFixed(3)}`);
  });

  test('sequential ids on other cluster shapes stay within 1.2 as well', () => {
    const docIds = Array.from({ length: 10_000 }, (_, i) => `doc-${i}`);
    for (const [nodes, k] of [
      [[0, 1, 2, 3], 1],
      [[0, 1, 2, 3], 2],
      [[1, 2, 4, 8, 9], 2],
      [[0, 3, 5, 6, 9, 10, 12, 15], 2],
      [[0, 1, 2, 3], 3],
    ] as const) {
      const ratio = imbalance(loads(docIds, [...nodes], k));
      assert.ok(ratio <= 1.2, `${nodes.length} nodes, k=${k}: max/min ${ratio.toFixed(3)}`);
    }
  });

  test('removing a node moves only the documents that were on it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 16 }), {
          minLength: 500,
          maxLength: 500,
        }),
        fc.integer({ min: 0, max: 3 }),
        (docIds, removed) => {
          const before = [0, 1, 2, 3];
          const after = before.filter((node) => node !== removed);
          for (const docId of docIds) {
            const old = placeDocument(docId, before, 2);
            const now = placeDocument(docId, after, 2);
            if (!old.includes(removed)) {
              assert.deepEqual(now, old, `${JSON.stringify(docId)} moved`);
            } else {
              const kept = old.filter((node) => node !== removed);
              for (const node of kept) assert.ok(now.includes(node), 'a surviving copy moved');
            }
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
