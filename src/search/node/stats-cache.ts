/**
 * A coordinator's memory of the global statistics (N, total length, df per term) it has seen,
 * per live set. It is a *guess*, never trusted: the coordinator scores with the guess and
 * checks it against the statistics every node returns with its hits, computed in the same step
 * as its scoring (coordinator.ts). A wrong guess costs one more scoring round, never a wrong
 * score; so there is no expiry, no invalidation protocol, and no staleness bound to reason
 * about. What it saves: the statistics round of every query whose terms were seen before
 * while the collection did not change (docs/search.md, "The search flow").
 *
 * Pure and bounded: at most `maxLiveSets` live sets, each with at most `maxTerms` terms
 * (a full entry is cleared, like the analyzer's caches).
 */
import type { WireStatsType } from './schemas.js';

interface Entry {
  docCount: number;
  totalLength: number;
  /** term -> global df, zeros included (a term known to be absent). */
  readonly df: Map<string, number>;
}

/** Counters of the cache's use. */
export interface StatsCacheCounters {
  /** Lookups that found every term. */
  hits: number;
  /** Lookups that missed a term or the live set. */
  misses: number;
  /** Stores that found N or the total length changed (the entry's dfs were dropped). */
  resets: number;
}

/** Global statistics seen by a coordinator, by live set. */
export class GlobalStatsCache {
  private readonly entries = new Map<string, Entry>();
  readonly counters: StatsCacheCounters = { hits: 0, misses: 0, resets: 0 };

  constructor(
    private readonly maxTerms = 100_000,
    private readonly maxLiveSets = 4,
  ) {}

  /** The last statistics seen for `terms` over `live` (sorted ids), if every term was seen. */
  lookup(live: readonly number[], terms: readonly string[]): WireStatsType | undefined {
    const entry = this.entries.get(live.join(','));
    const df: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const term of terms) {
      const count = entry?.df.get(term);
      if (count === undefined) {
        this.counters.misses += 1;
        return undefined;
      }
      if (count > 0) df[term] = count;
    }
    if (entry === undefined) {
      this.counters.misses += 1;
      return undefined;
    }
    this.counters.hits += 1;
    return { doc_count: entry.docCount, total_length: entry.totalLength, df };
  }

  /** Records statistics for `terms` over `live` (sorted ids); a term missing from `stats.df` has df 0. */
  store(live: readonly number[], terms: readonly string[], stats: WireStatsType): void {
    const key = live.join(',');
    let entry = this.entries.get(key);
    if (entry === undefined) {
      if (this.entries.size >= this.maxLiveSets) this.entries.clear();
      entry = { docCount: stats.doc_count, totalLength: stats.total_length, df: new Map() };
      this.entries.set(key, entry);
    } else if (
      entry.docCount !== stats.doc_count ||
      entry.totalLength !== stats.total_length ||
      entry.df.size + terms.length > this.maxTerms
    ) {
      // The collection changed: the other terms' dfs are likely stale too; checking them
      // costs a statistics round, cheaper than a scoring round spent on a wrong guess.
      if (entry.docCount !== stats.doc_count || entry.totalLength !== stats.total_length)
        this.counters.resets += 1;
      entry.df.clear();
      entry.docCount = stats.doc_count;
      entry.totalLength = stats.total_length;
    }
    for (const term of terms) {
      const count = Object.hasOwn(stats.df, term) ? (stats.df[term] ?? 0) : 0;
      entry.df.set(term, count);
    }
  }
}
