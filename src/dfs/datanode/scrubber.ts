/**
 * Background scrubbing (dfs-architecture.md, "Verificación de Integridad": "un proceso que
 * periódicamente verifica todos los chunks almacenados para detectar corrupción silenciosa"):
 * walk every chunk, verify it at a bounded rate, and keep the corrupt ones to report in the
 * next heartbeat until the master acknowledges them.
 *
 * The rate is a token bucket over bytes read, driven by an injected `Clock` and `sleep`, so
 * tests run it on a `ManualClock` without waiting.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import type { ChunkId } from '../meta/types.js';
import type { ChunkHealth } from './chunk-store.js';

/** Waits `ms` milliseconds, or rejects when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real sleep (timers/promises). */
export const realSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? {} : { signal });
};

/**
 * A token bucket over bytes: `take(n)` returns at once while the bucket holds tokens and
 * otherwise sleeps until the debt is repaid at `rateBytesPerSecond`. A take larger than the
 * bucket is allowed (it goes into debt), so any read size works with any burst.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly rateBytesPerSecond: number,
    private readonly burstBytes: number,
    private readonly clock: Clock,
    private readonly sleep: Sleep,
  ) {
    if (!(rateBytesPerSecond > 0)) throw new RangeError('rateBytesPerSecond must be > 0');
    if (!(burstBytes >= 0)) throw new RangeError('burstBytes must be >= 0');
    this.tokens = burstBytes;
    this.lastMs = clock.nowMs();
  }

  /** Takes `bytes` tokens, sleeping as long as the rate requires. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    this.refill();
    this.tokens -= bytes;
    if (this.tokens >= 0 || this.rateBytesPerSecond === Infinity) return;
    const waitMs = Math.ceil((-this.tokens / this.rateBytesPerSecond) * 1000);
    await this.sleep(waitMs, signal);
    this.refill();
  }

  private refill(): void {
    const nowMs = this.clock.nowMs();
    const earned = (Math.max(0, nowMs - this.lastMs) / 1000) * this.rateBytesPerSecond;
    this.tokens = Math.min(this.burstBytes, this.tokens + earned);
    this.lastMs = nowMs;
  }
}

/** What the scrubber needs of a chunk store (`ChunkStore` has it). */
export interface ScrubbableStore {
  listChunks(): Promise<{ chunkId: ChunkId; size: number }[]>;
  verifyChunk(
    chunkId: ChunkId,
    options: { onRead?: (bytes: number) => Promise<void> },
  ): Promise<ChunkHealth>;
}

/** Options of a `Scrubber`. */
export interface ScrubberOptions {
  /** Verification rate in bytes per second (the CLI takes MB/s). */
  readonly rateBytesPerSecond: number;
  /** Bytes that may be read at once before the rate applies. Default: 1 MiB. */
  readonly burstBytes?: number;
  /** Pause between two passes over all chunks. Default: 1 hour. */
  readonly passIntervalMs?: number;
  readonly clock: Clock;
  /** Default: `realSleep`. */
  readonly sleep?: Sleep;
  /** Called once per corrupt chunk found (every pass that finds it). */
  readonly onCorrupt?: (chunkId: ChunkId) => void;
  /** Called when a pass fails (e.g. the data directory cannot be listed); the loop goes on. */
  readonly onError?: (error: unknown) => void;
}

/** The outcome of one pass. */
export interface ScrubPassReport {
  readonly checked: number;
  readonly bytes: number;
  readonly corrupt: readonly ChunkId[];
  readonly durationMs: number;
}

/** Running totals, for metrics. */
export interface ScrubberStats {
  readonly passes: number;
  readonly chunksChecked: number;
  readonly bytesChecked: number;
  readonly corruptFound: number;
}

/** Walks every chunk verifying it at a bounded rate; see the module comment. */
export class Scrubber {
  private readonly bucket: TokenBucket;
  private readonly sleep: Sleep;
  private readonly pending = new Set<ChunkId>();
  private totals: ScrubberStats = { passes: 0, chunksChecked: 0, bytesChecked: 0, corruptFound: 0 };
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly store: ScrubbableStore,
    private readonly options: ScrubberOptions,
  ) {
    this.sleep = options.sleep ?? realSleep;
    const burst = options.burstBytes ?? 1024 * 1024;
    this.bucket = new TokenBucket(options.rateBytesPerSecond, burst, options.clock, this.sleep);
  }

  /** Verifies every chunk once, in id order; returns what it found. */
  async scrubOnce(signal?: AbortSignal): Promise<ScrubPassReport> {
    const startMs = this.options.clock.nowMs();
    const chunks = (await this.store.listChunks()).sort((a, b) => (a.chunkId < b.chunkId ? -1 : 1));
    const corrupt: ChunkId[] = [];
    let bytes = 0;
    let checked = 0;
    for (const { chunkId } of chunks) {
      if (signal?.aborted === true) break;
      const onRead = async (n: number): Promise<void> => {
        bytes += n;
        await this.bucket.take(n, signal);
      };
      const health = await this.store.verifyChunk(chunkId, { onRead });
      if (health === 'missing') continue; // deleted since the listing
      checked += 1;
      if (health === 'corrupt') {
        corrupt.push(chunkId);
        this.report(chunkId);
      } else this.pending.delete(chunkId); // rewritten since it was found corrupt
    }
    this.totals = {
      passes: this.totals.passes + 1,
      chunksChecked: this.totals.chunksChecked + checked,
      bytesChecked: this.totals.bytesChecked + bytes,
      corruptFound: this.totals.corruptFound + corrupt.length,
    };
    return { checked, bytes, corrupt, durationMs: this.options.clock.nowMs() - startMs };
  }

  /** Records a corrupt chunk (from a pass, or from the read path) for the next heartbeat. */
  report(chunkId: ChunkId): void {
    this.pending.add(chunkId);
    this.options.onCorrupt?.(chunkId);
  }

  /** Corrupt chunks not yet acknowledged by the master; sent in every heartbeat until then. */
  pendingCorrupt(): ChunkId[] {
    return [...this.pending].sort();
  }

  /** Forgets reports the master received (call after a successful heartbeat). */
  acknowledge(chunkIds: Iterable<ChunkId>): void {
    for (const id of chunkIds) this.pending.delete(id);
  }

  /** Totals since the scrubber was created. */
  stats(): ScrubberStats {
    return this.totals;
  }

  /** Starts passes in the background, `passIntervalMs` apart, until `stop()`. */
  start(): void {
    if (this.loop !== null) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loop = this.run(abort.signal);
  }

  /** Stops the background passes and waits for the current one to end. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = null;
    this.abort = null;
  }

  private async run(signal: AbortSignal): Promise<void> {
    const intervalMs = this.options.passIntervalMs ?? 60 * 60 * 1000;
    while (!signal.aborted) {
      try {
        await this.scrubOnce(signal);
        await this.sleep(intervalMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        this.options.onError?.(error);
        await this.sleep(intervalMs, signal).catch(() => undefined);
      }
    }
  }
}
