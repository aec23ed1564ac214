/**
 * Counts words straight from bytes, for the built-in word count: a word is a maximal run of
 * the bytes `A-Za-z`, lower-cased (the rule of `LC_ALL=C tr -cs A-Za-z '\n' | tr A-Z a-z`;
 * UTF-8 multi-byte characters have no byte in that range, so they separate words as they do
 * for `/[A-Za-z]+/` on the decoded text). Words are hashed (FNV-1a over the lower-cased bytes)
 * into an open-addressing table whose keys live in one byte arena, so counting allocates
 * nothing per word: a string is made once per distinct word, when the counts are read.
 */

const LETTER = new Uint8Array(256);
const LOWER = new Uint8Array(256);
for (let byte = 0; byte < 256; byte += 1) LOWER[byte] = byte;
for (let byte = 65; byte <= 90; byte += 1) {
  LETTER[byte] = 1;
  LETTER[byte + 32] = 1;
  LOWER[byte] = byte + 32;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const INITIAL_SLOTS = 1 << 14;

/** A word -> count table fed with bytes. */
export class AsciiWordCounter {
  /** Entry index + 1 per slot; 0 is an empty slot. */
  private slots = new Int32Array(INITIAL_SLOTS);
  private hashes = new Int32Array(INITIAL_SLOTS / 2);
  private starts = new Int32Array(INITIAL_SLOTS / 2);
  private lengths = new Int32Array(INITIAL_SLOTS / 2);
  private counts = new Float64Array(INITIAL_SLOTS / 2);
  private arena = Buffer.allocUnsafe(1 << 16);
  private arenaUsed = 0;
  /** Distinct words counted. */
  size = 0;

  /** Bytes held by the table's keys (to bound the memory of a long split). */
  get arenaBytes(): number {
    return this.arenaUsed;
  }

  /** Counts the words of `bytes` (which must not cut a word: whole lines, for instance). */
  count(bytes: Uint8Array): void {
    const n = bytes.length;
    let i = 0;
    while (i < n) {
      let byte = bytes[i]!;
      if (LETTER[byte] === 0) {
        i += 1;
        continue;
      }
      const start = i;
      let hash = FNV_OFFSET;
      do {
        hash = Math.imul(hash ^ LOWER[byte]!, FNV_PRIME);
        i += 1;
      } while (i < n && LETTER[(byte = bytes[i]!)] === 1);
      this.add(bytes, start, i - start, hash);
    }
  }

  /** Every word with its count, in no particular order. */
  *entries(): Generator<[string, number]> {
    for (let entry = 0; entry < this.size; entry += 1) {
      const start = this.starts[entry]!;
      yield [
        this.arena.toString('latin1', start, start + this.lengths[entry]!),
        this.counts[entry]!,
      ];
    }
  }

  /** Forgets every word. */
  clear(): void {
    this.slots.fill(0);
    this.size = 0;
    this.arenaUsed = 0;
  }

  private add(bytes: Uint8Array, start: number, length: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const occupant = this.slots[slot]!;
      if (occupant === 0) break;
      const entry = occupant - 1;
      if (
        this.hashes[entry] === hash &&
        this.lengths[entry] === length &&
        this.sameWord(entry, bytes, start, length)
      ) {
        this.counts[entry] = this.counts[entry]! + 1;
        return;
      }
      slot = (slot + 1) & mask;
    }
    this.insert(slot, bytes, start, length, hash);
  }

  private sameWord(entry: number, bytes: Uint8Array, start: number, length: number): boolean {
    const at = this.starts[entry]!;
    for (let k = 0; k < length; k += 1) {
      if (this.arena[at + k] !== LOWER[bytes[start + k]!]) return false;
    }
    return true;
  }

  private insert(slot: number, bytes: Uint8Array, start: number, length: number, hash: number) {
    if (this.arenaUsed + length > this.arena.length) this.growArena(length);
    for (let k = 0; k < length; k += 1) this.arena[this.arenaUsed + k] = LOWER[bytes[start + k]!]!;
    if (this.size === this.hashes.length) this.growEntries();
    const entry = this.size;
    this.hashes[entry] = hash;
    this.starts[entry] = this.arenaUsed;
    this.lengths[entry] = length;
    this.counts[entry] = 1;
    this.arenaUsed += length;
    this.size += 1;
    this.slots[slot] = entry + 1;
    if (this.size * 2 > this.slots.length) this.rehash(this.slots.length * 2);
  }

  private growArena(needed: number): void {
    const grown = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaUsed + needed));
    this.arena.copy(grown, 0, 0, this.arenaUsed);
    this.arena = grown;
  }

  private growEntries(): void {
    const capacity = this.hashes.length * 2;
    const grow = <T extends Int32Array | Float64Array>(old: T, fresh: T): T => {
      fresh.set(old);
      return fresh;
    };
    this.hashes = grow(this.hashes, new Int32Array(capacity));
    this.starts = grow(this.starts, new Int32Array(capacity));
    this.lengths = grow(this.lengths, new Int32Array(capacity));
    this.counts = grow(this.counts, new Float64Array(capacity));
  }

  private rehash(slotCount: number): void {
    const slots = new Int32Array(slotCount);
    const mask = slotCount - 1;
    for (let entry = 0; entry < this.size; entry += 1) {
      let slot = this.hashes[entry]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}
