/**
 * The data model of the job scheduler (scheduler.ts): ids, task and attempt records, the job's
 * schedule, inputs, effects and configuration, and the schedule of a new job. Plain JSON
 * values, so the master can persist a schedule as it is. Pure.
 */
import assert from 'node:assert/strict';
import type { BackoffConfig } from '../../core/backoff.js';
import type { Random } from '../../core/random.js';
import type {
  Brand,
  StrategyConfig,
  StrategyName,
  StrategyState,
  WorkerFigures,
  WorkerId,
} from './strategies/index.js';

/** A job's id. */
export type JobId = Brand<string, 'JobId'>;
/** A task's id: `<jobId>-m-000003` or `<jobId>-r-000001`. */
export type TaskId = Brand<string, 'TaskId'>;
/** One attempt at a task: `<taskId>.<n>`, n from 1. */
export type AttemptId = Brand<string, 'AttemptId'>;

export type TaskPhase = 'map' | 'reduce';
export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'dead-lettered';
export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';
export type JobPhase = TaskPhase | 'done';
export type AttemptStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Why an attempt failed (the seed's categorized reasons). */
export const FAILURE_REASONS = [
  'timeout',
  'crash',
  'user-code',
  'unreachable',
  'bad-input',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** Why the scheduler cancels an attempt. */
export type CancelReason =
  'speculation-lost' | 'timeout' | 'job-cancelled' | 'map-output-lost' | 'worker-lost';

/** A failed attempt's report; `record` is the input record that failed, when known. */
export interface TaskFailure {
  readonly reason: FailureReason;
  readonly error: string;
  readonly record?: string;
}

/** What a successful attempt reports: where its output is, and its counters. */
export interface TaskOutput {
  /** Map: the worker's shuffle URL; reduce: the attempt's temporary DFS path. */
  readonly location: string;
  readonly counters?: Readonly<Record<string, number>>;
}

/** The accepted output of a task: the one that counts. */
export interface AcceptedOutput extends TaskOutput {
  readonly attemptId: AttemptId;
  readonly workerId: WorkerId;
}

/** A dead-lettered task (see dlq.ts). `at` is epoch milliseconds. */
export interface DeadLetterEntry {
  readonly task_id: TaskId;
  readonly job_id: JobId;
  readonly reason: FailureReason;
  readonly error: string;
  readonly record?: string;
  /** Failed attempts since the task's last recovery. */
  readonly attempts: number;
  readonly at: number;
}

export interface AttemptRecord {
  readonly id: AttemptId;
  readonly taskId: TaskId;
  readonly phase: TaskPhase;
  readonly index: number;
  readonly workerId: WorkerId;
  readonly speculative: boolean;
  readonly startedAtMs: number;
  /** Start, or the last progress report: the timeout counts from here. */
  readonly lastProgressAtMs: number;
  /** In [0, 1]. */
  readonly progress: number;
  readonly status: AttemptStatus;
  readonly endedAtMs: number | null;
  readonly failure: TaskFailure | null;
  readonly cancelReason: CancelReason | null;
}

export interface TaskRecord {
  readonly id: TaskId;
  readonly phase: TaskPhase;
  readonly index: number;
  readonly status: TaskStatus;
  /** Hosts holding a replica of the split (map tasks); empty for reduce tasks. */
  readonly preferredHosts: readonly string[];
  /** Failed attempts since the last recovery or output loss: the retry budget used. */
  readonly failures: number;
  readonly totalFailures: number;
  readonly attemptsStarted: number;
  /** A `failed` task is not assigned before this time. */
  readonly notBeforeMs: number;
  /** Workers it failed on since the last recovery (avoided by its retries when possible). */
  readonly failedOn: readonly WorkerId[];
  readonly lastFailure: TaskFailure | null;
  /**
   * When the task's current run of `unreachable` failures began, and how many it holds (for
   * the backoff); absent or null when its last failure was of another kind (and in schedules
   * saved before these fields existed).
   */
  readonly unreachableSinceMs?: number | null;
  readonly unreachableFailures?: number;
  /** Its live attempts (at most two, on distinct workers). */
  readonly running: readonly AttemptId[];
  readonly output: AcceptedOutput | null;
  /** Duration of the winning attempt, for the speculation median. */
  readonly durationMs: number | null;
  readonly outputLosses: number;
}

/** Running totals, for metrics and the dashboard. */
export interface SchedulerStats {
  readonly attemptsStarted: number;
  readonly failures: number;
  readonly retries: number;
  readonly timeouts: number;
  readonly speculativeLaunched: number;
  readonly speculativeWon: number;
  readonly outputsLost: number;
  readonly deadLettered: number;
  readonly recovered: number;
}

/** The whole state of one job's schedule: plain JSON, persisted by the master. */
export interface JobSchedule {
  readonly jobId: JobId;
  readonly status: JobStatus;
  readonly phase: JobPhase;
  readonly maps: readonly TaskRecord[];
  readonly reduces: readonly TaskRecord[];
  readonly attempts: Readonly<Record<string, AttemptRecord>>;
  readonly stats: SchedulerStats;
}

/** Speculative execution of stragglers (Spark's `spark.speculation.*` semantics). */
export interface SpeculationConfig {
  readonly enabled: boolean;
  /** A running task this many times slower than its phase's median gets a backup. */
  readonly multiplier: number;
  /** Fraction of the phase's tasks that must have finished first. */
  readonly quantile: number;
  /** No backup for an attempt younger than this. */
  readonly minElapsedMs: number;
  /** Backups running at once, as a fraction of the phase's tasks (at least 1). */
  readonly maxRunningFraction: number;
}

export interface SchedulerConfig {
  /** An attempt without news for this long fails with `timeout` (seed: 300 s). */
  readonly taskTimeoutMs: number;
  /** Retries after the first attempt (seed: 3), then the dead-letter queue. */
  readonly maxRetries: number;
  /**
   * Attempts that fail as `unreachable` (the DFS or a map output could not be reached: a
   * service outage, not the task's fault) use no retry budget while the task's run of such
   * failures is younger than this; they back off as usual meanwhile. 0: they count like
   * every other failure.
   */
  readonly unreachableGraceMs: number;
  /** Retry delay: `baseMs * 2^(retry - 1)`, ±20 % (seed: base 1 s). */
  readonly backoff: BackoffConfig;
  readonly speculation: SpeculationConfig;
  /** Whether map tasks prefer workers on a replica's host. */
  readonly locality: boolean;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = Object.freeze({
  taskTimeoutMs: 300_000,
  maxRetries: 3,
  unreachableGraceMs: 60_000,
  backoff: Object.freeze({ baseMs: 1_000, maxMs: 60_000, jitter: 0.2 }),
  speculation: Object.freeze({
    enabled: true,
    multiplier: 1.5,
    quantile: 0.75,
    minElapsedMs: 10_000,
    maxRunningFraction: 0.1,
  }),
  locality: true,
});

/** A configuration with the unset fields (one level deep) taken from the defaults. */
export function resolveSchedulerConfig(
  partial: Partial<
    Omit<SchedulerConfig, 'backoff' | 'speculation'> & {
      backoff: Partial<BackoffConfig>;
      speculation: Partial<SpeculationConfig>;
    }
  > = {},
): SchedulerConfig {
  const d = DEFAULT_SCHEDULER_CONFIG;
  const config = {
    ...d,
    ...partial,
    backoff: { ...d.backoff, ...partial.backoff },
    speculation: { ...d.speculation, ...partial.speculation },
  };
  assert.ok(config.taskTimeoutMs > 0, 'taskTimeoutMs must be > 0');
  assert.ok(Number.isInteger(config.maxRetries) && config.maxRetries >= 0);
  assert.ok(config.unreachableGraceMs >= 0, 'unreachableGraceMs must be >= 0');
  return config;
}

/** What the step needs from the master: time, randomness, workers, strategy, config. */
export interface SchedulerEnv {
  readonly nowMs: number;
  readonly random: Random;
  /** Live workers with their figures (lost workers are left out). */
  readonly workers: readonly WorkerFigures[];
  readonly strategy: StrategyName;
  /** The master's strategy cursor, shared by all jobs. */
  readonly strategyState: StrategyState;
  readonly strategyConfig?: Partial<StrategyConfig>;
  readonly config: SchedulerConfig;
}

export type SchedulerInput =
  /** Timeouts, then assignments, then speculation. */
  | { readonly kind: 'tick' }
  | { readonly kind: 'attempt-progress'; readonly attemptId: AttemptId; readonly progress: number }
  | {
      readonly kind: 'attempt-succeeded';
      readonly attemptId: AttemptId;
      readonly output: TaskOutput;
    }
  | {
      readonly kind: 'attempt-failed';
      readonly attemptId: AttemptId;
      readonly failure: TaskFailure;
    }
  | { readonly kind: 'worker-lost'; readonly workerId: WorkerId }
  /** A reducer could not fetch this map task's output from this worker. */
  | { readonly kind: 'map-output-lost'; readonly taskId: TaskId; readonly workerId: WorkerId }
  | {
      readonly kind: 'recover';
      readonly taskId: TaskId;
      /** A recovered map task's split, planned again: the hosts of its replicas now. */
      readonly preferredHosts?: readonly string[];
    }
  | { readonly kind: 'cancel' };

export type SchedulerEffect =
  | {
      readonly kind: 'assign';
      readonly attemptId: AttemptId;
      readonly taskId: TaskId;
      readonly phase: TaskPhase;
      readonly index: number;
      readonly workerId: WorkerId;
      readonly speculative: boolean;
      /** Map tasks with replica hosts: whether the worker is on one; null otherwise. */
      readonly local: boolean | null;
    }
  | {
      readonly kind: 'cancel-attempt';
      readonly attemptId: AttemptId;
      readonly taskId: TaskId;
      readonly workerId: WorkerId;
      readonly reason: CancelReason;
    }
  | { readonly kind: 'output-accepted'; readonly taskId: TaskId; readonly output: AcceptedOutput }
  /** A success report that does not count (late, cancelled or lost attempt): delete its output. */
  | {
      readonly kind: 'discard-output';
      readonly attemptId: AttemptId;
      readonly workerId: WorkerId;
      readonly location: string;
    }
  | {
      readonly kind: 'attempt-failed';
      readonly attemptId: AttemptId;
      readonly taskId: TaskId;
      readonly workerId: WorkerId;
      readonly failure: TaskFailure;
    }
  | {
      readonly kind: 'retry-scheduled';
      readonly taskId: TaskId;
      readonly retry: number;
      readonly delayMs: number;
      readonly notBeforeMs: number;
    }
  | { readonly kind: 'dead-letter'; readonly entry: DeadLetterEntry }
  | { readonly kind: 'output-lost'; readonly taskId: TaskId; readonly workerId: WorkerId }
  | { readonly kind: 'phase-changed'; readonly phase: JobPhase; readonly previous: JobPhase }
  | { readonly kind: 'job-status'; readonly status: JobStatus; readonly previous: JobStatus }
  | { readonly kind: 'rejected'; readonly input: SchedulerInput['kind']; readonly reason: string };

export interface SchedulerOutput {
  readonly state: JobSchedule;
  readonly strategyState: StrategyState;
  readonly effects: readonly SchedulerEffect[];
}

/** Longest error message and failing record kept (bounded DLQ memory). */
export const MAX_ERROR_CHARS = 4096;
export const MAX_RECORD_CHARS = 1024;

/** The id of task `index` of `phase` in job `jobId`. */
export function taskIdOf(jobId: JobId, phase: TaskPhase, index: number): TaskId {
  return `${jobId}-${phase === 'map' ? 'm' : 'r'}-${String(index).padStart(6, '0')}` as TaskId;
}

/** What a new job's schedule needs: its splits' replica hosts (one map task each) and R. */
export interface JobPlan {
  readonly jobId: JobId;
  readonly splits: readonly { readonly preferredHosts: readonly string[] }[];
  readonly reduceCount: number;
}

/** The schedule of a new job: every task pending. */
export function createJobSchedule(plan: JobPlan): JobSchedule {
  assert.ok(Number.isInteger(plan.reduceCount) && plan.reduceCount >= 1, 'reduceCount >= 1');
  const task = (phase: TaskPhase, index: number, hosts: readonly string[]): TaskRecord => ({
    id: taskIdOf(plan.jobId, phase, index),
    phase,
    index,
    status: 'pending',
    preferredHosts: hosts.map((h) => h.toLowerCase()),
    failures: 0,
    totalFailures: 0,
    attemptsStarted: 0,
    notBeforeMs: 0,
    failedOn: [],
    lastFailure: null,
    running: [],
    output: null,
    durationMs: null,
    outputLosses: 0,
  });
  return {
    jobId: plan.jobId,
    status: 'running',
    phase: plan.splits.length > 0 ? 'map' : 'reduce',
    maps: plan.splits.map((split, i) => task('map', i, split.preferredHosts)),
    reduces: Array.from({ length: plan.reduceCount }, (_, i) => task('reduce', i, [])),
    attempts: {},
    stats: {
      attemptsStarted: 0,
      failures: 0,
      retries: 0,
      timeouts: 0,
      speculativeLaunched: 0,
      speculativeWon: 0,
      outputsLost: 0,
      deadLettered: 0,
      recovered: 0,
    },
  };
}
