/**
 * A hash table from words of a text to their term ids, looked up by the word's offsets in the
 * text: no substring is made and no string is hashed by the engine. Indexing looks up every
 * word of every document here, so this lookup is the indexer's inner loop, and it is bound by
 * memory latency: a `Map` keyed by `text.slice(start, end)` allocates and hashes a substring
 * and then follows four or five pointers (bucket, key string, value array, ...). Here a bucket
 * holds the hash, where the word's characters sit in one shared pool, its length and its term
 * id, so a hit costs two cache lines: the bucket and the characters.
 *
 * Open addressing with linear probing; a full table (`maxEntries`) is simply cleared, like the
 * analyzer's caches.
 */

/** `find`'s answer for a word that is not in the table. */
export const WORD_MISSING = -0x7fffffff;
/** `find`'s answer for a word without terms (a stop word). */
export const WORD_NO_TERMS = -1;

/** Ints per bucket: hash, pool offset + 1 (0: empty), length, code (see `find`). */
const BUCKET = 4;

/** FNV-1a over the UTF-16 code units of `text[start, end)`, as a 32-bit integer. */
export function hashWord(text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/** Words (by offsets in a text) -> term ids. */
export class WordTable {
  private buckets = new Int32Array(1024 * BUCKET);
  private pool = new Uint16Array(16 * 1024);
  private poolUsed = 0;
  private entries = 0;
  /** Term ids of words with more than one term (rare: folding split them). */
  private multi: (readonly number[])[] = [];

  constructor(private readonly maxEntries: number) {}

  /** Number of words held. */
  get size(): number {
    return this.entries;
  }

  /**
   * The word `text[start, end)`: its term id (>= 0), `WORD_NO_TERMS`, a code <= -2 for
   * several ids (`idsOf`), or `WORD_MISSING`.
   */
  find(text: string, start: number, end: number): number {
    const hash = hashWord(text, start, end);
    const buckets = this.buckets;
    const mask = buckets.length / BUCKET - 1;
    const length = end - start;
    for (let bucket = hash & mask; ; bucket = (bucket + 1) & mask) {
      const at = bucket * BUCKET;
      const offset = (buckets[at + 1] as number) - 1;
      if (offset < 0) return WORD_MISSING;
      if (
        buckets[at] === hash &&
        buckets[at + 2] === length &&
        this.same(offset, length, text, start)
      )
        return buckets[at + 3] as number;
    }
  }

  /** The term ids of a code that `find` answered (any code but `WORD_MISSING`). */
  idsOf(code: number): readonly number[] {
    if (code >= 0) return [code];
    if (code === WORD_NO_TERMS) return [];
    return this.multi[-code - 2] ?? [];
  }

  /** Adds a word that is not held (callers `find` first); answers its code. */
  add(word: string, ids: readonly number[]): number {
    if (this.entries >= this.maxEntries) this.clear();
    if ((this.entries + 1) * 2 > this.buckets.length / BUCKET) this.grow();
    let code: number;
    if (ids.length === 1) code = ids[0] as number;
    else if (ids.length === 0) code = WORD_NO_TERMS;
    else {
      code = -2 - this.multi.length;
      this.multi.push([...ids]);
    }
    const offset = this.store(word);
    this.place(hashWord(word, 0, word.length), offset, word.length, code);
    this.entries += 1;
    return code;
  }

  /** Forgets every word. */
  clear(): void {
    this.buckets = new Int32Array(1024 * BUCKET);
    this.pool = new Uint16Array(16 * 1024);
    this.poolUsed = 0;
    this.entries = 0;
    this.multi = [];
  }

  private same(offset: number, length: number, text: string, start: number): boolean {
    const pool = this.pool;
    for (let i = 0; i < length; i += 1)
      if (pool[offset + i] !== text.charCodeAt(start + i)) return false;
    return true;
  }

  /** Copies the word's code units into the pool. */
  private store(word: string): number {
    const needed = this.poolUsed + word.length;
    if (needed > this.pool.length) {
      const pool = new Uint16Array(Math.max(needed, this.pool.length * 2));
      pool.set(this.pool.subarray(0, this.poolUsed));
      this.pool = pool;
    }
    const offset = this.poolUsed;
    for (let i = 0; i < word.length; i += 1) this.pool[offset + i] = word.charCodeAt(i);
    this.poolUsed = needed;
    return offset;
  }

  private place(hash: number, offset: number, length: number, code: number): void {
    const buckets = this.buckets;
    const mask = buckets.length / BUCKET - 1;
    let bucket = hash & mask;
    while (buckets[bucket * BUCKET + 1] !== 0) bucket = (bucket + 1) & mask;
    const at = bucket * BUCKET;
    buckets[at] = hash;
    buckets[at + 1] = offset + 1;
    buckets[at + 2] = length;
    buckets[at + 3] = code;
  }

  private grow(): void {
    const old = this.buckets;
    this.buckets = new Int32Array(old.length * 2);
    for (let at = 0; at < old.length; at += BUCKET) {
      if (old[at + 1] === 0) continue;
      this.place(
        old[at] as number,
        (old[at + 1] as number) - 1,
        old[at + 2] as number,
        old[at + 3] as number,
      );
    }
  }
}
