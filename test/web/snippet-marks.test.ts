// Rule (issue 6, Search page: "ranked results with highlighted snippets"; DESIGN.md: the
// search node's snippet is HTML-escaped text with the query terms in <mark>…</mark>): the
// dashboard shows exactly the document's words with exactly the matched ones highlighted, and
// never turns a document's own text into markup — `parseSnippet` splits the snippet into text
// runs that the app renders as text nodes. Checked against hand-written cases, a model (any
// runs, escaped and wrapped, parse back to themselves), and the search engine's real
// `makeSnippet` on generated text full of HTML-special characters.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { analyzeTerms } from '../../src/search/index.js';
import { makeSnippet } from '../../src/search/index/snippet.js';
import { parseSnippet, unescapeHtml, type SnippetPart } from '../../src/web/snippet-marks.pure.js';

const escape = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!,
  );

/** Merges adjacent runs with the same highlight and drops empty ones, as the parser does. */
function normalize(parts: readonly SnippetPart[]): SnippetPart[] {
  const merged: SnippetPart[] = [];
  for (const part of parts) {
    if (part.text === '') continue;
    const last = merged[merged.length - 1];
    if (last?.marked === part.marked)
      merged[merged.length - 1] = { ...last, text: last.text + part.text };
    else merged.push({ text: part.text, marked: part.marked });
  }
  return merged;
}

describe('parseSnippet', () => {
  const cases: [string, string, SnippetPart[]][] = [
    ['plain text', 'no marks here', [{ text: 'no marks here', marked: false }]],
    [
      'marks',
      'the <mark>heat</mark> on a <mark>wing</mark>.',
      [
        { text: 'the ', marked: false },
        { text: 'heat', marked: true },
        { text: ' on a ', marked: false },
        { text: 'wing', marked: true },
        { text: '.', marked: false },
      ],
    ],
    [
      'escaped markup stays text',
      '&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; <mark>wing</mark>',
      [
        { text: '<img src=x onerror="alert(1)"> & ', marked: false },
        { text: 'wing', marked: true },
      ],
    ],
    [
      'unescaped foreign tags stay text',
      '<b>bold</b> <mark><i>x</i></mark>',
      [
        { text: '<b>bold</b> ', marked: false },
        { text: '<i>x</i>', marked: true },
      ],
    ],
    ['numeric references', '&#39;&#x41;&#65;', [{ text: "'AA", marked: false }]],
    [
      'unknown or invalid references',
      '&bogus; &#xD800; &#0;',
      [{ text: '&bogus; &#xD800; &#0;', marked: false }],
    ],
    [
      'nested and stray tags',
      '</mark>a<mark><mark>b</mark>c</mark>d',
      [
        { text: 'a', marked: false },
        { text: 'bc', marked: true },
        { text: 'd', marked: false },
      ],
    ],
    ['an escaped mark tag is text', '&lt;mark&gt;x', [{ text: '<mark>x', marked: false }]],
    ['empty', '', []],
  ];
  for (const [name, snippet, expected] of cases) {
    test(name, () => assert.deepEqual(parseSnippet(snippet), expected));
  }

  test('unescapeHtml inverts the escaping of any text', () => {
    fc.assert(fc.property(fc.string(), (text) => unescapeHtml(escape(text)) === text));
  });

  test('any runs, escaped and wrapped in marks, parse back to themselves', () => {
    const run = fc.record({ text: fc.string({ maxLength: 12 }), marked: fc.boolean() });
    fc.assert(
      fc.property(fc.array(run, { maxLength: 8 }), (runs) => {
        const snippet = runs
          .map((r) => (r.marked ? `<mark>${escape(r.text)}</mark>` : escape(r.text)))
          .join('');
        assert.deepEqual(parseSnippet(snippet), normalize(runs));
      }),
      { numRuns: 300 },
    );
  });

  test("the engine's snippets show the document's words, with exactly the matching ones marked", () => {
    const words = ['heat', 'heated', 'wing', 'wings', 'flow', 'tail', 'script', 'img', 'amp', 'lt'];
    const separators = [' ', '  ', ' < ', ' & ', '"', ' <b>', '> ', ' &amp; ', ' \n '];
    const text = fc
      .tuple(
        fc.array(fc.constantFrom(...words), { minLength: 1, maxLength: 25 }),
        fc.array(fc.constantFrom(...separators), { minLength: 25, maxLength: 25 }),
      )
      .map(([picked, seps]) =>
        picked.map((word, i) => (i === 0 ? word : `${seps[i]}${word}`)).join(''),
      );
    fc.assert(
      fc.property(text, fc.subarray(words, { minLength: 1 }), (document, query) => {
        const terms = new Set(analyzeTerms(query.join(' ')));
        const parts = parseSnippet(makeSnippet(document, terms, { windowWords: 1_000 }));
        assert.equal(parts.map((part) => part.text).join(''), document.replace(/\s+/g, ' ').trim());
        const matches = (word: string): boolean => analyzeTerms(word).some((t) => terms.has(t));
        const marked = parts.filter((part) => part.marked).map((part) => part.text);
        const expected = document.split(/[^a-z]+/).filter((word) => word !== '' && matches(word));
        assert.deepEqual(marked, expected);
      }),
      { numRuns: 200 },
    );
  });
});
