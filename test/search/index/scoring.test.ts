// Rule (issue 4, "Ranking"; Robertson & Zaragoza 2009): BM25 with k1 = 1.2 and b = 0.75 and
// Lucene's non-negative idf ln(1 + (N - df + 0.5) / (df + 0.5)); the seed's TF-IDF stays
// available; results are ordered by score descending, then doc_id ascending. RM3 (Anserini's
// form) interpolates the query with the relevance model of the feedback documents.
// The expected numbers below were worked out by hand from those formulas.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvertedIndex,
  TopK,
  bm25Idf,
  bm25Score,
  bm25TermFrequency,
  compareHits,
  expandQuery,
  mergeTopK,
  relevanceModel,
  tfidfScore,
  DEFAULT_BM25,
} from '../../../src/search/index/index.js';

const close = (actual: number, expected: number, message?: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${message ?? ''} ${actual} != ${expected}`);

describe('BM25 formula', () => {
  test('idf', () => {
    close(bm25Idf(4, 1), Math.log(1 + 3.5 / 1.5));
    close(bm25Idf(4, 1), 1.2039728043259361);
    assert.ok(bm25Idf(10, 10) > 0, 'a term in every document still counts a little');
  });

  test('term frequency saturation and length normalization', () => {
    close(bm25TermFrequency(2, 10, 10, DEFAULT_BM25), 1.375); // 2 * 2.2 / (2 + 1.2)
    close(bm25TermFrequency(2, 20, 10, DEFAULT_BM25), 4.4 / 4.1); // K = 1.2 * (0.25 + 0.75 * 2)
    close(bm25TermFrequency(2, 20, 10, { k1: 1.2, b: 0 }), 1.375, 'b = 0 ignores length');
    close(bm25TermFrequency(1, 5, 0, DEFAULT_BM25), 1, 'empty collection: no normalization');
  });

  test('bm25Score is idf times the tf part', () => {
    close(bm25Score(2, 1, 4, 10, 10), 1.2039728043259361 * 1.375);
  });

  test('TF-IDF', () => {
    close(tfidfScore(2, 1, 3), (1 + Math.log(2)) * Math.log(4));
    close(tfidfScore(2, 1, 3), 2.3472003889562933);
    assert.equal(tfidfScore(0, 1, 3), 0);
  });
});

describe('scores of a small index, by hand', () => {
  const index = new InvertedIndex();
  index.add({ doc_id: 'd1', content: 'wing wing flow', metadata: {} });
  index.add({ doc_id: 'd2', content: 'flow separation', metadata: {} });
  index.add({ doc_id: 'd3', content: 'heat', metadata: {} });
  const query = [
    { term: 'wing', weight: 1 },
    { term: 'flow', weight: 1 },
  ];

  test('BM25: N = 3, avgdl = 2', () => {
    const stats = index.localStats(['wing', 'flow']);
    assert.deepEqual(
      { ...stats, df: { ...stats.df } },
      { docCount: 3, totalLength: 6, df: { wing: 1, flow: 2 } },
    );
    const hits = index.searchLocal(query, stats, 10, { proximity: false });
    assert.deepEqual(
      hits.map((hit) => hit.doc_id),
      ['d1', 'd2'],
    );
    // d1: idf(wing) 0.98083 * 4.4 / 3.65 + idf(flow) 0.47000 * 2.2 / 2.65; d2: idf(flow) * 1.
    close(hits[0]?.score ?? NaN, 1.5725612026838962);
    close(hits[1]?.score ?? NaN, 0.47000362924573563);
  });

  test('global statistics change the scores', () => {
    const global = { docCount: 30, totalLength: 60, df: { wing: 1, flow: 20 } };
    const hits = index.searchLocal([{ term: 'flow', weight: 1 }], global, 10, { proximity: false });
    close(hits[0]?.score ?? NaN, bm25Idf(30, 20) * bm25TermFrequency(1, 2, 2, DEFAULT_BM25));
  });

  test('TF-IDF option', () => {
    const hits = index.searchLocal(query, index.localStats(['wing', 'flow']), 10, {
      scoring: 'tfidf',
    });
    close(hits[0]?.score ?? NaN, (1 + Math.log(2)) * Math.log(4) + Math.log(2.5));
  });
});

describe('result order', () => {
  test('score descending, then doc_id ascending', () => {
    const hits = [
      { doc_id: 'b', score: 1 },
      { doc_id: 'a', score: 1 },
      { doc_id: 'c', score: 2 },
    ];
    assert.deepEqual(
      [...hits].sort(compareHits).map((hit) => hit.doc_id),
      ['c', 'a', 'b'],
    );
  });

  test('TopK keeps the best k in that order', () => {
    const top = new TopK(2);
    for (const [doc_id, score] of [
      ['x', 1],
      ['y', 3],
      ['a', 1],
      ['z', 2],
    ] as const)
      top.offer({ doc_id, score });
    assert.deepEqual(top.sorted(), [
      { doc_id: 'y', score: 3 },
      { doc_id: 'z', score: 2 },
    ]);
    assert.deepEqual(new TopK(0).sorted(), []);
  });

  test('mergeTopK keeps a replicated document once', () => {
    const merged = mergeTopK(
      [
        [
          { doc_id: 'a', score: 2 },
          { doc_id: 'b', score: 1 },
        ],
        [
          { doc_id: 'a', score: 2 },
          { doc_id: 'c', score: 1 },
        ],
      ],
      3,
    );
    assert.deepEqual(
      merged.map((hit) => hit.doc_id),
      ['a', 'b', 'c'],
    );
  });
});

describe('RM3', () => {
  const documents = [
    {
      doc_id: 'D1',
      score: 3,
      termFrequencies: new Map([
        ['a', 2],
        ['b', 2],
      ]),
    },
    {
      doc_id: 'D2',
      score: 1,
      termFrequencies: new Map([
        ['b', 1],
        ['c', 1],
      ]),
    },
  ];

  test('relevance model: P(w|d) weighted by normalized scores', () => {
    const model = relevanceModel(documents);
    close(model.get('a') ?? NaN, 0.75 * 0.5);
    close(model.get('b') ?? NaN, 0.75 * 0.5 + 0.25 * 0.5);
    close(model.get('c') ?? NaN, 0.25 * 0.5);
  });

  test('expansion: original terms first, then the best model terms', () => {
    const expanded = expandQuery([{ term: 'a', weight: 1 }], documents, {
      fbTerms: 2,
      originalWeight: 0.5,
    });
    assert.deepEqual(
      expanded.map((t) => t.term),
      ['a', 'b'],
    );
    close(expanded[0]?.weight ?? NaN, 0.5 + (0.5 * 0.375) / 0.875);
    close(expanded[1]?.weight ?? NaN, (0.5 * 0.5) / 0.875);
  });
});
