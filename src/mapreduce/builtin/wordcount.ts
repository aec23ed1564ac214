/**
 * Word count: words are maximal runs of ASCII letters, lower-cased (the same rule as
 * `tr -cs A-Za-z '\n' | tr A-Z a-z`); the output is `word<TAB>count`. The mapper counts the
 * bytes of whole lines as they come (`mapBytes`, no string per word or line) across the whole
 * split and emits each word once at its end (in-mapper combining), or earlier when the table
 * grows past a bound; the combiner and the reducer sum.
 */
import { AsciiWordCounter } from './ascii-word-counter.js';
import type { Emit, JobFunctions } from './types.js';

const WORD = /[A-Za-z]+/g;

/** A split's table is emitted and cleared past this many distinct words (bounded memory). */
const MAX_DISTINCT_WORDS = 1 << 20;
/** ... or past this many bytes of words. */
const MAX_WORD_BYTES = 32 << 20;

function sum(key: string, values: string[], emit: Emit): void {
  let total = 0;
  for (const value of values) total += Number(value);
  emit(key, String(total));
}

function emitAll(counter: AsciiWordCounter, emit: Emit): void {
  for (const [word, count] of counter.entries()) emit(word, String(count));
  counter.clear();
}

/** The word-count job (one per map task: the byte counter keeps the task's counts). */
export function wordcount(): JobFunctions {
  const counter = new AsciiWordCounter();
  return {
    map(_key, line, emit) {
      for (const match of line.matchAll(WORD)) emit(match[0].toLowerCase(), '1');
    },
    mapBytes(_key, lines, emit) {
      counter.count(lines);
      if (counter.size > MAX_DISTINCT_WORDS || counter.arenaBytes > MAX_WORD_BYTES) {
        emitAll(counter, emit);
      }
    },
    mapEnd(emit) {
      emitAll(counter, emit);
    },
    combine: sum,
    reduce: sum,
  };
}
