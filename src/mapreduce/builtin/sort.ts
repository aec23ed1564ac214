/**
 * Sort: every input line once per occurrence, in code point order (what `LC_ALL=C sort`
 * gives). With several reducers the master samples the input and sends key boundaries with the
 * job (a total-order partitioning), so part-r-00000, part-r-00001, ... concatenate to one
 * sorted file.
 */
import { compareKeys } from '../worker/spill.js';
import type { JobFunctions } from './types.js';

/** The sort job. */
export function sort(): JobFunctions {
  return {
    map(_path, line, emit) {
      emit(line, '');
    },
    reduce(line, occurrences, emit) {
      for (let i = 0; i < occurrences.length; i += 1) emit(line);
    },
  };
}

/** The partition of a key under range `boundaries` (sorted): how many boundaries are <= key. */
export function rangePartition(boundaries: readonly string[], key: string): number {
  let low = 0;
  let high = boundaries.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (compareKeys(boundaries[mid]!, key) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
