import { DEFAULT_LANGUAGE, wordSpans, wordTerms, type Language } from './analyzer.js';

/**
 * Snippets: the window of a document's text with the most query matches, as HTML-escaped
 * text with each matched original word wrapped in `<mark>…</mark>`. A word matches when one
 * of its terms (after folding, stop words and stemming) is a query term, so "Heated" is
 * marked for the query "heat".
 */

/** Snippet options; every field has the default stated. */
export interface SnippetOptions {
  /** Words in the window. Default 30. */
  windowWords?: number;
  /** Analysis language of the document. Default 'en'. */
  language?: Language;
  /** Opening and closing highlight tags. Default `<mark>` and `</mark>`. */
  open?: string;
  close?: string;
  /** Marks a cut at either end of the window. Default '…'. */
  ellipsis?: string;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const NEEDS_ESCAPE = /[&<>"']/u;

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/[&<>"']/gu, (char) => HTML_ESCAPES[char] ?? char);
}

/** The words a snippet shows: indexes into the text's words, inclusive. */
export interface WindowChoice {
  first: number;
  last: number;
}

/**
 * The window of `size` words with the most distinct query terms, then the most matched
 * words, then the earliest: a sliding window over the words, O(words). `matches[i]` lists the
 * query terms (or any keys standing for them, e.g. term ids) of word i.
 */
export function bestWindow<K>(matches: readonly (readonly K[])[], size: number): WindowChoice {
  const counts = new Map<K, number>();
  let distinct = 0;
  let matchedWords = 0;
  let best = { first: 0, distinct: -1, matchedWords: -1 };
  const addWord = (terms: readonly K[], delta: 1 | -1): void => {
    if (terms.length > 0) matchedWords += delta;
    for (const term of terms) {
      const next = (counts.get(term) ?? 0) + delta;
      counts.set(term, next);
      if (delta === 1 && next === 1) distinct += 1;
      if (delta === -1 && next === 0) distinct -= 1;
    }
  };
  for (let last = 0; last < matches.length; last += 1) {
    addWord(matches[last] ?? [], 1);
    const first = last - size + 1;
    if (first > 0) addWord(matches[first - 1] ?? [], -1);
    const start = Math.max(0, first);
    if (
      distinct > best.distinct ||
      (distinct === best.distinct && matchedWords > best.matchedWords)
    ) {
      best = { first: start, distinct, matchedWords };
    }
  }
  return { first: best.first, last: Math.min(matches.length - 1, best.first + size - 1) };
}

/** Where the words of a window sit in the text, and which of them match. */
export interface WindowWords {
  /** `[start, end)` offsets of the window's words, first to last. */
  readonly spans: readonly (readonly [number, number])[];
  /** Whether each of those words matches a query term. */
  readonly matched: readonly boolean[];
  /** Whether words precede the window / follow it. */
  readonly cutBefore: boolean;
  readonly cutAfter: boolean;
}

/** The highlighted, escaped text of a window (see `makeSnippet`). */
export function renderWindow(text: string, window: WindowWords, options: SnippetOptions): string {
  const open = options.open ?? '<mark>';
  const close = options.close ?? '</mark>';
  const ellipsis = options.ellipsis ?? '…';
  const pieces: string[] = [];
  let cursor = window.spans[0]?.[0] ?? 0;
  window.spans.forEach(([start, end], i) => {
    pieces.push(escapeHtml(text.slice(cursor, start)));
    const original = escapeHtml(text.slice(start, end));
    pieces.push(window.matched[i] === true ? `${open}${original}${close}` : original);
    cursor = end;
  });
  // Keep punctuation that closes the last word ("wing." or "wing),"), up to the next space.
  const tail = /^[^\s\p{L}\p{N}]*/u.exec(text.slice(cursor))?.[0] ?? '';
  pieces.push(escapeHtml(tail));
  const body = pieces.join('').replace(/\s+/gu, ' ').trim();
  return `${window.cutBefore ? ellipsis : ''}${body}${window.cutAfter ? ellipsis : ''}`;
}

/**
 * A snippet of `text` for the query terms (as the analyzer produced them), highlighted.
 * Returns the escaped beginning of the text when nothing matches.
 */
export function makeSnippet(
  text: string,
  queryTerms: Iterable<string>,
  options: SnippetOptions = {},
): string {
  const size = Math.max(1, options.windowWords ?? 30);
  const language = options.language ?? DEFAULT_LANGUAGE;
  const wanted = new Set(queryTerms);
  const words = wordSpans(text);
  if (words.length === 0) return '';
  const matches = words.map((word) =>
    wordTerms(word.word, language).filter((term) => wanted.has(term)),
  );
  const { first, last } = bestWindow(matches, size);
  const inWindow = words.slice(first, last + 1);
  return renderWindow(
    text,
    {
      spans: inWindow.map((word) => [word.start, word.end] as const),
      matched: matches.slice(first, last + 1).map((terms) => terms.length > 0),
      cutBefore: first > 0,
      cutAfter: last < words.length - 1,
    },
    options,
  );
}
