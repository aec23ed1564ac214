import assert from 'node:assert/strict';
import type { Clock } from './clock.js';

/**
 * The per-peer circuit breaker of the fault-tolerance middleware (poneglyph-reduce.md):
 * CLOSED -> OPEN after `failureThreshold` consecutive failures -> HALF_OPEN once `openMs` has
 * passed -> CLOSED after `successThreshold` successes in HALF_OPEN; any failure in HALF_OPEN
 * opens the circuit again.
 *
 * Why not cockatiel's `ConsecutiveBreaker`: DESIGN.md picks cockatiel "where its semantics
 * match the seed". Its half-open state lets a single trial call through and closes on the first
 * success, while the seed asks for three successes before closing. So this is our own small
 * state machine, in cockatiel's spirit: a few lines of pure logic, time passed in by the caller.
 *
 * Pure (DESIGN.md rule 1): `breakerStep` and `breakerAllows` take `nowMs` and return a new
 * value; the OPEN -> HALF_OPEN transition happens lazily, when a caller next looks at the
 * breaker. `CircuitBreaker` is the small stateful wrapper drivers hold, reading an injected Clock.
 *
 * Non-goal: HALF_OPEN does not cap how many calls run at once. Every call admitted while
 * HALF_OPEN is a trial; the first failure reopens the circuit, so a burst against a still-dead
 * peer costs at most the calls already in flight.
 */

/** The three positions of a circuit. */
export type CircuitState = 'CLOSED' | 'HALF_OPEN' | 'OPEN';

/** The outcome of one call through the breaker. */
export type BreakerEvent = 'success' | 'failure';

/** Thresholds of the breaker. */
export interface BreakerConfig {
  /** Consecutive failures that open a closed circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit refuses calls before it lets trials through, in milliseconds. */
  readonly openMs: number;
  /** Successes in HALF_OPEN that close the circuit. */
  readonly successThreshold: number;
}

/** The seed's figures: 5 consecutive failures, 60 s open, 3 successes to close. */
export const defaultBreakerConfig: BreakerConfig = Object.freeze({
  failureThreshold: 5,
  openMs: 60_000,
  successThreshold: 3,
});

/** Fills the unset fields of a partial breaker configuration with `defaultBreakerConfig`. */
export function resolveBreakerConfig(partial: Partial<BreakerConfig> = {}): BreakerConfig {
  const config = { ...defaultBreakerConfig, ...partial };
  assert.ok(Number.isInteger(config.failureThreshold) && config.failureThreshold >= 1);
  assert.ok(Number.isInteger(config.successThreshold) && config.successThreshold >= 1);
  assert.ok(Number.isFinite(config.openMs) && config.openMs >= 0);
  return config;
}

/** The whole state of one breaker, a plain immutable value. */
export interface Breaker {
  readonly state: CircuitState;
  /** Failures since the last success (events reported while OPEN are ignored). */
  readonly consecutiveFailures: number;
  /** Successes counted in the current HALF_OPEN period. */
  readonly halfOpenSuccesses: number;
  /** When the circuit last opened; null unless OPEN or HALF_OPEN. */
  readonly openedAtMs: number | null;
  /** Number of state changes so far, for metrics. */
  readonly transitions: number;
  /** Number of times the circuit opened so far, for metrics. */
  readonly opens: number;
}

/** A closed circuit with no history. */
export const initialBreaker: Breaker = Object.freeze({
  state: 'CLOSED',
  consecutiveFailures: 0,
  halfOpenSuccesses: 0,
  openedAtMs: null,
  transitions: 0,
  opens: 0,
});

/** The breaker as it stands at `nowMs`: an OPEN circuit whose `openMs` has passed is HALF_OPEN. */
export function breakerAdvance(breaker: Breaker, nowMs: number, config: BreakerConfig): Breaker {
  if (breaker.state !== 'OPEN' || breaker.openedAtMs === null) return breaker;
  if (nowMs - breaker.openedAtMs < config.openMs) return breaker;
  return {
    ...breaker,
    state: 'HALF_OPEN',
    halfOpenSuccesses: 0,
    transitions: breaker.transitions + 1,
  };
}

/**
 * The breaker after outside evidence that the peer is back (it heartbeats again after being
 * declared dead): an OPEN circuit goes HALF_OPEN at once instead of waiting out `openMs`, so
 * trial calls go through; the usual HALF_OPEN rules then close it or open it again.
 */
export function breakerPeerBack(breaker: Breaker): Breaker {
  if (breaker.state !== 'OPEN') return breaker;
  return {
    ...breaker,
    state: 'HALF_OPEN',
    halfOpenSuccesses: 0,
    transitions: breaker.transitions + 1,
  };
}

/**
 * Whether a call may go to the peer at `nowMs`, with the breaker after the lazy time
 * transition (the caller keeps the returned breaker).
 */
