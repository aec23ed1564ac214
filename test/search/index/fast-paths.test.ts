// Rule (issue 4, "Local inverted index" and docs/search-ranking.md): the indexer's fast paths
// change the cost, never the result. The English stemmer (`porter2`) stems every word exactly as
// the Snowball English stemmer does; the word table answers what a plain Map would; the index's
// tokenizer numbers words exactly as `scanWords` does; a snippet built from the forward index
// equals `makeSnippet` on the text.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import snowball from 'snowball-stemmers';
import {
  InvertedIndex,
  kthBestScore,
  kthLargest,
  makeSnippet,
  stemWord,
  wordSpans,
  wordTerms,
} from '../../../src/search/index/index.js';
import { WORD_MISSING, WordTable } from '../../../src/search/index/word-table.js';

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const SUFFIXES = ['ing', 'ed', 'ly', 'ies', 'ness', 'ation', 'ize', 'ful', 'eed', 'y', 'sses'];
const word = fc
  .tuple(
    fc.array(fc.constantFrom(...LETTERS, 'y', 'e', 'a'), { minLength: 1, maxLength: 10 }),
    fc.option(fc.constantFrom(...SUFFIXES), { nil: undefined }),
  )
  .map(([letters, suffix]) => `${letters.join('')}${suffix ?? ''}`);

describe('English stemming', () => {
  test('porter2 stems as the Snowball English stemmer (generated words and known cases)', () => {
    const reference = snowball.newStemmer('english');
    const known = ['generously', 'skies', 'dying', 'news', 'proceed', 'arch', 'cosmos', '1960s'];
    for (const w of known) assert.equal(stemWord(w, 'en'), reference.stem(w), w);
    fc.assert(
      fc.property(word, (w) => {
        assert.equal(stemWord(w, 'en'), reference.stem(w), w);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('word table', () => {
  test('answers as a Map of the words added, by offsets in any text', () => {
    fc.assert(
      fc.property(
        fc.array(word, { maxLength: 300 }),
        fc.integer({ min: 4, max: 64 }),
        (words, max) => {
          const table = new WordTable(max);
          const model = new Map<string, number>();
          words.forEach((w, i) => {
            const text = `  ${w}.`;
            const code = table.find(text, 2, 2 + w.length);
            if (table.size === 0) model.clear();
            assert.equal(code, model.get(w) ?? WORD_MISSING, w);
            if (code === WORD_MISSING) {
              if (table.size >= max) model.clear();
              const ids = i % 7 === 0 ? [] : i % 11 === 0 ? [i, i + 1] : [i];
              const added = table.add(w, ids);
              model.set(w, added);
              assert.deepEqual(table.idsOf(added), ids);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('forward-index snippets and tokenizer', () => {
  const texts = fc
    .tuple(
      fc.array(
        fc.oneof(
          word,
          fc.constantFrom('the', 'of', 'Canción', 'ﬁnal', '½', '東京', '&', '<b>', '—', '\n', '𝒜x'),
        ),
        { maxLength: 80 },
      ),
      fc.constantFrom(' ', ', ', '. ', '-'),
    )
    .map(([parts, separator]) => parts.join(separator));

  test('a snippet from the index equals makeSnippet on the text', () => {
    fc.assert(
      fc.property(
        texts,
        fc.array(word, { maxLength: 4 }),
        fc.integer({ min: 1, max: 12 }),
        (text, query, size) => {
          const index = new InvertedIndex();
          index.add({ doc_id: 'd', content: text, metadata: {} });
          const terms = query.flatMap((w) => wordTerms(w, 'en'));
          const spans = wordSpans(text);
          if (spans.length > 0)
            terms.push(...wordTerms(spans[Math.floor(spans.length / 2)]?.word ?? '', 'en'));
          assert.equal(
            index.snippet('d', terms, { windowWords: size }),
            makeSnippet(text, terms, { windowWords: size }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('k-th largest', () => {
  test('equals sorting', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 })),
        fc.integer({ min: 0, max: 20 }),
        (values, k) => {
          const sorted = [...values].sort((a, b) => b - a);
          const expected = k === 0 || values.length < k ? -Infinity : (sorted[k - 1] as number);
          assert.equal(kthLargest(Float64Array.from(values), values.length, k), expected);
          assert.equal(kthBestScore(values, k), expected);
        },
      ),
    );
  });
});
