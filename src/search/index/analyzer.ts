import { stem as porter2Stem } from 'porter2';
import snowball from 'snowball-stemmers';
import { STOP_WORD_SOURCES } from './stopwords.js';

/**
 * The analyzer: text -> terms. One pipeline for documents and queries, so that a query word
 * and the same word in a document always meet on one term:
 *
 * 1. words are maximal runs of Unicode letters, digits and combining marks (so "shock-wave"
 *    is two words, "don't" is "don" + "t");
 * 2. each word is lowercased, NFKD-decomposed, stripped of combining marks (accent folding:
 *    "Canción" -> "cancion", "ﬁ" -> "fi") and of the few letters NFKD leaves alone ("ß" -> "ss");
 * 3. stop words of the document's language are dropped (positions still advance past them);
 * 4. the Snowball stemmer of the language (Porter2 for English) reduces the rest: English
 *    through the `porter2` package (the Snowball algorithm, about 30 times faster than the
 *    generated code of `snowball-stemmers`, identical on every word we compared: see
 *    docs/search-ranking.md), Spanish through `snowball-stemmers`.
 *
 * Words are cached per language, so a word's pipeline runs once per process.
 */

/** Languages with stop words and a stemmer. */
export type Language = 'en' | 'es';

/** The language of a document whose metadata names none. */
export const DEFAULT_LANGUAGE: Language = 'en';

/** One term of analyzed text, with where its word sits in the original string. */
export interface AnalyzedToken {
  /** The term (folded, stemmed). */
  term: string;
  /** Word position in the text, counting stop words too (for proximity). */
  position: number;
  /** UTF-16 offset of the word's first code unit in the original text. */
  start: number;
  /** UTF-16 offset one past the word's last code unit. */
  end: number;
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
const COMBINING_MARKS = /\p{M}+/gu;
const NOT_WORD = /[^\p{L}\p{N}]+/u;
const HAS_LETTER = /\p{L}/u;
const ASCII_WORD = /^[a-z0-9]+$/;
/** Letters that NFKD does not decompose but ASCII folding maps (as Lucene's ASCIIFoldingFilter). */
const EXTRA_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss',
  æ: 'ae',
  œ: 'oe',
  ø: 'o',
  ł: 'l',
  đ: 'd',
  ð: 'd',
  þ: 'th',
  ı: 'i',
  ħ: 'h',
};
const EXTRA_FOLD_PATTERN = new RegExp(`[${Object.keys(EXTRA_FOLDS).join('')}]`, 'gu');

/** Bound on each per-language word cache; it is simply cleared when full. */
const WORD_CACHE_MAX = 200_000;

/** Lowercase, NFKD-decompose and strip accents from one word (no stemming, no stop list). */
export function foldWord(word: string): string {
  const lower = word.toLowerCase();
  if (ASCII_WORD.test(lower)) return lower;
  return lower
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .replace(EXTRA_FOLD_PATTERN, (letter) => EXTRA_FOLDS[letter] ?? letter);
}

function foldedStopSet(source: string): ReadonlySet<string> {
  return new Set(
    source
      .split(/\s+/u)
      .filter((word) => word !== '')
      .map(foldWord),
  );
}

const STOP_WORDS: Readonly<Record<Language, ReadonlySet<string>>> = {
  en: foldedStopSet(STOP_WORD_SOURCES.en),
  es: foldedStopSet(STOP_WORD_SOURCES.es),
};

/** Whether a folded word is a stop word of the language. */
export function isStopWord(foldedWord: string, language: Language): boolean {
  return STOP_WORDS[language].has(foldedWord);
}

const spanishStemmer = snowball.newStemmer('spanish');
const stemmers: Readonly<Record<Language, (word: string) => string>> = {
  en: porter2Stem,
  es: (word) => spanishStemmer.stem(word),
};

/** The Snowball stem of a folded word (words without letters, e.g. numbers, stay as they are). */
export function stemWord(foldedWord: string, language: Language): string {
  if (!HAS_LETTER.test(foldedWord)) return foldedWord;
  return stemmers[language](foldedWord);
}

const NO_TERMS: readonly string[] = Object.freeze([]);
const wordCaches: Record<Language, Map<string, readonly string[]>> = {
  en: new Map(),
  es: new Map(),
};

/**
 * The terms of one word: usually one, none for a stop word, several when folding produced
 * separators (e.g. "½" -> "1⁄2" -> "1", "2").
 */
export function wordTerms(word: string, language: Language): readonly string[] {
  const cache = wordCaches[language];
  const cached = cache.get(word);
  if (cached !== undefined) return cached;
  const folded = foldWord(word);
  const parts = NOT_WORD.test(folded)
    ? folded.split(NOT_WORD).filter((part) => part !== '')
    : [folded];
  const terms = parts
    .filter((part) => !isStopWord(part, language))
    .map((part) => stemWord(part, language));
  const result = terms.length === 0 ? NO_TERMS : Object.freeze(terms);
  if (cache.size >= WORD_CACHE_MAX) cache.clear();
  cache.set(word, result);
  return result;
}

