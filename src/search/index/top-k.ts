/**
 * Ranked results and their one total order: score descending, then doc_id ascending (by UTF-16
 * code units). With one order everywhere, each node's top k and the coordinator's merge of them
 * give exactly the top k a single index would give, ties included.
 */

/** A scored document. */
export interface ScoredHit {
  doc_id: string;
  score: number;
}

/** Negative when `a` ranks before `b`: higher score first, then smaller doc_id. */
export function compareHits(a: ScoredHit, b: ScoredHit): number {
  if (a.score !== b.score) return b.score > a.score ? 1 : -1;
  if (a.doc_id === b.doc_id) return 0;
  return a.doc_id < b.doc_id ? -1 : 1;
}

/**
 * Keeps the best `k` hits offered to it, in O(log k) per offer: a binary heap whose root is
 * the worst hit kept.
 */
export class TopK<T extends ScoredHit = ScoredHit> {
  private readonly heap: T[] = [];

  constructor(readonly k: number) {
    if (!Number.isInteger(k) || k < 0)
      throw new RangeError(`k must be a non-negative integer, got ${k}`);
  }

  /** Whether a hit with this score and id would be kept now (cheap pre-check). */
  wouldAccept(hit: ScoredHit): boolean {
    if (this.heap.length < this.k) return this.k > 0;
    const worst = this.heap[0];
    return worst !== undefined && compareHits(hit, worst) < 0;
  }

  /** Offer a hit; it is kept if it is among the best k so far. */
  offer(hit: T): void {
    if (!this.wouldAccept(hit)) return;
    if (this.heap.length < this.k) {
      this.heap.push(hit);
      this.siftUp(this.heap.length - 1);
    } else {
      this.heap[0] = hit;
      this.siftDown(0);
    }
  }

  /** The hits kept, best first. */
  sorted(): T[] {
    return [...this.heap].sort(compareHits);
  }

  /** The score of the worst hit kept (-Infinity when none is). */
  worstScore(): number {
    return this.heap[0]?.score ?? -Infinity;
  }

  /** How many hits are kept. */
  get size(): number {
    return this.heap.length;
  }

  /** Heap order: the worse hit is the parent. */
  private worse(i: number, j: number): boolean {
    return compareHits(this.heap[i] as T, this.heap[j] as T) > 0;
  }

  private swap(i: number, j: number): void {
    const tmp = this.heap[i] as T;
    this.heap[i] = this.heap[j] as T;
    this.heap[j] = tmp;
  }

  private siftUp(start: number): void {
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(start: number): void {
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < this.heap.length && this.worse(left, worst)) worst = left;
      if (right < this.heap.length && this.worse(right, worst)) worst = right;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }
}

/**
 * Merge ranked lists (e.g. each node's local top k) into the global top k. A doc_id seen in
 * several lists (a replicated document) is kept once, with its best hit.
 */
export function mergeTopK<T extends ScoredHit>(lists: readonly (readonly T[])[], k: number): T[] {
  const best = new Map<string, T>();
  for (const list of lists) {
    for (const hit of list) {
      const seen = best.get(hit.doc_id);
      if (seen === undefined || compareHits(hit, seen) < 0) best.set(hit.doc_id, hit);
    }
  }
  const top = new TopK<T>(k);
  for (const hit of best.values()) top.offer(hit);
  return top.sorted();
}
