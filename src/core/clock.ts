/**
 * Injected time (DESIGN.md, rule 8). Protocol code receives `now` from its caller; drivers
 * take it from a `Clock`, so tests can run on a `ManualClock` and never sleep.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that moves only when told to; for tests and simulations. */
export class ManualClock implements Clock {
  constructor(private currentMs = 0) {}

  nowMs(): number {
    return this.currentMs;
  }

  advance(ms: number): void {
    if (ms < 0) throw new RangeError('a clock cannot go backwards');
    this.currentMs += ms;
  }

  set(ms: number): void {
    this.currentMs = ms;
  }
}
