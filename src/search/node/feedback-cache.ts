/**
 * A coordinator's memory of RM3 expansions: for a query (its analyzed terms and weights, its
 * ranking options) over a live set, the expanded query its first round produced and the index
 * version of every node at that round. The expansion is a function of the query and of the
 * nodes' indexes alone, so when every node reports, with its final-round hits, the version it
 * had then, the first round would produce the same expansion again and is skipped; a node at
 * another version (a write, a restart) makes the coordinator run the first round anew
 * (coordinator.ts). Pure and bounded: the oldest entries go first.
 */
import type { QueryTerm } from '../index/index.js';

/** An expansion and the node versions it was computed at (in live-id order). */
export interface CachedExpansion {
  readonly expanded: QueryTerm[];
  readonly versions: readonly string[];
}

/** Counters of the cache's use. */
export interface FeedbackCacheCounters {
  hits: number;
  misses: number;
  /** Hits whose final round found a node at another version (the first round ran again). */
  stale: number;
}

/** RM3 expansions seen by a coordinator. */
export class FeedbackCache {
  private readonly entries = new Map<string, CachedExpansion>();
  readonly counters: FeedbackCacheCounters = { hits: 0, misses: 0, stale: 0 };

  constructor(private readonly maxEntries = 2_000) {}

  /** The cache key of a query over a live set (sorted ids) with its options. */
  static key(query: readonly QueryTerm[], live: readonly number[], options: unknown): string {
    return JSON.stringify([query.map((term) => [term.term, term.weight]), live, options]);
  }

  get(key: string): CachedExpansion | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) this.counters.misses += 1;
    else this.counters.hits += 1;
    return entry;
  }

  set(key: string, entry: CachedExpansion): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, entry);
  }

  /** Forgets an entry whose nodes moved on. */
  drop(key: string): void {
    this.counters.stale += 1;
    this.entries.delete(key);
  }
}
