/**
 * The global index of distrisearch-balancer.md: term -> nodes that hold it; add_term registers a
 * term on a node, get_nodes_for_terms is an OR (a union), remove_node cleans the node from every
 * term. Checked by examples and against a plain model (a list of (term, node, df) triples).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { GlobalIndex } from '../../../src/search/balancer/index.js';

function entries(index: GlobalIndex, term: string): [number, number][] {
  return [...index.getNodesForTerm(term)].sort((a, b) => a[0] - b[0]);
}

describe('GlobalIndex', () => {
  test('addTerm records the df of a term on a node and replaces it', () => {
    const index = new GlobalIndex();
    assert.equal(index.addTerm('raft', 1, 3), true);
    assert.equal(index.addTerm('raft', 2, 1), true);
    assert.equal(index.addTerm('raft', 1, 3), false, 'same df: no change');
    assert.equal(index.addTerm('raft', 1, 5), true);
    assert.deepEqual(entries(index, 'raft'), [
      [1, 5],
      [2, 1],
    ]);
    assert.equal(index.termCount, 1);
    assert.deepEqual(entries(index, 'paxos'), []);
  });

  test('a df of 0 is an entry (the node is located) and negative dfs are refused', () => {
    const index = new GlobalIndex();
    index.addTerm('hypercube', 4, 0);
    assert.deepEqual(index.getNodesForTerms(['hypercube']), [4]);
    assert.throws(() => index.addTerm('hypercube', 4, -1), RangeError);
    assert.throws(() => index.addTerm('hypercube', 4, 1.5), RangeError);
  });

  test('getNodesForTerms is an OR: the union of the nodes of each term, ascending', () => {
    const index = new GlobalIndex();
    index.addTerm('distributed', 1, 1);
    index.addTerm('consensus', 1, 1);
    index.addTerm('raft', 3, 2);
    index.addTerm('hypercube', 2, 1);
    assert.deepEqual(index.getNodesForTerms(['consensus', 'raft']), [1, 3]);
    assert.deepEqual(index.getNodesForTerms(['hypercube', 'missing']), [2]);
    assert.deepEqual(index.getNodesForTerms(['missing']), []);
    assert.deepEqual(index.getNodesForTerms([]), []);
  });

  test('removeNode cleans the node from every term and drops terms left empty', () => {
    const index = new GlobalIndex();
    for (const term of ['a', 'b', 'c']) index.addTerm(term, 7, 1);
    index.addTerm('b', 8, 2);
    assert.deepEqual(index.removeNode(7).sort(), ['a', 'b', 'c']);
    assert.deepEqual(entries(index, 'a'), []);
    assert.deepEqual(entries(index, 'b'), [[8, 2]]);
    assert.equal(index.termCount, 1);
    assert.equal(index.nodeTermCount(7), 0);
    assert.deepEqual(index.nodeIds(), [8]);
    assert.deepEqual(index.removeNode(7), [], 'removing twice changes nothing');
  });

  test('applyUpdate adds and removes terms of one node and answers what changed', () => {
    const index = new GlobalIndex();
    index.addTerm('java', 3, 1);
    const changed = index.applyUpdate(3, { added: { python: 2, docker: 1 }, removed: ['java'] });
    assert.deepEqual(changed.sort(), ['docker', 'java', 'python']);
    assert.deepEqual(index.getNodesForTerms(['java']), []);
    assert.deepEqual([...index.termsOfNode(3)].sort(), [
      ['docker', 1],
      ['python', 2],
    ]);
    assert.deepEqual(index.applyUpdate(3, { added: { python: 2 }, removed: ['java'] }), []);
  });

  test('replaceNode (a FULL report) replaces the whole entry of the node', () => {
    const index = new GlobalIndex();
    index.applyUpdate(1, { added: { a: 1, b: 2, c: 3 }, removed: [] });
    index.addTerm('b', 2, 9);
    const changed = index.replaceNode(1, { b: 2, c: 4, d: 1 });
    assert.deepEqual(changed.sort(), ['a', 'c', 'd']);
    assert.deepEqual([...index.termsOfNode(1)].sort(), [
      ['b', 2],
      ['c', 4],
      ['d', 1],
    ]);
    assert.deepEqual(entries(index, 'b'), [
      [1, 2],
      [2, 9],
    ]);
  });

  test('terms named like Object.prototype members are ordinary terms', () => {
    const index = new GlobalIndex();
    const added = JSON.parse('{"__proto__": 2, "constructor": 1, "toString": 3}') as Record<
      string,
      number
    >;
    index.replaceNode(5, added);
    assert.deepEqual(index.getNodesForTerms(['__proto__', 'constructor', 'toString']), [5]);
    assert.deepEqual(entries(index, '__proto__'), [[5, 2]]);
    assert.deepEqual(index.replaceNode(5, {}).sort(), ['__proto__', 'constructor', 'toString']);
  });

  test('agrees with a plain model after any sequence of operations', () => {
    const term = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    const node = fc.integer({ min: 0, max: 3 });
    const df = fc.integer({ min: 0, max: 3 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), term, node, df }),
      fc.record({ kind: fc.constant('remove' as const), node }),
      fc.record({
        kind: fc.constant('full' as const),
        node,
        terms: fc.dictionary(term, df, { maxKeys: 4 }),
      }),
      fc.record({
        kind: fc.constant('update' as const),
        node,
        added: fc.dictionary(term, df, { maxKeys: 3 }),
        removed: fc.array(term, { maxLength: 3 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const index = new GlobalIndex();
        const model = new Map<string, number>(); // "term|node" -> df
        for (const o of ops) {
          if (o.kind === 'add') {
            index.addTerm(o.term, o.node, o.df);
            model.set(`${o.term}|${o.node}`, o.df);
          } else if (o.kind === 'remove') {
            index.removeNode(o.node);
            for (const key of [...model.keys()]) if (key.endsWith(`|${o.node}`)) model.delete(key);
          } else if (o.kind === 'full') {
            index.replaceNode(o.node, o.terms);
            for (const key of [...model.keys()]) if (key.endsWith(`|${o.node}`)) model.delete(key);
            for (const [t, d] of Object.entries(o.terms)) model.set(`${t}|${o.node}`, d);
          } else {
            index.applyUpdate(o.node, { added: o.added, removed: o.removed });
            for (const t of o.removed) model.delete(`${t}|${o.node}`);
            for (const [t, d] of Object.entries(o.added)) model.set(`${t}|${o.node}`, d);
          }
        }
        for (const t of ['a', 'b', 'c', 'd', 'e']) {
          const expected = [...model]
            .filter(([key]) => key.startsWith(`${t}|`))
            .map(([key, d]): [number, number] => [Number(key.split('|')[1]), d])
            .sort((x, y) => x[0] - y[0]);
          assert.deepEqual(entries(index, t), expected);
        }
        const terms = new Set([...model.keys()].map((key) => key.split('|')[0]));
        assert.equal(index.termCount, terms.size);
      }),
      { numRuns: 300 },
    );
  });
});
