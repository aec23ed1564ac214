// Rule (issue 4, "Ranking": distributed ranking equals single-node ranking) with the fast query
// path of docs/search.md: a coordinator's cached statistics and RM3 expansions are guesses that
// are checked, never trusted. With caches kept across queries and documents written between
// them, every answer still equals one index holding the collection as it is; a repeated query
// on an unchanged collection costs one scoring round and no statistics round. A node's primary
// statistics, kept incrementally, always equal a recount over its documents.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { placeDocument } from '../../../src/search/balancer/index.js';
import {
  analyzeTerms,
  InvertedIndex,
  searchIndex,
  type StoredDocument,
} from '../../../src/search/index/index.js';
import {
  coordinateSearch,
  type DistributedQuery,
  type NodeCaller,
} from '../../../src/search/node/coordinator.js';
import { FeedbackCache } from '../../../src/search/node/feedback-cache.js';
import { LocalNode, type DocumentStore } from '../../../src/search/node/local-node.js';
import { PrimaryStats } from '../../../src/search/node/primary-stats.js';
import { GlobalStatsCache } from '../../../src/search/node/stats-cache.js';
import { makeCorpus, referenceIndex } from './corpus.js';

function memoryStore(): DocumentStore {
  const index = new InvertedIndex();
  let lsn = 0;
  return {
    index,
    get lsn() {
      return lsn;
    },
    addMany: async (docs) => {
      lsn += docs.length;
      return docs.map((doc) => index.add(doc));
    },
    delete: async (docId) => {
      lsn += 1;
      return index.delete(docId);
    },
  };
}

const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

class Cluster {
  readonly nodes: Map<number, LocalNode>;
  constructor(
    readonly ids: number[],
    readonly k: number,
  ) {
    this.nodes = new Map(ids.map((id) => [id, new LocalNode(id, memoryStore())]));
  }
  async add(docs: readonly StoredDocument[]): Promise<void> {
    for (const doc of docs)
      for (const owner of placeDocument(doc.doc_id, this.ids, this.k))
        await this.nodes.get(owner)?.add([doc]);
  }
  async delete(docId: string): Promise<void> {
    for (const node of this.nodes.values()) await node.delete(docId);
  }
  caller(): NodeCaller {
    const node = (id: number): LocalNode => this.nodes.get(id) as LocalNode;
    return {
      stats: async (id, terms, live) => wire(node(id).stats(terms, live)),
      search: async (id, body) => wire(node(id).search(wire(body))),
      termVectors: async (id, docIds) => wire(node(id).termVectors(docIds)),
      details: async (id, docIds, terms, snippets) =>
        wire(node(id).details(docIds, terms, snippets)),
    };
  }
}

function query(text: string, options: Partial<DistributedQuery> = {}): DistributedQuery {
  return { text, k: 10, offset: 0, language: 'en', search: {}, feedback: true, ...options };
}

function reference(index: InvertedIndex, q: DistributedQuery): { doc_id: string; score: number }[] {
  return searchIndex(index, q.text, q.offset + q.k, { ...q.search, feedback: q.feedback })
    .slice(q.offset)
    .map(({ doc_id, score }) => ({ doc_id, score }));
}

