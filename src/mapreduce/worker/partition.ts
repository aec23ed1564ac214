/**
 * The shuffle's partitioner (issue 5, "Map output is partitioned by key hash into R
 * partitions"): `partitionOf(key, R) = fnv1a32(utf8(key)) mod R`. FNV-1a has no seed and is
 * defined on bytes, so every worker process, whatever its language or run, sends a key to the
 * same reduce task. (JavaScript's own string hashes are per-process and not exposed.)
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * 32-bit FNV-1a of the UTF-8 encoding of `key`, as an unsigned integer. Encodes on the fly
 * (no Buffer per key); a lone surrogate hashes as U+FFFD, as `Buffer.from(key)` encodes it.
 */
export function fnv1a32(key: string): number {
  // Hot path (every map output record): no closures, no allocation.
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < key.length; i++) {
    let code = key.charCodeAt(i);
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, FNV_PRIME);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = key.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i += 1;
      } else {
        code = 0xfffd;
      }
    }
    if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), FNV_PRIME);
    } else if (code < 0x10000) {
      hash = Math.imul(hash ^ (0xe0 | (code >> 12)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), FNV_PRIME);
    } else {
      hash = Math.imul(hash ^ (0xf0 | (code >> 18)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 12) & 0x3f)), FNV_PRIME);
      hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), FNV_PRIME);
    }
    hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), FNV_PRIME);
  }
  return hash >>> 0;
}

/** The reduce task (0..reduceCount-1) that receives `key`. */
export function partitionOf(key: string, reduceCount: number): number {
  if (!(Number.isInteger(reduceCount) && reduceCount >= 1)) {
    throw new RangeError(`reduceCount must be an integer >= 1, got ${reduceCount}`);
  }
  return fnv1a32(key) % reduceCount;
}

/** A partitioner: which of `reduceCount` partitions a key goes to. */
export type Partitioner = (key: string, reduceCount: number) => number;
