// Rule checked (departures.ts): a search is partial while k or more peers left the live set
// before a repair run covered them; a clean repair run covers peers that left alone; peers
// that come back are no longer departed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Departures } from '../../../src/search/node/departures.js';
import { placeDocument } from '../../../src/search/balancer/placement.js';

describe('Departures', () => {
  test('one peer leaving (k = 2) makes nothing missing; a repair without it covers it', () => {
    const d = new Departures(2, [0, 1, 2, 3]);
    d.liveChanged([0, 1, 3]);
    assert.deepEqual(d.uncoveredIds(), [2]);
    assert.equal(d.mayMissDocuments(), false);
    d.repairedOver([0, 1, 2, 3]); // a run that started before it left covers nothing
    assert.deepEqual(d.uncoveredIds(), [2]);
    d.repairedOver([0, 1, 3]);
    assert.deepEqual(d.uncoveredIds(), []);
    d.liveChanged([0, 3]); // the next one leaves after the repair: still one uncovered
    assert.equal(d.mayMissDocuments(), false);
  });

  test('k peers leaving at once make searches partial until enough come back', () => {
    const d = new Departures(2, [0, 1, 2, 3]);
    d.liveChanged([0, 1]);
    assert.deepEqual(d.uncoveredIds(), [2, 3]);
    assert.equal(d.mayMissDocuments(), true);
    d.repairedOver([0, 1]);
    assert.equal(d.mayMissDocuments(), true, 'no repair brings back copies that left');
    d.liveChanged([0, 1, 3]);
    assert.deepEqual(d.uncoveredIds(), [2]);
    assert.equal(d.mayMissDocuments(), false, 'node 3 holds a copy of what 2 and 3 held');
    d.repairedOver([0, 1, 3]);
    assert.deepEqual(d.uncoveredIds(), []);
  });

  test('a peer that leaves and comes back before a repair is not departed', () => {
    const d = new Departures(2, [0, 1, 2]);
    d.liveChanged([0, 1]);
    d.liveChanged([0, 1, 2]);
    assert.deepEqual(d.uncoveredIds(), []);
  });

  test('with k = 1 every departure is partial until the peer returns', () => {
    const d = new Departures(1, [0, 1]);
    d.liveChanged([0]);
    d.repairedOver([0]);
    assert.equal(d.mayMissDocuments(), true);
    d.liveChanged([0, 1]);
    assert.equal(d.mayMissDocuments(), false);
  });

  test('a record from the last run stays until the peers are live again, or forgotten', () => {
    const changes: number[][] = [];
    const d = new Departures(2, [], [2, 3]);
    d.onChange = (ids) => changes.push(ids);
    assert.equal(d.mayMissDocuments(), true);
    d.liveChanged([0, 1]);
    assert.deepEqual(d.uncoveredIds(), [2, 3]);
    assert.deepEqual(changes, [], 'no change: 2 and 3 are still away');
    assert.deepEqual(d.forget([3, 7]), [3]);
    assert.deepEqual(changes, [[2]]);
    assert.equal(d.mayMissDocuments(), false);
    d.liveChanged([0, 1, 2]);
    assert.deepEqual(changes, [[2], []]);
    d.liveChanged([0, 1]);
    assert.deepEqual(
      changes,
      [[2], [], [2]],
      'a forgotten or returned peer that leaves counts again',
    );
  });

  test('property: a document with every copy on departed peers is never answered as complete', () => {
    // Documents are placed over the live set of the last repair; peers then leave and return
    // in random steps, with repairs (which re-place every document over the live set) between.
    const steps = fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant<'leave'>('leave'),
          ids: fc.uniqueArray(fc.nat(5), { maxLength: 3 }),
        }),
        fc.record({
          kind: fc.constant<'return'>('return'),
          ids: fc.uniqueArray(fc.nat(5), { maxLength: 3 }),
        }),
        fc.record({ kind: fc.constant<'repair'>('repair'), ids: fc.constant([]) }),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), steps, (k, script) => {
        const all = [0, 1, 2, 3, 4, 5];
        const docs = Array.from({ length: 60 }, (_, i) => `doc-${i}`);
        let live = new Set(all);
        const copies = new Map(docs.map((id) => [id, new Set(placeDocument(id, all, k))]));
        const d = new Departures(k, all);
        for (const step of script) {
          if (step.kind === 'repair') {
            const over = [...live].sort((a, b) => a - b);
            for (const [id, held] of copies) {
              // A document with no live copy cannot be copied; the others get their k owners
              // over the live set, and live nodes that do not own it drop their stray copy.
              if (![...held].some((n) => live.has(n))) continue;
              const owners = placeDocument(id, over, k);
              const away = [...held].filter((n) => !live.has(n));
              copies.set(id, new Set([...owners, ...away]));
            }
            d.repairedOver(over);
            continue;
          }
          for (const id of step.ids) {
            if (id === 0) continue; // node 0 is the observer
            if (step.kind === 'leave') live.delete(id);
            else live.add(id);
          }
          live = new Set(live);
          d.liveChanged([...live].sort((a, b) => a - b));
          const missing = [...copies.values()].some((held) => ![...held].some((n) => live.has(n)));
          if (missing) assert.equal(d.mayMissDocuments(), true, `k=${k} live=${[...live].join()}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
