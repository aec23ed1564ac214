// Rule (issue 4, "Ranking" and docs/search-ranking.md point 3): with every document on k nodes,
// the cluster ranks exactly as one index holding every document once: the coordinator sums the
// statistics of each node's *primary* documents (the first live owner), every node scores only
// its primaries with those global statistics, and the merge keeps one hit per document. A node
// that fails is left out and the query re-runs over the others, whose copies stand in for it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { placeDocument } from '../../../src/search/balancer/index.js';
import {
  InvertedIndex,
  searchIndex,
  type QueryOptions,
  type StoredDocument,
} from '../../../src/search/index/index.js';
import {
  coordinateSearch,
  type DistributedQuery,
  type NodeCaller,
} from '../../../src/search/node/coordinator.js';
import { LocalNode, type DocumentStore } from '../../../src/search/node/local-node.js';
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

/** Nodes holding each document on its k owners among `ids`. */
async function makeNodes(
  docs: readonly StoredDocument[],
  ids: readonly number[],
  k: number,
): Promise<Map<number, LocalNode>> {
  const nodes = new Map(ids.map((id) => [id, new LocalNode(id, memoryStore())]));
  const byNode = new Map<number, StoredDocument[]>(ids.map((id) => [id, []]));
  for (const doc of docs)
    for (const owner of placeDocument(doc.doc_id, ids, k)) byNode.get(owner)?.push(doc);
  for (const [id, held] of byNode) await nodes.get(id)?.add(held);
  return nodes;
}

type Op = 'stats' | 'search' | 'term_vectors' | 'details';
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Calls the nodes in-process through a JSON round trip; `fails` decides which calls fail. */
function caller(
  nodes: Map<number, LocalNode>,
  fails: (nodeId: number, op: Op) => boolean = () => false,
): NodeCaller {
  const node = (nodeId: number, op: Op): LocalNode => {
    const found = nodes.get(nodeId);
    if (found === undefined || fails(nodeId, op)) throw new Error(`node ${nodeId} is down`);
    return found;
  };
  return {
    stats: async (nodeId, terms, live) => wire(node(nodeId, 'stats').stats(terms, live)),
    search: async (nodeId, body) => wire(node(nodeId, 'search').search(wire(body))),
    termVectors: async (nodeId, docIds) => wire(node(nodeId, 'term_vectors').termVectors(docIds)),
    details: async (nodeId, docIds, terms, snippets) =>
      wire(node(nodeId, 'details').details(docIds, terms, snippets)),
  };
}

function query(text: string, options: Partial<DistributedQuery> = {}): DistributedQuery {
  return { text, k: 10, offset: 0, language: 'en', search: {}, feedback: true, ...options };
}

function reference(index: InvertedIndex, q: DistributedQuery): { doc_id: string; score: number }[] {
  const options: QueryOptions = { ...q.search, feedback: q.feedback };
  return searchIndex(index, q.text, q.offset + q.k, options)
    .slice(q.offset)
    .map(({ doc_id, score }) => ({ doc_id, score }));
}

const corpus = makeCorpus(7, 600, 150);
const ids = [0, 1, 2, 3];

