// Rule (issue 4; STYLE.md, "property tests against a simple model"): the inverted index
// (term -> postings of document and term frequency, document lengths, stored documents) with
// BM25 agrees with a brute-force scan of the same documents, through any sequence of adds,
// replacements and deletes; its statistics are those of the documents it holds.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  InvertedIndex,
  analyzeQuery,
  type StoredDocument,
} from '../../../src/search/index/index.js';
import { bruteForceSearch, scanStats, type ModelOptions } from './brute-force.js';

const WORDS = [
  'wing',
  'wings',
  'flow',
  'flows',
  'heat',
  'heated',
  'the',
  'of',
  'shock',
  'wave',
  'Mach',
  '2',
  'boundary',
  'layer',
  'laminar',
  'canción',
  'canciones',
  'niño',
  'el',
  'más',
  'Élan',
];

const wordArb = fc.constantFrom(...WORDS);
const contentArb = fc.array(wordArb, { maxLength: 25 }).map((words) => words.join(' '));
const metadataArb = fc.constantFrom<Record<string, unknown>>(
  {},
  { lang: 'en' },
  { lang: 'es' },
  { language: 'Spanish' },
);
const docIdArb = fc.integer({ min: 0, max: 29 }).map((n) => `d${n}`);

type Op = { kind: 'add'; doc: StoredDocument } | { kind: 'delete'; docId: string };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ doc_id: docIdArb, content: contentArb, metadata: metadataArb })
      .map((doc): Op => ({ kind: 'add', doc })),
  },
  { weight: 1, arbitrary: docIdArb.map((docId): Op => ({ kind: 'delete', docId })) },
);
const queryArb = fc.array(wordArb, { minLength: 1, maxLength: 5 }).map((words) => words.join(' '));
const optionsArb = fc.constantFrom<ModelOptions>(
  {},
  { proximity: false },
  { scoring: 'tfidf' },
  { k1: 2, b: 0.3 },
);

function replay(ops: readonly Op[]): { index: InvertedIndex; model: Map<string, StoredDocument> } {
  const index = new InvertedIndex();
  const model = new Map<string, StoredDocument>();
  for (const op of ops) {
    if (op.kind === 'add') {
      index.add(op.doc);
      model.set(op.doc.doc_id, op.doc);
    } else {
      assert.equal(index.delete(op.docId) !== undefined, model.delete(op.docId));
    }
  }
  return { index, model };
}

