// Rule (issue 5, word count; `tr -cs A-Za-z '\n' | tr A-Z a-z`): a word is a maximal run of
// ASCII letters, lower-cased; every other byte (digits, punctuation, UTF-8 multi-byte
// characters) separates words. The byte counter must agree with `/[A-Za-z]+/g` on the decoded
// text, whatever the text and however it is cut at line ends.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AsciiWordCounter } from '../../src/mapreduce/builtin/ascii-word-counter.js';

function regexCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/[A-Za-z]+/g)) {
    const word = match[0].toLowerCase();
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return new Map([...counts].sort());
}

function counterCounts(counter: AsciiWordCounter): Map<string, number> {
  return new Map([...counter.entries()].sort());
}

const alphabet = fc.constantFrom(
  ..."aAbBzZqQ \n\t\r,.-'0é€ÿ".split(''),
  'naïve',
  'ÉTÉ',
  'x-ray',
  '😀',
);

describe('AsciiWordCounter', () => {
  test('counts like /[A-Za-z]+/g on the decoded text, fed line by line', () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 300 }), (pieces) => {
        const text = pieces.join('');
        const counter = new AsciiWordCounter();
        for (const line of text.split(/(?<=\n)/)) counter.count(Buffer.from(line, 'utf8'));
        assert.deepEqual(counterCounts(counter), regexCounts(text));
      }),
      { numRuns: 300 },
    );
  });

  test('many distinct words: the table grows and keeps every count', () => {
    const words = Array.from({ length: 50_000 }, (_, i) =>
      i.toString(26).replace(/\d/g, (d) => String.fromCharCode(103 + Number(d))),
    );
    const text = `${words.join(' ')}\n${words.slice(0, 1000).join(' ').toUpperCase()}\n`;
    const counter = new AsciiWordCounter();
    counter.count(Buffer.from(text));
    assert.equal(counter.size, new Set(words).size);
    assert.deepEqual(counterCounts(counter), regexCounts(text));
  });

  test('clear forgets every word', () => {
    const counter = new AsciiWordCounter();
    counter.count(Buffer.from('Alpha beta ALPHA\n'));
    counter.clear();
    counter.count(Buffer.from('gamma\n'));
    assert.deepEqual(counterCounts(counter), new Map([['gamma', 1]]));
  });
});
