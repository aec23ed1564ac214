/**
 * Types of the load-balancing strategies of poneglyph-reduce.md ("Load Balancing"): each
 * strategy is a pure function `(workers, task, state) -> {workerId | null, state}` over the
 * per-worker figures the master keeps. No clock, no randomness: ages and latencies arrive as
 * numbers, ties are broken by a round-robin cursor carried in `state`.
 */
import type { CircuitState } from '../../../core/breaker.js';

/** A nominal type: a `T` that only values passed through the matching constructor carry. */
export type Brand<T, Name extends string> = T & { readonly __brand: Name };

/** A MapReduce worker's id, e.g. `worker-9501`. */
export type WorkerId = Brand<string, 'WorkerId'>;

/** `value` as a `WorkerId`; throws a `TypeError` on an empty string. */
export function asWorkerId(value: string): WorkerId {
  if (value.length === 0) throw new TypeError('a worker id cannot be empty');
  return value as WorkerId;
}

/**
 * What the master knows of one worker when it places a task. The master keeps these figures
 * from heartbeats and task results; strategies only read them.
 */
export interface WorkerFigures {
  readonly workerId: WorkerId;
  /** Host name of the worker (for data locality), lower case, e.g. `127.0.0.1` or `node-3`. */
  readonly host: string;
  /** Tasks the worker runs at once (its capacity). */
  readonly slots: number;
  /** Task attempts running on it now, as the master counts them. */
  readonly runningTasks: number;
  /** Task attempts it finished successfully (over the master's window of choice). */
  readonly succeeded: number;
  /** Task attempts that failed on it (same window). */
  readonly failed: number;
  /** Recent mean task duration in milliseconds; null until it finished one. */
  readonly recentLatencyMs: number | null;
  /** Milliseconds since its last heartbeat. */
  readonly heartbeatAgeMs: number;
  /** Its circuit breaker, as of now (an OPEN circuit past its open time reads HALF_OPEN). */
  readonly breaker: CircuitState;
  /**
   * The worker's own health report in [0, 1] (e.g. 1 - load), the seed's `health_score / 100`.
   * Absent: 1.
   */
  readonly reportedHealth?: number;
}

/** The task being placed, as far as a strategy cares. */
export interface TaskDemand {
  /** For logs and tests only; strategies do not rank by it. */
  readonly taskId: string;
  /** Workers this task must not go to (a speculative backup avoids its original's worker). */
  readonly excluded?: readonly WorkerId[];
}

/**
 * The round-robin cursor shared by all strategies: a pick counter and, per worker, the counter
 * value of its last pick. Plain JSON, so the master can persist it; workers absent from a
 * call's input are dropped from it. Among equally good workers, the least recently picked wins.
 */
export interface StrategyState {
  readonly tick: number;
  readonly lastPickedAt: Readonly<Record<string, number>>;
}

/** The cursor before any pick. */
export const INITIAL_STRATEGY_STATE: StrategyState = Object.freeze({
  tick: 0,
  lastPickedAt: Object.freeze({}),
});

/** A strategy's choice (null when no worker is eligible) and the cursor to store back. */
export interface StrategyResult {
  readonly workerId: WorkerId | null;
  readonly state: StrategyState;
}

/** Knobs shared by the strategies; every one has the seed's default. */
export interface StrategyConfig {
  /** A worker whose last heartbeat is this old gets no task (seed: 60 s). */
  readonly staleHeartbeatMs: number;
  /** A task duration counted as fully efficient in smart_composite (seed: 5 s). */
  readonly efficiencyBaselineMs: number;
}

/** The seed's figures: 60 s heartbeat threshold, 5 s efficiency baseline. */
export const DEFAULT_STRATEGY_CONFIG: StrategyConfig = Object.freeze({
  staleHeartbeatMs: 60_000,
  efficiencyBaselineMs: 5_000,
});

/** One load-balancing strategy. */
export type Strategy = (
  workers: readonly WorkerFigures[],
  task: TaskDemand,
  state: StrategyState,
  config?: Partial<StrategyConfig>,
) => StrategyResult;

/** The strategy names of the seed, as the API and `--strategy` spell them. */
export const STRATEGY_NAMES = [
  'round_robin',
  'least_connections',
  'capacity_aware',
  'health_based',
  'smart_composite',
] as const;

/** One of `STRATEGY_NAMES`. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** Whether `value` names a strategy. */
export function isStrategyName(value: unknown): value is StrategyName {
  return typeof value === 'string' && (STRATEGY_NAMES as readonly string[]).includes(value);
}
