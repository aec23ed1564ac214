/**
 * The heart of a deterministic simulation (DESIGN.md, rule 2): one seed drives a `SeededRandom`,
 * a `ManualClock` moves only from event to event, and events run in a fixed order, so a failing
 * seed replays exactly.
 */
import { ManualClock } from '../../src/core/clock.js';
import { SeededRandom } from '../../src/core/random.js';
import { EventQueue } from './event-queue.js';

/** Bounds that keep a run finite. */
export interface RunLimits {
  /** Stop after this many events (default 1,000,000); exceeding it throws. */
  readonly maxEvents?: number;
}

const DEFAULT_MAX_EVENTS = 1_000_000;

/** A seeded clock, random source and event queue. */
export class Simulation {
  readonly clock = new ManualClock(0);
  readonly random: SeededRandom;
  private readonly queue = new EventQueue();
  private eventsRun = 0;

  constructor(readonly seed: number) {
    this.random = new SeededRandom(seed);
  }

  /** The simulated time in milliseconds. */
  get nowMs(): number {
    return this.clock.nowMs();
  }

  /** Events run so far. */
  get eventCount(): number {
    return this.eventsRun;
  }

  /** Events waiting to run. */
  get pendingCount(): number {
    return this.queue.size;
  }

  /** Runs `action` `delayMs` from now; returns a handle for `cancel`. */
  schedule(delayMs: number, action: () => void): number {
    if (!(delayMs >= 0)) throw new RangeError(`delay must be >= 0, got ${delayMs}`);
    return this.queue.push(this.nowMs + delayMs, action);
  }

  /** Runs `action` at the absolute time `atMs` (not in the past). */
  at(atMs: number, action: () => void): number {
    return this.schedule(atMs - this.nowMs, action);
  }

  /** Cancels a scheduled action. */
  cancel(handle: number): void {
    this.queue.cancel(handle);
  }

  /** Runs the next event; returns false when none is left. */
  step(): boolean {
    const event = this.queue.pop();
    if (event === undefined) return false;
    this.clock.set(event.atMs);
    this.eventsRun++;
    event.run();
    return true;
  }

  /** Runs every event up to and including `untilMs`, then sets the clock to `untilMs`. */
  runUntil(untilMs: number, limits: RunLimits = {}): void {
    const budget = this.eventsRun + (limits.maxEvents ?? DEFAULT_MAX_EVENTS);
    for (;;) {
      const next = this.queue.peekTimeMs();
      if (next === undefined || next > untilMs) break;
      if (this.eventsRun >= budget) throw new Error(`seed=${this.seed}: event budget exhausted`);
      this.step();
    }
    if (untilMs > this.nowMs) this.clock.set(untilMs);
  }

  /** Runs for `durationMs` of simulated time. */
  runFor(durationMs: number, limits: RunLimits = {}): void {
    this.runUntil(this.nowMs + durationMs, limits);
  }

  /** Runs until no event is left (a bounded number of them). */
  runUntilIdle(limits: RunLimits = {}): void {
    const budget = this.eventsRun + (limits.maxEvents ?? DEFAULT_MAX_EVENTS);
    while (this.step()) {
      if (this.eventsRun >= budget) throw new Error(`seed=${this.seed}: event budget exhausted`);
    }
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.random.next() * (max - min);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.random.next() < p;
  }

  /** A uniformly chosen element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[this.random.int(items.length)];
    if (item === undefined) throw new RangeError('pick needs a non-empty list');
    return item;
  }

  /** A seeded Fisher-Yates shuffle of a copy of `items`. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const a = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = a;
    }
    return copy;
  }
}