export function breakerAllows(
  breaker: Breaker,
  nowMs: number,
  config: BreakerConfig,
): { allowed: boolean; breaker: Breaker } {
  const current = breakerAdvance(breaker, nowMs, config);
  return { allowed: current.state !== 'OPEN', breaker: current };
}

/** Applies the outcome of one call, reported at `nowMs`. */
export function breakerStep(
  breaker: Breaker,
  event: BreakerEvent,
  nowMs: number,
  config: BreakerConfig,
): Breaker {
  const current = breakerAdvance(breaker, nowMs, config);
  switch (current.state) {
    case 'CLOSED':
      return event === 'success'
        ? onClosedSuccess(current)
        : onClosedFailure(current, nowMs, config);
    case 'HALF_OPEN':
      return event === 'success'
        ? onHalfOpenSuccess(current, config)
        : onHalfOpenFailure(current, nowMs);
    case 'OPEN':
      // The outcome of a call admitted before the circuit opened: the verdict is already made.
      return current;
  }
}

/** Milliseconds until an OPEN circuit lets trials through; 0 when it is not OPEN. */
export function breakerRetryAfterMs(
  breaker: Breaker,
  nowMs: number,
  config: BreakerConfig,
): number {
  if (breaker.state !== 'OPEN' || breaker.openedAtMs === null) return 0;
  return Math.max(0, breaker.openedAtMs + config.openMs - nowMs);
}

/** The metric encoding of a circuit state: 0 closed, 1 half-open, 2 open. */
export function circuitStateValue(state: CircuitState): 0 | 1 | 2 {
  return state === 'CLOSED' ? 0 : state === 'HALF_OPEN' ? 1 : 2;
}

function onClosedSuccess(breaker: Breaker): Breaker {
  return breaker.consecutiveFailures === 0 ? breaker : { ...breaker, consecutiveFailures: 0 };
}

function onClosedFailure(breaker: Breaker, nowMs: number, config: BreakerConfig): Breaker {
  const failed = { ...breaker, consecutiveFailures: breaker.consecutiveFailures + 1 };
  return failed.consecutiveFailures >= config.failureThreshold ? open(failed, nowMs) : failed;
}

function onHalfOpenSuccess(breaker: Breaker, config: BreakerConfig): Breaker {
  const halfOpenSuccesses = breaker.halfOpenSuccesses + 1;
  if (halfOpenSuccesses < config.successThreshold) {
    return { ...breaker, consecutiveFailures: 0, halfOpenSuccesses };
  }
  return {
    ...breaker,
    state: 'CLOSED',
    consecutiveFailures: 0,
    halfOpenSuccesses: 0,
    openedAtMs: null,
    transitions: breaker.transitions + 1,
  };
}

function onHalfOpenFailure(breaker: Breaker, nowMs: number): Breaker {
  return open({ ...breaker, consecutiveFailures: breaker.consecutiveFailures + 1 }, nowMs);
}

function open(breaker: Breaker, nowMs: number): Breaker {
  return {
    ...breaker,
    state: 'OPEN',
    halfOpenSuccesses: 0,
    openedAtMs: nowMs,
    transitions: breaker.transitions + 1,
    opens: breaker.opens + 1,
  };
}

/** Called after every state change of a `CircuitBreaker`. */
export type BreakerTransitionListener = (from: CircuitState, to: Breaker) => void;

/**
 * A breaker with its state and a Clock, for drivers (the HTTP client keeps one per peer).
 * Ask `allows()` before a call, `record()` its outcome after.
 */
export class CircuitBreaker {
  readonly config: BreakerConfig;
  private current: Breaker = initialBreaker;

  constructor(
    private readonly clock: Clock,
    config: Partial<BreakerConfig> = {},
    private readonly onTransition?: BreakerTransitionListener,
  ) {
    this.config = resolveBreakerConfig(config);
  }

  /** The breaker as of now (an OPEN circuit past `openMs` reads as HALF_OPEN). */
  snapshot(): Breaker {
    this.replace(breakerAdvance(this.current, this.clock.nowMs(), this.config));
    return this.current;
  }

  /** Whether a call may go through now. */
  allows(): boolean {
    const { allowed, breaker } = breakerAllows(this.current, this.clock.nowMs(), this.config);
    this.replace(breaker);
    return allowed;
  }

  /** Reports the outcome of a call. */
  record(event: BreakerEvent): void {
    this.replace(breakerStep(this.current, event, this.clock.nowMs(), this.config));
  }

  /** The peer is known to be back (see `breakerPeerBack`). */
  peerBack(): void {
    this.replace(breakerPeerBack(this.current));
  }

  /** Milliseconds until an open circuit lets trials through; 0 when not open. */
  retryAfterMs(): number {
    return breakerRetryAfterMs(this.current, this.clock.nowMs(), this.config);
  }

  private replace(next: Breaker): void {
    const from = this.current.state;
    this.current = next;
    if (next.state !== from) this.onTransition?.(from, next);
  }
}