describe('checked caches of the coordinator', () => {
  test('a repeated query costs one scoring round; writes between queries never change a result', async () => {
    const corpus = makeCorpus(11, 500, 60);
    const extra = makeCorpus(12, 120, 0).docs.map((doc) => ({ ...doc, doc_id: `x-${doc.doc_id}` }));
    const cluster = new Cluster([0, 1, 2, 3], 2);
    await cluster.add(corpus.docs);
    const statsCache = new GlobalStatsCache();
    const feedbackCache = new FeedbackCache();
    const held = new Map(corpus.docs.map((doc) => [doc.doc_id, doc]));
    const run = async (text: string, feedback: boolean) => {
      const q = query(text, { feedback });
      const outcome = await coordinateSearch(cluster.caller(), cluster.ids, q, {
        statsCache,
        feedbackCache,
      });
      assert.deepEqual(
        outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
        reference(referenceIndex([...held.values()]), q),
        text,
      );
      return outcome;
    };
    for (const text of corpus.queries.slice(0, 20)) await run(text, true);
    for (const text of corpus.queries.slice(0, 20)) {
      const again = await run(text, true);
      if (again.hits.length > 0) assert.deepEqual(again.rounds, { scoring: 1, stats: 0 }, text);
      const plain = await run(text, false);
      if (plain.hits.length > 0) assert.equal(plain.rounds.scoring, 1);
    }
    // Writes and deletes between queries: the same queries, answered on the new collection.
    for (const [i, text] of corpus.queries.slice(0, 40).entries()) {
      const doc = extra[i];
      if (doc !== undefined) {
        await cluster.add([doc]);
        held.set(doc.doc_id, doc);
      }
      if (i % 3 === 0) {
        const victim = corpus.docs[i * 7]?.doc_id ?? '';
        await cluster.delete(victim);
        held.delete(victim);
      }
      await run(text, i % 2 === 0);
    }
    assert.ok(feedbackCache.counters.hits > 0 && feedbackCache.counters.stale > 0);
    assert.ok(statsCache.counters.hits > 0 && statsCache.counters.resets > 0);
  });

  test('property: any interleaving of writes and cached queries answers as one index', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.tuple(fc.nat(40), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 25 }),
        async (seed, steps) => {
          const corpus = makeCorpus(seed, 80, 6, { vocabulary: 50 });
          const cluster = new Cluster([0, 1, 2], 2);
          const held = new Map<string, StoredDocument>();
          const caches = { statsCache: new GlobalStatsCache(), feedbackCache: new FeedbackCache() };
          for (const [at, write, feedback] of steps) {
            const doc = corpus.docs[at];
            if (write && doc !== undefined) {
              await cluster.add([doc]);
              held.set(doc.doc_id, doc);
            }
            const q = query(corpus.queries[at % corpus.queries.length] ?? '', { feedback });
            const outcome = await coordinateSearch(cluster.caller(), cluster.ids, q, caches);
            assert.deepEqual(
              outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
              reference(referenceIndex([...held.values()]), q),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('the statistics cache answers only when it saw every term, and drops dfs when N moves', () => {
    const cache = new GlobalStatsCache(100, 2);
    assert.equal(cache.lookup([0, 1], ['a']), undefined);
    cache.store([0, 1], ['a', 'b'], { doc_count: 10, total_length: 100, df: { a: 3 } });
    const seen = cache.lookup([0, 1], ['b', 'a']);
    assert.deepEqual(
      { ...seen, df: { ...seen?.df } },
      { doc_count: 10, total_length: 100, df: { a: 3 } },
    );
    assert.equal(cache.lookup([0, 1], ['a', 'c']), undefined);
    assert.equal(cache.lookup([0], ['a']), undefined);
    cache.store([0, 1], ['c'], { doc_count: 11, total_length: 109, df: { c: 1 } });
    assert.equal(cache.lookup([0, 1], ['a']), undefined, 'dfs seen under another N are dropped');
    assert.equal(cache.lookup([0, 1], ['c'])?.doc_count, 11);
  });
});

describe('primary statistics', () => {
  test('property: kept in step with adds, deletes and live-set changes, equal to a recount', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('add' as const), at: fc.nat(59) }),
            fc.record({ kind: fc.constant('delete' as const), at: fc.nat(59) }),
            fc.record({
              kind: fc.constant('live' as const),
              live: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
            }),
          ),
          { maxLength: 60 },
        ),
        (seed, steps) => {
          const corpus = makeCorpus(seed, 60, 8, { vocabulary: 40 });
          const index = new InvertedIndex();
          const self = 2;
          const primaries = new PrimaryStats(self, index);
          let live = [0, 1, 2, 3];
          const terms = [...new Set(corpus.queries.flatMap((text) => analyzeTerms(text)))].concat(
            'absent',
          );
          for (const step of steps) {
            if (step.kind === 'add') {
              const doc = corpus.docs[step.at];
              if (doc !== undefined) index.add(doc);
            } else if (step.kind === 'delete') index.delete(corpus.docs[step.at]?.doc_id ?? '');
            else live = [...step.live, self];
            const sorted = [...new Set(live)].sort((a, b) => a - b);
            const isPrimary = (docId: string): boolean =>
              placeDocument(docId, sorted, 1)[0] === self;
            const expected = index.localStats(terms, isPrimary);
            const got = primaries.stats(terms, live);
            assert.equal(got.doc_count, expected.docCount);
            assert.equal(got.total_length, expected.totalLength);
            assert.deepEqual({ ...got.df }, { ...expected.df });
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
