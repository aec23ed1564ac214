import { randomBytes, randomUUID } from 'node:crypto';

/**
 * Injected randomness (DESIGN.md, rule 8). Protocol code that needs randomness (jitter,
 * tie-breaking) takes a `Random`; simulations pass a `SeededRandom` so a seed replays a run.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
  /** A random UUID v4 string. */
  uuid(): string;
}

/** Randomness from the operating system. */
export const systemRandom: Random = {
  next: () => randomBytes(4).readUInt32BE(0) / 2 ** 32,
  int: (maxExclusive) => Math.floor((randomBytes(4).readUInt32BE(0) / 2 ** 32) * maxExclusive),
  uuid: () => randomUUID(),
};

/** A small, fast, seedable PRNG (mulberry32). Same seed, same sequence. */
export class SeededRandom implements Random {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.int(16).toString(16)).join('');
    const variant = (this.int(4) + 8).toString(16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}
