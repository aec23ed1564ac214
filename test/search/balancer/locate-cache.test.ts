/**
 * The LRU cache of locate_terms() (distrisearch-balancer.md, "Mejoras futuras"): a bounded
 * least-recently-used cache, and a cached locate always equals an uncached one: after any
 * sequence of updates, FULL reports, registrations, heartbeats, deaths and removals.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DataBalancer, LocateCache } from '../../../src/search/balancer/index.js';

describe('LocateCache', () => {
  test('evicts the least recently used term and counts hits and misses', () => {
    const cache = new LocateCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    assert.equal(cache.get('a'), 1); // a is now the most recent
    cache.set('c', 3); // evicts b
    assert.equal(cache.get('b'), undefined);
    assert.deepEqual(cache.keys(), ['a', 'c']);
    cache.invalidate('a');
    assert.equal(cache.get('a'), undefined);
    assert.deepEqual(cache.stats(), { size: 1, capacity: 2, hits: 1, misses: 2, hitRate: 1 / 3 });
  });

  test('capacity 0 disables it; a negative capacity is a programmer error', () => {
    const cache = new LocateCache<number>(0);
    cache.set('a', 1);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
    assert.throws(() => new LocateCache(-1), RangeError);
  });

  test('the balancer answers repeated locates from the cache', () => {
    const balancer = new DataBalancer({ cacheSize: 10 });
    balancer.registerNode(1, 'http://n1', 0);
    balancer.updateNodeIndex({ nodeId: 1, seq: 1, added: { raft: 1 } }, 0);
    balancer.locateTerms(['raft'], 0);
    balancer.locateTerms(['raft'], 0);
    assert.deepEqual([balancer.cacheStats().hits, balancer.cacheStats().misses], [1, 1]);
    balancer.updateNodeIndex({ nodeId: 1, seq: 2, added: { raft: 2 } }, 0);
    assert.equal(balancer.locateTerms(['raft'], 0)['raft']?.[0]?.df, 2, 'invalidated by update');
  });
});

const TERMS = ['a', 'b', 'c', 'd', 'e', 'f'];
const term = fc.constantFrom(...TERMS);
const nodeId = fc.integer({ min: 0, max: 4 });
const df = fc.integer({ min: 0, max: 3 });
const op = fc.oneof(
  fc.record({
    kind: fc.constant('register' as const),
    nodeId,
    port: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({ kind: fc.constant('unregister' as const), nodeId }),
  fc.record({
    kind: fc.constant('heartbeat' as const),
    nodeId,
    port: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('update' as const),
    nodeId,
    seq: fc.integer({ min: 0, max: 20 }),
    added: fc.dictionary(term, df, { maxKeys: 3 }),
    removed: fc.array(term, { maxLength: 2 }),
    full: fc.boolean(),
    withUrl: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  fc.record({ kind: fc.constant('locate' as const), terms: fc.array(term, { maxLength: 4 }) }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

function apply(balancer: DataBalancer, o: Op, nowMs: number): void {
  const url = (port: number) => `http://node-${port}`;
  switch (o.kind) {
    case 'register':
      balancer.registerNode(o.nodeId, url(o.port), nowMs);
      break;
    case 'unregister':
      balancer.unregisterNode(o.nodeId);
      break;
    case 'heartbeat':
      balancer.heartbeat(
        o.nodeId,
        url(o.port),
        { docCount: 1, termCount: 1, totalLength: 1 },
        nowMs,
      );
      break;
    case 'update':
      balancer.updateNodeIndex(
        {
          nodeId: o.nodeId,
          seq: o.seq,
          added: o.added,
          removed: o.removed,
          full: o.full,
          ...(o.withUrl ? { url: url(1) } : {}),
        },
        nowMs,
      );
      break;
    case 'locate':
      balancer.locateTerms(o.terms, nowMs);
      break;
    case 'advance':
      break;
  }
}

describe('cached locate == uncached locate', () => {
  test('after any sequence of updates, removals and liveness changes', () => {
    let hits = 0;
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (ops, cacheSize) => {
          const options = { deadAfterMs: 30_000, forgetAfterMs: 60_000 };
          const cached = new DataBalancer({ ...options, cacheSize });
          const uncached = new DataBalancer({ ...options, cacheSize: 0 });
          let nowMs = 0;
          for (const o of ops) {
            if (o.kind === 'advance') nowMs += o.ms;
            apply(cached, o, nowMs);
            apply(uncached, o, nowMs);
            // A small cache is probed with the op's own terms (a full sweep of six terms would
            // evict every entry before its next use); a large one with every term.
            const probe = cacheSize >= TERMS.length || o.kind !== 'locate' ? TERMS : o.terms;
            assert.deepEqual(cached.locateTerms(probe, nowMs), uncached.locateTerms(probe, nowMs));
            // Newest first, so that even a small cache answers some of these from its entries.
            for (const t of [...probe].reverse()) {
              assert.deepEqual(cached.locateTerms([t], nowMs)[t], cached.locateUncached(t));
            }
          }
          hits += cached.cacheStats().hits;
        },
      ),
      { numRuns: 400 },
    );
    assert.ok(hits > 1000, `the cache must actually answer (hits: ${hits})`);
  });
});
