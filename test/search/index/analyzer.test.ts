// Rule (issue 4, "Local inverted index"): the analyzer does Unicode lowercasing, accent folding,
// stop words and Snowball stemming for English and Spanish, with the language of each document
// taken from its metadata and English by default; a query word and the same word in a document
// always meet on one term.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyze,
  analyzeQuery,
  analyzeTerms,
  foldWord,
  isStopWord,
  languageOf,
  parseLanguage,
  stemWord,
  wordSpans,
  wordTerms,
} from '../../../src/search/index/index.js';

describe('folding', () => {
  test('lowercases, decomposes and strips accents', () => {
    assert.equal(foldWord('Canción'), 'cancion');
    assert.equal(foldWord('ÑANDÚ'), 'nandu');
    assert.equal(foldWord('Crème'), 'creme');
    assert.equal(foldWord('naïve'), 'naive');
  });

  test('NFKD compatibility forms and letters NFKD keeps', () => {
    assert.equal(foldWord('ﬁnal'), 'final');
    assert.equal(foldWord('Ｆｕｌｌ'), 'full');
    assert.equal(foldWord('Straße'), 'strasse');
    assert.equal(foldWord('Œuvre'), 'oeuvre');
    assert.equal(foldWord('Øresund'), 'oresund');
  });
});

describe('tokenization', () => {
  test('splits on anything that is not a letter, digit or mark, keeping offsets', () => {
    const text = 'Shock-wave (Mach 2.5), naïve';
    assert.deepEqual(
      wordSpans(text).map((span) => span.word),
      ['Shock', 'wave', 'Mach', '2', '5', 'naïve'],
    );
    for (const span of wordSpans(text)) assert.equal(text.slice(span.start, span.end), span.word);
  });

  test('letters of any script are words', () => {
    assert.deepEqual(analyzeTerms('Αθήνα Москва 東京'), ['αθηνα', 'москва', '東京']);
  });

  test('a folded word containing separators gives several terms', () => {
    assert.deepEqual(wordTerms('½', 'en'), ['1', '2']);
  });
});

describe('stop words', () => {
  test('English and Spanish lists, checked after folding', () => {
    assert.equal(isStopWord('the', 'en'), true);
    assert.equal(isStopWord('wing', 'en'), false);
    assert.equal(isStopWord('mas', 'es'), true, '"más" is listed and folds to "mas"');
    assert.equal(isStopWord('the', 'es'), false);
  });

  test('stop words leave no term but positions advance past them', () => {
    const tokens = analyze('the wing of the aircraft');
    assert.deepEqual(
      tokens.map((t) => [t.term, t.position]),
      [
        ['wing', 1],
        ['aircraft', 4],
      ],
    );
    assert.deepEqual(
      analyzeTerms("don't"),
      [],
      'split at the apostrophe, both halves are stop words',
    );
  });
});

describe('stemming', () => {
  test('English is Porter2 (Snowball english)', () => {
    const expected: Record<string, string> = {
      running: 'run',
      generously: 'generous',
      heated: 'heat',
      aerodynamics: 'aerodynam',
      skies: 'sky',
      dying: 'die',
      fluently: 'fluentli',
    };
    for (const [word, stem] of Object.entries(expected))
      assert.equal(stemWord(word, 'en'), stem, word);
  });

  test('Spanish is Snowball spanish, after accent folding', () => {
    assert.equal(stemWord('canciones', 'es'), 'cancion');
    assert.equal(stemWord('nacionalidad', 'es'), 'nacional');
    assert.deepEqual(analyzeTerms('Canción canciones cancion', 'es'), [
      'cancion',
      'cancion',
      'cancion',
    ]);
  });

  test('numbers are not stemmed', () => {
    assert.equal(stemWord('1950', 'en'), '1950');
  });
});

describe('language from metadata', () => {
  test('lang or language, tags and names, English by default', () => {
    assert.equal(languageOf({ lang: 'es' }), 'es');
    assert.equal(languageOf({ language: 'es-MX' }), 'es');
    assert.equal(languageOf({ language: 'Español' }), 'es');
    assert.equal(languageOf({ lang: 'en' }), 'en');
    assert.equal(languageOf({ lang: 'fr' }), 'en');
    assert.equal(languageOf({ lang: 42 }), 'en');
    assert.equal(languageOf({}), 'en');
    assert.equal(languageOf(undefined), 'en');
    assert.equal(parseLanguage('klingon'), undefined);
  });
});

describe('queries', () => {
  test('distinct terms in order of first occurrence, weighted by count', () => {
    assert.deepEqual(analyzeQuery('Heat transfer: the heated plate transfers heat'), [
      { term: 'heat', weight: 3 },
      { term: 'transfer', weight: 2 },
      { term: 'plate', weight: 1 },
    ]);
  });

  test('a query and a document meet on the same terms', () => {
    const doc = analyzeTerms('Las CANCIONES del niño', 'es');
    const query = analyzeQuery('cancion nino', 'es').map((t) => t.term);
    for (const term of query) assert.ok(doc.includes(term), term);
  });
});
