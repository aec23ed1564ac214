/**
 * The LRU cache of locate results (distrisearch-balancer.md, "Mejoras futuras": "Caché de
 * locate_terms() (LRU)"). One entry per term; the balancer deletes a term's entry whenever
 * anything that term's answer depends on changes, so a cached answer always equals a fresh one.
 *
 * Pure: a `Map` kept in recency order (the oldest entry first).
 */

/** Default capacity, in terms. */
export const DEFAULT_LOCATE_CACHE_SIZE = 10_000;

/** Hit and miss counters and the fill of the cache. */
export interface LocateCacheStats {
  readonly size: number;
  readonly capacity: number;
  readonly hits: number;
  readonly misses: number;
  /** hits / (hits + misses), 0 before the first lookup. */
  readonly hitRate: number;
}

/** A bounded least-recently-used map from term to a value. Capacity 0 disables it. */
export class LocateCache<V> {
  private readonly entries = new Map<string, V>();
  private hits = 0;
  private misses = 0;

  constructor(readonly capacity: number = DEFAULT_LOCATE_CACHE_SIZE) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(`cache capacity must be a non-negative integer, got ${capacity}`);
    }
  }

  /** The cached value of `term` (counted as a hit, and made the most recent) or undefined. */
  get(term: string): V | undefined {
    const value = this.entries.get(term);
    if (value === undefined) {
      this.misses += 1;
      return undefined;
    }
    this.hits += 1;
    this.entries.delete(term);
    this.entries.set(term, value);
    return value;
  }

  /** Stores `value` for `term`, evicting the least recently used entry when full. */
  set(term: string, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(term);
    this.entries.set(term, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Drops the entry of `term`, if any. */
  invalidate(term: string): void {
    this.entries.delete(term);
  }

  /** Drops the entries of all `terms`. */
  invalidateAll(terms: Iterable<string>): void {
    for (const term of terms) this.entries.delete(term);
  }

  /** The cached terms, least recent first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops every entry (the counters are kept). */
  clear(): void {
    this.entries.clear();
  }

  stats(): LocateCacheStats {
    const lookups = this.hits + this.misses;
    return {
      size: this.entries.size,
      capacity: this.capacity,
      hits: this.hits,
      misses: this.misses,
      hitRate: lookups === 0 ? 0 : this.hits / lookups,
    };
  }
}