/** A word of the original text and where it sits. */
export interface WordSpan {
  word: string;
  start: number;
  end: number;
}

/** 1 for the ASCII letters and digits, by code unit (the rest of ASCII separates words). */
const ASCII_WORD_UNITS = Uint8Array.from({ length: 128 }, (_unused, code) =>
  (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) ? 1 : 0,
);

/**
 * The width in code units (1 or 2) of the character at `text[i]` if it belongs to a word (a
 * letter, digit or combining mark), else 0. ASCII is read by code unit, the rest by code
 * point. Every scan over words (`scanWords`, the index's tokenizer) uses it, so they agree.
 */
export function wordCharWidth(text: string, i: number): number {
  const unit = text.charCodeAt(i);
  if (unit < 128) return ASCII_WORD_UNITS[unit] as number;
  const code = text.codePointAt(i) as number;
  if (!WORD_CHAR.test(String.fromCodePoint(code))) return 0;
  return code > 0xffff ? 2 : 1;
}

/**
 * Call `visit(start, end)` for each word: each maximal run of letters, digits and combining
 * marks, until `visit` answers false. A hand-written scan, because it runs on every byte
 * indexed and a global regex allocates a match object per word.
 */
export function scanWords(
  text: string,
  visit: (start: number, end: number) => boolean | void,
): void {
  let start = -1;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const width = wordCharWidth(text, i);
    if (width > 0) {
      if (start < 0) start = i;
      i += width;
      continue;
    }
    if (start >= 0) {
      if (visit(start, i) === false) return;
      start = -1;
    }
    // A character outside words: a surrogate pair still counts as one.
    i += (text.codePointAt(i) as number) > 0xffff ? 2 : 1;
  }
  if (start >= 0) visit(start, length);
}

/** The words of a text, with their offsets. */
export function wordSpans(text: string): WordSpan[] {
  const spans: WordSpan[] = [];
  scanWords(text, (start, end) => {
    spans.push({ word: text.slice(start, end), start, end });
  });
  return spans;
}

/** Analyze text into terms with positions and original offsets (for indexing and snippets). */
export function analyze(text: string, language: Language = DEFAULT_LANGUAGE): AnalyzedToken[] {
  const tokens: AnalyzedToken[] = [];
  let position = 0;
  scanWords(text, (start, end) => {
    for (const term of wordTerms(text.slice(start, end), language))
      tokens.push({ term, position, start, end });
    position += 1;
  });
  return tokens;
}

/** Analyze text into its terms only, in order (duplicates kept). */
export function analyzeTerms(text: string, language: Language = DEFAULT_LANGUAGE): string[] {
  const terms: string[] = [];
  scanWords(text, (start, end) => {
    for (const term of wordTerms(text.slice(start, end), language)) terms.push(term);
  });
  return terms;
}

/** A query term with its weight (the number of times it occurs in the query). */
export interface QueryTerm {
  term: string;
  weight: number;
}

/**
 * Analyze a query: distinct terms in order of first occurrence, each weighted by how often
 * it occurs (as Lucene sums a repeated clause). The order is part of the query: every node
 * adds a document's per-term contributions in this order, so scores agree to the last bit.
 */
export function analyzeQuery(text: string, language: Language = DEFAULT_LANGUAGE): QueryTerm[] {
  return weighTerms(analyzeTerms(text, language));
}

/** Group a term list into distinct weighted terms, in order of first occurrence. */
export function weighTerms(terms: readonly string[]): QueryTerm[] {
  const byTerm = new Map<string, QueryTerm>();
  for (const term of terms) {
    const seen = byTerm.get(term);
    if (seen === undefined) byTerm.set(term, { term, weight: 1 });
    else seen.weight += 1;
  }
  return [...byTerm.values()];
}

const SPANISH_NAMES = new Set(['es', 'spa', 'spanish', 'espanol', 'castellano']);
const ENGLISH_NAMES = new Set(['en', 'eng', 'english']);

/** Parse a language name or tag ("es", "es-MX", "Spanish", "español"); undefined if unknown. */
export function parseLanguage(name: string): Language | undefined {
  const base = foldWord(name.trim()).split(/[-_]/u)[0] ?? '';
  if (SPANISH_NAMES.has(base)) return 'es';
  if (ENGLISH_NAMES.has(base)) return 'en';
  return undefined;
}

/** A document's language from `metadata.lang` or `metadata.language`; English by default. */
export function languageOf(metadata: Readonly<Record<string, unknown>> | undefined): Language {
  const named = metadata?.['lang'] ?? metadata?.['language'];
  if (typeof named !== 'string') return DEFAULT_LANGUAGE;
  return parseLanguage(named) ?? DEFAULT_LANGUAGE;
}