describe('distributed search over replicated nodes', () => {
  test('default pipeline (BM25 + proximity + RM3), k = 2: the same top 10 as one index, for every query', async () => {
    const nodes = await makeNodes(corpus.docs, ids, 2);
    const single = referenceIndex(corpus.docs);
    for (const text of corpus.queries) {
      const q = query(text);
      const outcome = await coordinateSearch(caller(nodes), ids, q);
      assert.deepEqual(
        outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
        reference(single, q),
        text,
      );
      assert.equal(new Set(outcome.hits.map((hit) => hit.doc_id)).size, outcome.hits.length);
      for (const hit of outcome.hits)
        assert.equal(placeDocument(hit.doc_id, ids, 1)[0], hit.node_id);
      assert.equal(outcome.incomplete, false);
    }
  });

  test('options: no feedback, TF-IDF, no proximity, and paging with offset', async () => {
    const nodes = await makeNodes(corpus.docs, ids, 3);
    const single = referenceIndex(corpus.docs);
    const variants: Partial<DistributedQuery>[] = [
      { feedback: false },
      { search: { scoring: 'tfidf' }, feedback: false },
      { search: { proximity: false } },
      { offset: 10, k: 15 },
    ];
    for (const variant of variants) {
      for (const text of corpus.queries.slice(0, 40)) {
        const q = query(text, variant);
        const outcome = await coordinateSearch(caller(nodes), ids, q);
        assert.deepEqual(
          outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
          reference(single, q),
        );
      }
    }
  });

  test('snippets and metadata come with the final hits, highlighting the original query terms', async () => {
    const nodes = await makeNodes(corpus.docs, ids, 2);
    const outcome = await coordinateSearch(caller(nodes), ids, query(corpus.queries[0] ?? ''));
    assert.ok(outcome.hits.length > 0);
    for (const hit of outcome.hits) {
      assert.match(hit.snippet ?? '', /<mark>/);
      assert.equal(typeof hit.metadata?.['n'], 'number');
    }
  });

  test('a node down (before or during the query) changes nothing with k = 2', async () => {
    const nodes = await makeNodes(corpus.docs, ids, 2);
    const single = referenceIndex(corpus.docs);
    for (const [dead, phase] of [
      [1, undefined],
      [3, 'search'],
      [0, 'stats'],
    ] as const) {
      for (const text of corpus.queries.slice(0, 30)) {
        const q = query(text);
        const failed: number[] = [];
        const fails = (nodeId: number, op: Op): boolean =>
          nodeId === dead && (phase === undefined || op === phase);
        const outcome = await coordinateSearch(caller(nodes, fails), ids, q, {
          onNodeFailed: (id) => failed.push(id),
        });
        assert.deepEqual(
          outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
          reference(single, q),
          text,
        );
        assert.equal(outcome.incomplete, false);
        if (outcome.failed.length > 0) assert.deepEqual(failed, [dead]);
      }
    }
  });

  test('two nodes down: exactly the documents with a surviving copy, ranked as one index of them', async () => {
    const nodes = await makeNodes(corpus.docs, ids, 2);
    const dead = new Set([0, 2]);
    const surviving = corpus.docs.filter((doc) =>
      placeDocument(doc.doc_id, ids, 2).some((id) => !dead.has(id)),
    );
    assert.ok(surviving.length < corpus.docs.length);
    const single = referenceIndex(surviving);
    for (const text of corpus.queries.slice(0, 40)) {
      const q = query(text);
      const outcome = await coordinateSearch(
        caller(nodes, (id) => dead.has(id)),
        ids,
        q,
      );
      assert.deepEqual(
        outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
        reference(single, q),
        text,
      );
      assert.deepEqual(outcome.failed, outcome.terms.length > 0 ? [0, 2] : []);
    }
  });

  test('a node that keeps failing after the last attempt makes the answer incomplete', async () => {
    const nodes = await makeNodes(corpus.docs.slice(0, 100), ids, 2);
    const outcome = await coordinateSearch(
      caller(nodes, (id) => id === 1),
      ids,
      query(corpus.docs[0]?.content ?? '', { feedback: false }),
      { maxAttempts: 1 },
    );
    assert.equal(outcome.incomplete, true);
    assert.deepEqual(outcome.failed, [1]);
  });

  test('property: any live ids of a 4-cube, any k, any small corpus: equal to one index', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.boolean(),
        async (liveIds, k, seed, feedback) => {
          const small = makeCorpus(seed, 60, 5, { vocabulary: 60 });
          const nodes = await makeNodes(small.docs, liveIds, k);
          const single = referenceIndex(small.docs);
          for (const text of small.queries) {
            const q = query(text, { feedback });
            const outcome = await coordinateSearch(caller(nodes), liveIds, q);
            assert.deepEqual(
              outcome.hits.map(({ doc_id, score }) => ({ doc_id, score })),
              reference(single, q),
            );
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
