import { proximityScore, type Bm25Params } from './scoring.js';

/**
 * BM25TP, the term-proximity part of the ranking (Büttcher, Clarke & Lushman, SIGIR 2006),
 * computed from a document's forward index (term ids and word positions), plus the bound that
 * lets the index skip documents whose proximity could not change the top k. Pure.
 */

/** A query term resolved against an index: its term id, query weight and idf. */
export interface PreparedTerm {
  termId: number;
  weight: number;
  idf: number;
}

/**
 * Upper bounds of the proximity part by the number m of query terms a document matches: the
 * sum of the m largest caps weight * min(1, idf) * (k1 + 1) (the saturated part is below
 * k1 + 1); 0 for m < 2, since proximity needs two different terms. A relative slack of
 * 1e-9 covers rounding, so the cut never drops a document by an ulp.
 */
export function proximityBoundByMatched(
  terms: readonly PreparedTerm[],
  params: Bm25Params,
): number[] {
  const caps = terms
    .map((term) => Math.max(0, term.weight * Math.min(1, term.idf) * (params.k1 + 1)))
    .sort((a, b) => b - a);
  const bounds = [0, 0];
  let sum = caps[0] ?? 0;
  for (let m = 2; m <= caps.length; m += 1) {
    sum += caps[m - 1] ?? 0;
    bounds.push(sum * (1 + 1e-9));
  }
  return bounds;
}

/** The k-th largest of the scores (-Infinity if there are fewer than k). */
export function kthBestScore(scores: readonly number[], k: number): number {
  return kthLargest(scores, scores.length, k);
}

/**
 * The k-th largest of `values[0, count)` (-Infinity if there are fewer than k): a min-heap of
 * the k largest in a typed array, O(count log k), no allocation per value.
 */
export function kthLargest(values: ArrayLike<number>, count: number, k: number): number {
  if (count < k || k <= 0) return -Infinity;
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < count; i += 1) {
    const value = values[i] as number;
    if (size < k) {
      let at = size;
      size += 1;
      while (at > 0 && (heap[(at - 1) >> 1] as number) > value) {
        heap[at] = heap[(at - 1) >> 1] as number;
        at = (at - 1) >> 1;
      }
      heap[at] = value;
    } else if (value > (heap[0] as number)) {
      siftDownMin(heap, k, value);
    }
  }
  return heap[0] as number;
}

/** Replaces the root of a min-heap of `size` values by `value` and restores the heap. */
function siftDownMin(heap: Float64Array, size: number, value: number): void {
  let at = 0;
  for (;;) {
    const left = 2 * at + 1;
    if (left >= size) break;
    const right = left + 1;
    const child = right < size && (heap[right] as number) < (heap[left] as number) ? right : left;
    if ((heap[child] as number) >= value) break;
    heap[at] = heap[child] as number;
    at = child;
  }
  heap[at] = value;
}

/**
 * The proximity part for one document: walk its query-term occurrences in order; each pair of
 * neighbouring occurrences of two different terms at distance d adds the other term's
 * idf / d^2 to each term's accumulator; each accumulator is then saturated like a term
 * frequency (`proximityScore`) and weighted by the term's query weight.
 *
 * `queryIndex[termId]` is 1 + the term's index in `terms`, or 0 for terms not in the query.
 */
export function proximityBonus(
  termIds: Int32Array,
  positions: Int32Array,
  terms: readonly PreparedTerm[],
  queryIndex: Int32Array,
  avgdl: number,
  params: Bm25Params,
): number {
  const accumulators = new Float64Array(terms.length);
  let previous = -1;
  let previousPosition = 0;
  for (let i = 0; i < termIds.length; i += 1) {
    const current = (queryIndex[termIds[i] as number] ?? 0) - 1;
    if (current < 0) continue;
    const position = positions[i] as number;
    if (previous >= 0 && previous !== current) {
      const distance = Math.max(1, position - previousPosition);
      const squared = distance * distance;
      accumulators[current] =
        (accumulators[current] ?? 0) + (terms[previous] as PreparedTerm).idf / squared;
      accumulators[previous] =
        (accumulators[previous] ?? 0) + (terms[current] as PreparedTerm).idf / squared;
    }
    previous = current;
    previousPosition = position;
  }
  let bonus = 0;
  terms.forEach((term, i) => {
    bonus +=
      term.weight * proximityScore(accumulators[i] ?? 0, term.idf, termIds.length, avgdl, params);
  });
  return bonus;
}
