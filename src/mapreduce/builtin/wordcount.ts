/**
 * Word count: words are maximal runs of ASCII letters, lower-cased (the same rule as
 * `tr -cs A-Za-z '\n' | tr A-Z a-z`); the output is `word<TAB>count`. The mapper counts a
 * whole batch of lines in a Map before emitting (in-mapper combining), and the combiner sums.
 */
import type { Emit, JobFunctions } from './types.js';

const WORD = /[A-Za-z]+/g;

function sum(key: string, values: string[], emit: Emit): void {
  let total = 0;
  for (const value of values) total += Number(value);
  emit(key, String(total));
}

/** The word-count job. */
export function wordcount(): JobFunctions {
  return {
    map(_key, line, emit) {
      for (const match of line.matchAll(WORD)) emit(match[0].toLowerCase(), '1');
    },
    mapBatch(_key, lines, emit) {
      const counts = new Map<string, number>();
      for (const line of lines) {
        for (const match of line.matchAll(WORD)) {
          const word = match[0].toLowerCase();
          counts.set(word, (counts.get(word) ?? 0) + 1);
        }
      }
      for (const [word, count] of counts) emit(word, String(count));
    },
    combine: sum,
    reduce: sum,
  };
}