describe('inverted index against a brute-force scan', () => {
  test('top k agrees exactly (same documents, order and scores)', () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 60 }),
        queryArb,
        fc.integer({ min: 1, max: 12 }),
        optionsArb,
        (ops, text, k, options) => {
          const { index, model } = replay(ops);
          const query = analyzeQuery(text);
          const stats = index.localStats(query.map((t) => t.term));
          assert.deepEqual(
            index.searchLocal(query, stats, k, options),
            bruteForceSearch(model.values(), query, k, options),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  test('proximity ranking of many close candidates agrees too (exercises the pruning bound)', () => {
    const near = fc
      .array(fc.constantFrom('shock', 'wave', 'flow', 'layer', 'the'), {
        minLength: 1,
        maxLength: 12,
      })
      .map((w) => w.join(' '));
    const docsArb = fc.array(near, { minLength: 5, maxLength: 40 });
    fc.assert(
      fc.property(
        docsArb,
        fc.constantFrom('shock wave', 'flow layer shock', 'wave layer'),
        fc.integer({ min: 1, max: 4 }),
        (contents, text, k) => {
          const docs = contents.map((content, i) => ({ doc_id: `d${i}`, content, metadata: {} }));
          const index = new InvertedIndex();
          for (const doc of docs) index.add(doc);
          const query = analyzeQuery(text);
          const stats = index.localStats(query.map((t) => t.term));
          assert.deepEqual(index.searchLocal(query, stats, k), bruteForceSearch(docs, query, k));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('statistics are those of the documents held', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const { index, model } = replay(ops);
        const expected = scanStats(model.values());
        const stats = index.localStats();
        assert.equal(stats.docCount, expected.docCount);
        assert.equal(index.docCount, model.size);
        assert.equal(stats.totalLength, expected.totalLength);
        assert.deepEqual(new Map(Object.entries(stats.df)), expected.df);
        assert.equal(index.termCount, expected.df.size);
        for (const [docId, doc] of model) assert.deepEqual(index.get(docId), doc);
      }),
      { numRuns: 300 },
    );
  });
});

describe('document lifecycle', () => {
  test('add reports the terms new to this node, delete the terms gone from it', () => {
    const index = new InvertedIndex();
    assert.deepEqual(index.add({ doc_id: '1', content: 'wing flow', metadata: {} }), {
      termsAdded: ['wing', 'flow'],
      termsRemoved: [],
    });
    assert.deepEqual(index.add({ doc_id: '2', content: 'flow heat', metadata: {} }), {
      termsAdded: ['heat'],
      termsRemoved: [],
    });
    assert.deepEqual(index.add({ doc_id: '1', content: 'wing shock', metadata: {} }), {
      termsAdded: ['shock'],
      termsRemoved: [],
    });
    assert.deepEqual(index.delete('2'), { termsAdded: [], termsRemoved: ['flow', 'heat'] });
    assert.equal(index.delete('2'), undefined);
    assert.equal(index.df('wing'), 1);
    assert.equal(index.termCount, 2);
  });

  test('a replaced document is found by its new content only', () => {
    const index = new InvertedIndex();
    index.add({ doc_id: 'x', content: 'supersonic flow', metadata: {} });
    index.add({ doc_id: 'x', content: 'heat transfer', metadata: { lang: 'en' } });
    const search = (text: string): string[] => {
      const q = analyzeQuery(text);
      return index
        .searchLocal(q, index.localStats(q.map((t) => t.term)), 10)
        .map((hit) => hit.doc_id);
    };
    assert.deepEqual(search('supersonic'), []);
    assert.deepEqual(search('transfers'), ['x']);
    assert.equal(index.docCount, 1);
  });

  test('Spanish documents are analyzed in Spanish', () => {
    const index = new InvertedIndex();
    index.add({ doc_id: 'es', content: 'Las canciones más bonitas', metadata: { lang: 'es' } });
    assert.equal(index.languageOf('es'), 'es');
    assert.equal(index.df('cancion'), 1);
    assert.equal(index.df('mas'), 0, 'stop word');
  });

  test('a filter restricts both statistics and results', () => {
    const index = new InvertedIndex();
    index.add({ doc_id: 'p1', content: 'wing wing', metadata: {} });
    index.add({ doc_id: 'r1', content: 'wing', metadata: {} });
    const primary = (docId: string): boolean => docId.startsWith('p');
    const stats = index.localStats(['wing'], primary);
    assert.deepEqual(
      { ...stats, df: { ...stats.df } },
      { docCount: 1, totalLength: 2, df: { wing: 1 } },
    );
    const hits = index.searchLocal([{ term: 'wing', weight: 1 }], stats, 10, { filter: primary });
    assert.deepEqual(
      hits.map((hit) => hit.doc_id),
      ['p1'],
    );
  });

  test('statistics never read inherited properties ("constructor" is a term like any other)', () => {
    const index = new InvertedIndex();
    index.add({ doc_id: '1', content: 'constructor', metadata: {} });
    const query = analyzeQuery('constructor');
    const hits = index.searchLocal(
      query,
      { docCount: 1, totalLength: 1, df: JSON.parse('{}') as Record<string, number> },
      10,
    );
    assert.equal(hits.length, 1);
    assert.ok(Number.isFinite(hits[0]?.score));
  });
});

describe('snippets', () => {
  test('matched original words are marked, text is HTML-escaped', () => {
    const index = new InvertedIndex();
    index.add({
      doc_id: '1',
      content: 'Heated plates <b>& the WINGS</b> of aircraft.',
      metadata: {},
    });
    const terms = analyzeQuery('heat wing').map((t) => t.term);
    assert.equal(
      index.snippet('1', terms),
      '<mark>Heated</mark> plates &lt;b&gt;&amp; the <mark>WINGS</mark>&lt;/b&gt; of aircraft.',
    );
    assert.equal(index.snippet('missing', terms), undefined);
  });

  test('the window with the most distinct matches is chosen, cuts are marked', () => {
    const filler = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    const index = new InvertedIndex();
    index.add({
      doc_id: '1',
      content: `shock ${filler} shock wave interaction ${filler}`,
      metadata: {},
    });
    const snippet = index.snippet('1', ['shock', 'wave'], { windowWords: 5 }) ?? '';
    assert.match(snippet, /^….*<mark>shock<\/mark> <mark>wave<\/mark>.*…$/u);
  });

  test('Spanish accents: the query "cancion" marks "Canción"', () => {
    const index = new InvertedIndex();
    index.add({ doc_id: 'es', content: 'La Canción del niño', metadata: { lang: 'es' } });
    assert.equal(
      index.snippet(
        'es',
        analyzeQuery('cancion', 'es').map((t) => t.term),
      ),
      'La <mark>Canción</mark> del niño',
    );
  });
});
