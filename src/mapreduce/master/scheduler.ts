/**
 * The task scheduler of one MapReduce job as a pure state machine (DESIGN.md rule 1;
 * poneglyph-reduce.md, "Retry Logic" and "Dead Letter Queue"; issue 5, "Fault tolerance"):
 * `schedulerStep(state, input, env) -> {state, strategyState, effects}`.
 *
 * Phases map -> reduce: reduce tasks run once every map task has succeeded. A task is
 * `pending`, `running` (one attempt, or two with a speculative backup), `succeeded` (its output
 * accepted), `failed` (waiting for its retry at `notBeforeMs`) or `dead-lettered`. A failed
 * attempt is retried up to `maxRetries` times with `backoffDelayMs` (exponential, ±20 %
 * jitter), preferably on another worker; then the task is dead-lettered, and the job fails once
 * nothing else can progress — until `recover` gives the task a fresh retry budget. A lost worker
 * fails its running attempts (`crash`) and, while reduce tasks still need them, sends its
 * finished map tasks back to `pending`. Stragglers get a backup attempt on another worker; the
 * first attempt to finish wins and the other is cancelled. Map tasks prefer workers on a host
 * holding a replica of their split. Invariant: a task with an accepted output that is still
 * alive is never assigned again, and each task has at most one accepted output at a time.
 *
 * Time, randomness (retry jitter) and the workers' figures come in `env`; effects go out.
 */
import assert from 'node:assert/strict';
import { backoffDelayMs } from '../../core/backoff.js';
import {
  selectWorker,
  type StrategyState,
  type WorkerFigures,
  type WorkerId,
} from './strategies/index.js';
import {
  MAX_ERROR_CHARS,
  MAX_RECORD_CHARS,
  type AcceptedOutput,
  type AttemptId,
  type AttemptRecord,
  type CancelReason,
  type DeadLetterEntry,
  type JobId,
  type JobPhase,
  type JobSchedule,
  type JobStatus,
  type SchedulerEffect,
  type SchedulerEnv,
  type SchedulerInput,
  type SchedulerOutput,
  type SchedulerStats,
  type TaskFailure,
  type TaskId,
  type TaskOutput,
  type TaskPhase,
  type TaskRecord,
} from './scheduler-model.pure.js';

export * from './scheduler-model.pure.js';
export * from './scheduler-queries.pure.js';
/** The mutable draft of one step; records are replaced, never mutated. */
interface Ctx {
  status: JobStatus;
  phase: JobPhase;
  readonly jobId: JobId;
  readonly tasks: Record<TaskPhase, TaskRecord[]>;
  /** The state's attempts until the first write, then a private copy (copy-on-write). */
  attempts: Record<string, AttemptRecord>;
  attemptsCopied: boolean;
  stats: { -readonly [K in keyof SchedulerStats]: number };
  strategyState: StrategyState;
  /** Working copy of the workers' figures, updated as this step assigns. */
  readonly workers: WorkerFigures[];
  readonly effects: SchedulerEffect[];
  readonly env: SchedulerEnv;
}

/** One step of the job's schedule. */
export function schedulerStep(
  state: JobSchedule,
  input: SchedulerInput,
  env: SchedulerEnv,
): SchedulerOutput {
  const ctx: Ctx = {
    status: state.status,
    phase: state.phase,
    jobId: state.jobId,
    tasks: { map: [...state.maps], reduce: [...state.reduces] },
    attempts: state.attempts,
    attemptsCopied: false,
    stats: { ...state.stats },
    strategyState: env.strategyState,
    workers: env.workers.map((w) => ({ ...w })),
    effects: [],
    env,
  };
  dispatch(ctx, input);
  settle(ctx);
  return {
    state: {
      jobId: ctx.jobId,
      status: ctx.status,
      phase: ctx.phase,
      maps: ctx.tasks.map,
      reduces: ctx.tasks.reduce,
      attempts: ctx.attempts,
      stats: ctx.stats,
    },
    strategyState: ctx.strategyState,
    effects: ctx.effects,
  };
}

function dispatch(ctx: Ctx, input: SchedulerInput): void {
  switch (input.kind) {
    case 'tick':
      return onTick(ctx);
    case 'attempt-progress':
      return onProgress(ctx, input.attemptId, input.progress);
    case 'attempt-succeeded':
      return onSucceeded(ctx, input.attemptId, input.output);
    case 'attempt-failed':
      return onFailed(ctx, input.attemptId, boundFailure(input.failure));
    case 'worker-lost':
      return onWorkerLost(ctx, input.workerId);
    case 'map-output-lost':
      return onMapOutputLost(ctx, input.taskId, input.workerId);
    case 'recover':
      return onRecover(ctx, input.taskId, input.preferredHosts);
    case 'cancel':
      return onCancel(ctx);
  }
}

// ---------------------------------------------------------------- inputs

function onTick(ctx: Ctx): void {
  if (ctx.status !== 'running') return;
  expireAttempts(ctx);
  settle(ctx);
  if (ctx.status !== 'running') return;
  assignEligible(ctx);
  if (ctx.env.config.speculation.enabled) speculate(ctx);
}

function onProgress(ctx: Ctx, attemptId: AttemptId, progress: number): void {
  const attempt = liveAttempt(ctx, attemptId);
  if (!attempt) return;
  const clamped = Number.isFinite(progress) ? Math.min(1, Math.max(0, progress)) : 0;
  putAttempt(ctx, { ...attempt, progress: clamped, lastProgressAtMs: ctx.env.nowMs });
}

function onSucceeded(ctx: Ctx, attemptId: AttemptId, output: TaskOutput): void {
  const attempt = Object.hasOwn(ctx.attempts, attemptId) ? ctx.attempts[attemptId] : undefined;
  if (!attempt) {
    ctx.effects.push(rejected('attempt-succeeded', `unknown attempt ${attemptId}`));
    return;
  }
  // A repeated report of the accepted attempt (a retried RPC) is a no-op: its output counts.
  if (attempt.status === 'succeeded') return;
  if (attempt.status !== 'running') {
    ctx.effects.push({
      kind: 'discard-output',
      attemptId,
      workerId: attempt.workerId,
      location: output.location,
    });
    return;
  }
  const task = taskOfAttempt(ctx, attempt);
  assert.equal(task.status, 'running', `${task.id}: a live attempt implies a running task`);
  const now = ctx.env.nowMs;
  putAttempt(ctx, { ...attempt, status: 'succeeded', progress: 1, endedAtMs: now });
  for (const otherId of task.running) {
    if (otherId !== attemptId) cancelAttempt(ctx, otherId, 'speculation-lost');
  }
  if (attempt.speculative) ctx.stats.speculativeWon += 1;
  const accepted: AcceptedOutput = {
    attemptId,
    workerId: attempt.workerId,
    location: output.location,
    ...(output.counters === undefined ? {} : { counters: { ...output.counters } }),
  };
  putTask(ctx, {
    ...task,
    status: 'succeeded',
    running: [],
    output: accepted,
    durationMs: now - attempt.startedAtMs,
  });
  ctx.effects.push({ kind: 'output-accepted', taskId: task.id, output: accepted });
}

function onFailed(ctx: Ctx, attemptId: AttemptId, failure: TaskFailure): void {
  const attempt = liveAttempt(ctx, attemptId);
  if (attempt) failAttempt(ctx, attempt, failure);
}

function onWorkerLost(ctx: Ctx, workerId: WorkerId): void {
  for (const task of [...ctx.tasks.map, ...ctx.tasks.reduce]) {
    for (const attemptId of task.running) {
      const attempt = ctx.attempts[attemptId];
      if (attempt?.workerId !== workerId) continue;
      ctx.effects.push(cancelEffect(attempt, 'worker-lost'));
      failAttempt(ctx, attempt, { reason: 'crash', error: `worker ${workerId} lost` });
    }
  }
  if (!mapOutputsNeeded(ctx)) return;
  for (const task of ctx.tasks.map) {
    if (task.status === 'succeeded' && task.output?.workerId === workerId) loseMapOutput(ctx, task);
  }
}

function onMapOutputLost(ctx: Ctx, taskId: TaskId, workerId: WorkerId): void {
  const task = findTask(ctx, taskId);
  if (task?.phase !== 'map' || task.status !== 'succeeded') return;
  if (task.output?.workerId !== workerId || !mapOutputsNeeded(ctx)) return;
  loseMapOutput(ctx, task);
}

function onRecover(ctx: Ctx, taskId: TaskId, preferredHosts?: readonly string[]): void {
  const task = findTask(ctx, taskId);
  if (!task) return void ctx.effects.push(rejected('recover', `unknown task ${taskId}`));
  if (task.status !== 'dead-lettered') {
    return void ctx.effects.push(rejected('recover', `task ${taskId} is ${task.status}`));
  }
  if (ctx.status === 'cancelled' || ctx.status === 'succeeded') {
    return void ctx.effects.push(rejected('recover', `job ${ctx.jobId} is ${ctx.status}`));
  }
  putTask(ctx, {
    ...task,
    status: 'pending',
    failures: 0,
    unreachableSinceMs: null,
    unreachableFailures: 0,
    failedOn: [],
    notBeforeMs: ctx.env.nowMs,
    preferredHosts:
      preferredHosts === undefined
        ? task.preferredHosts
        : preferredHosts.map((host) => host.toLowerCase()),
  });
  ctx.stats.recovered += 1;
  setStatus(ctx, 'running');
}

function onCancel(ctx: Ctx): void {
  if (ctx.status !== 'running' && ctx.status !== 'failed') {
    return void ctx.effects.push(rejected('cancel', `job ${ctx.jobId} is ${ctx.status}`));
  }
  for (const task of [...ctx.tasks.map, ...ctx.tasks.reduce]) {
    if (task.running.length === 0) continue;
    for (const attemptId of task.running) cancelAttempt(ctx, attemptId, 'job-cancelled');
    putTask(ctx, { ...findTask(ctx, task.id)!, status: 'pending', running: [] });
  }
  setStatus(ctx, 'cancelled');
}

// ---------------------------------------------------------------- transitions

/** Records a failed attempt; once no attempt of the task is left, retries or dead-letters it. */
function failAttempt(ctx: Ctx, attempt: AttemptRecord, failure: TaskFailure): void {
  const now = ctx.env.nowMs;
  putAttempt(ctx, { ...attempt, status: 'failed', endedAtMs: now, failure });
  const task = taskOfAttempt(ctx, attempt);
  const failedOn = task.failedOn.includes(attempt.workerId)
    ? task.failedOn
    : [...task.failedOn, attempt.workerId];
  // An outage (the DFS or a map output unreachable) uses no retry budget for a while.
  const outage = failure.reason === 'unreachable';
  const outageSinceMs = outage ? (task.unreachableSinceMs ?? now) : null;
  const forgiven =
    outageSinceMs !== null && now - outageSinceMs < ctx.env.config.unreachableGraceMs;
  const failed: TaskRecord = {
    ...task,
    running: task.running.filter((id) => id !== attempt.id),
    failures: forgiven ? task.failures : task.failures + 1,
    totalFailures: task.totalFailures + 1,
    failedOn,
    lastFailure: failure,
    unreachableSinceMs: outageSinceMs,
    unreachableFailures: outage ? (task.unreachableFailures ?? 0) + 1 : 0,
  };
  ctx.stats.failures += 1;
  if (failure.reason === 'timeout') ctx.stats.timeouts += 1;
  ctx.effects.push({
    kind: 'attempt-failed',
    attemptId: attempt.id,
    taskId: task.id,
    workerId: attempt.workerId,
    failure,
  });
  if (failed.running.length > 0) return putTask(ctx, failed);
  if (failed.failures > ctx.env.config.maxRetries) return deadLetter(ctx, failed, failure);
  const retry = forgiven ? (failed.unreachableFailures ?? 1) : failed.failures;
  const delayMs = backoffDelayMs(retry - 1, ctx.env.config.backoff, ctx.env.random);
  putTask(ctx, { ...failed, status: 'failed', notBeforeMs: now + delayMs });
  ctx.stats.retries += 1;
  ctx.effects.push({
    kind: 'retry-scheduled',
    taskId: task.id,
    retry,
    delayMs,
    notBeforeMs: now + delayMs,
  });
}

function deadLetter(ctx: Ctx, task: TaskRecord, failure: TaskFailure): void {
  putTask(ctx, { ...task, status: 'dead-lettered' });
  ctx.stats.deadLettered += 1;
  const entry: DeadLetterEntry = {
    task_id: task.id,
    job_id: ctx.jobId,
    reason: failure.reason,
    error: failure.error,
    ...(failure.record === undefined ? {} : { record: failure.record }),
    attempts: task.failures,
    at: ctx.env.nowMs,
  };
  ctx.effects.push({ kind: 'dead-letter', entry });
}

/** A finished map task's output is gone: run it again, and restart reducers that need it. */
function loseMapOutput(ctx: Ctx, task: TaskRecord): void {
  const workerId = task.output?.workerId;
  assert.ok(workerId !== undefined);
  putTask(ctx, {
    ...task,
    status: 'pending',
    output: null,
    durationMs: null,
    failures: 0,
    unreachableSinceMs: null,
    unreachableFailures: 0,
    failedOn: [],
    notBeforeMs: ctx.env.nowMs,
    outputLosses: task.outputLosses + 1,
  });
  ctx.stats.outputsLost += 1;
  ctx.effects.push({ kind: 'output-lost', taskId: task.id, workerId });
  // A running reducer may not have fetched this output yet; it starts over once the map has
  // run again. Not counted as a failure of the reduce task.
  for (const reduce of ctx.tasks.reduce) {
    if (reduce.running.length === 0) continue;
    for (const attemptId of reduce.running) cancelAttempt(ctx, attemptId, 'map-output-lost');
    putTask(ctx, { ...findTask(ctx, reduce.id)!, status: 'pending', running: [] });
  }
}

/** Marks a live attempt cancelled and tells its worker; the caller fixes the task's list. */
function cancelAttempt(ctx: Ctx, attemptId: AttemptId, reason: CancelReason): void {
  const attempt = liveAttempt(ctx, attemptId);
  if (!attempt) return;
  putAttempt(ctx, {
    ...attempt,
    status: 'cancelled',
    endedAtMs: ctx.env.nowMs,
    cancelReason: reason,
  });
  ctx.effects.push(cancelEffect(attempt, reason));
}

function expireAttempts(ctx: Ctx): void {
  const { nowMs, config } = ctx.env;
  for (const phase of ['map', 'reduce'] as const) {
    for (const task of ctx.tasks[phase]) {
      for (const attemptId of task.running) {
        const attempt = ctx.attempts[attemptId];
        if (!attempt || nowMs - attempt.lastProgressAtMs < config.taskTimeoutMs) continue;
        ctx.effects.push(cancelEffect(attempt, 'timeout'));
        const error = `no progress for ${config.taskTimeoutMs} ms`;
        failAttempt(ctx, attempt, { reason: 'timeout', error });
      }
    }
  }
}

/** Assigns every eligible task of the current phase that a worker can take, in index order. */
function assignEligible(ctx: Ctx): void {
  if (ctx.phase === 'done') return;
  for (const task of ctx.tasks[ctx.phase]) {
    if (!hasFreeWorker(ctx)) return;
    if (!isAssignable(task, ctx.env.nowMs)) continue;
    const workerId = chooseWorker(ctx, task, []);
    if (workerId !== null) startAttempt(ctx, task, workerId, false);
  }
}

/** Launches backups of the current phase's stragglers (Spark-style, median-based). */
function speculate(ctx: Ctx): void {
  if (ctx.phase === 'done') return;
  const { nowMs, config } = ctx.env;
  const tasks = ctx.tasks[ctx.phase];
  const durations = tasks.flatMap((t) => (t.durationMs === null ? [] : [t.durationMs]));
  const spec = config.speculation;
  if (tasks.length < 2 || durations.length < Math.max(1, Math.ceil(spec.quantile * tasks.length)))
    return;
  const thresholdMs = Math.max(spec.minElapsedMs, spec.multiplier * median(durations));
  const cap = Math.max(1, Math.floor(spec.maxRunningFraction * tasks.length));
  let backups = tasks.filter((t) => t.running.some((id) => ctx.attempts[id]?.speculative)).length;
  const stragglers = tasks
    .filter((t) => t.status === 'running' && t.running.length === 1)
    .map((t) => ({ task: t, attempt: ctx.attempts[t.running[0]!]! }))
    .filter(({ attempt }) => nowMs - attempt.startedAtMs >= thresholdMs)
    .sort((a, b) => a.attempt.startedAtMs - b.attempt.startedAtMs);
  for (const { task, attempt } of stragglers) {
    if (backups >= cap || !hasFreeWorker(ctx)) return;
    const workerId = chooseWorker(ctx, task, [attempt.workerId]);
    if (workerId === null) continue;
    startAttempt(ctx, findTask(ctx, task.id)!, workerId, true);
    backups += 1;
  }
}

function startAttempt(ctx: Ctx, task: TaskRecord, workerId: WorkerId, speculative: boolean): void {
  const number = task.attemptsStarted + 1;
  const id = `${task.id}.${number}` as AttemptId;
  const now = ctx.env.nowMs;
  putAttempt(ctx, {
    id,
    taskId: task.id,
    phase: task.phase,
    index: task.index,
    workerId,
    speculative,
    startedAtMs: now,
    lastProgressAtMs: now,
    progress: 0,
    status: 'running',
    endedAtMs: null,
    failure: null,
    cancelReason: null,
  });
  putTask(ctx, {
    ...task,
    status: 'running',
    attemptsStarted: number,
    running: [...task.running, id],
  });
  const worker = ctx.workers.find((w) => w.workerId === workerId);
  assert.ok(worker, `strategy chose unknown worker ${workerId}`);
  ctx.workers[ctx.workers.indexOf(worker)] = { ...worker, runningTasks: worker.runningTasks + 1 };
  ctx.stats.attemptsStarted += 1;
  if (speculative) ctx.stats.speculativeLaunched += 1;
  const hosts = task.preferredHosts;
  const local = hosts.length === 0 ? null : hosts.includes(worker.host.toLowerCase());
  ctx.effects.push({
    kind: 'assign',
    attemptId: id,
    taskId: task.id,
    phase: task.phase,
    index: task.index,
    workerId,
    speculative,
    local,
  });
}

/**
 * The worker for a task, by the job's strategy: first among workers on a replica's host
 * (locality), then among all; workers the task failed on are avoided unless nobody else can
 * take it. `excluded` is never chosen (a backup's original worker). Non-candidates are passed
 * as `excluded` rather than filtered out, so the strategy's cursor keeps every worker.
 */
function chooseWorker(ctx: Ctx, task: TaskRecord, excluded: readonly WorkerId[]): WorkerId | null {
  const all = ctx.workers.map((w) => w.workerId);
  const hosts = task.preferredHosts;
  const remote =
    ctx.env.config.locality && hosts.length > 0
      ? ctx.workers.filter((w) => !hosts.includes(w.host.toLowerCase())).map((w) => w.workerId)
      : null;
  const tries: WorkerId[][] = [];
  const avoid = [...excluded, ...task.failedOn];
  if (remote !== null && remote.length < all.length) tries.push([...avoid, ...remote]);
  tries.push(avoid);
  if (task.failedOn.length > 0) tries.push([...excluded]);
  for (const exclusion of tries) {
    const result = selectWorker(
      ctx.env.strategy,
      ctx.workers,
      { taskId: task.id, excluded: exclusion },
      ctx.strategyState,
      ctx.env.strategyConfig,
    );
    if (result.workerId !== null) {
      ctx.strategyState = result.state;
      return result.workerId;
    }
  }
  return null;
}

/** Recomputes the phase, and the job's status from its tasks. */
function settle(ctx: Ctx): void {
  const mapsDone = ctx.tasks.map.every((t) => t.status === 'succeeded');
  const reducesDone = ctx.tasks.reduce.every((t) => t.status === 'succeeded');
  if (ctx.status === 'running' && mapsDone && reducesDone) setStatus(ctx, 'succeeded');
  if (ctx.status === 'running' && !canProgress(ctx, mapsDone)) setStatus(ctx, 'failed');
  const phase: JobPhase = ctx.status === 'succeeded' ? 'done' : mapsDone ? 'reduce' : 'map';
  if (phase !== ctx.phase) {
    ctx.effects.push({ kind: 'phase-changed', phase, previous: ctx.phase });
    ctx.phase = phase;
  }
}

/** Whether some task can still run: a map, or — once every map is done — a reduce. */
function canProgress(ctx: Ctx, mapsDone: boolean): boolean {
  const live = (t: TaskRecord): boolean => t.status !== 'succeeded' && t.status !== 'dead-lettered';
  return ctx.tasks.map.some(live) || (mapsDone && ctx.tasks.reduce.some(live));
}

function setStatus(ctx: Ctx, status: JobStatus): void {
  if (status === ctx.status) return;
  ctx.effects.push({ kind: 'job-status', status, previous: ctx.status });
  ctx.status = status;
}

// ---------------------------------------------------------------- helpers

function mapOutputsNeeded(ctx: Ctx): boolean {
  return (
    (ctx.status === 'running' || ctx.status === 'failed') &&
    ctx.tasks.reduce.some((t) => t.status !== 'succeeded')
  );
}

function isAssignable(task: TaskRecord, nowMs: number): boolean {
  return task.status === 'pending' || (task.status === 'failed' && task.notBeforeMs <= nowMs);
}

function hasFreeWorker(ctx: Ctx): boolean {
  return ctx.workers.some((w) => w.slots > w.runningTasks && w.breaker !== 'OPEN');
}

function liveAttempt(ctx: Ctx, attemptId: AttemptId): AttemptRecord | null {
  const attempt = Object.hasOwn(ctx.attempts, attemptId) ? ctx.attempts[attemptId] : undefined;
  return attempt?.status === 'running' ? attempt : null;
}

function findTask(ctx: Ctx, taskId: TaskId): TaskRecord | undefined {
  const match = /-(m|r)-(\d+)$/.exec(taskId);
  if (!match) return undefined;
  const task = ctx.tasks[match[1] === 'm' ? 'map' : 'reduce'][Number(match[2])];
  return task?.id === taskId ? task : undefined;
}

function taskOfAttempt(ctx: Ctx, attempt: AttemptRecord): TaskRecord {
  const task = ctx.tasks[attempt.phase][attempt.index];
  assert.ok(task, `attempt ${attempt.id} has no task`);
  return task;
}

function putTask(ctx: Ctx, task: TaskRecord): void {
  ctx.tasks[task.phase][task.index] = task;
}

function putAttempt(ctx: Ctx, attempt: AttemptRecord): void {
  if (!ctx.attemptsCopied) {
    ctx.attempts = { ...ctx.attempts };
    ctx.attemptsCopied = true;
  }
  ctx.attempts[attempt.id] = attempt;
}

function cancelEffect(attempt: AttemptRecord, reason: CancelReason): SchedulerEffect {
  return {
    kind: 'cancel-attempt',
    attemptId: attempt.id,
    taskId: attempt.taskId,
    workerId: attempt.workerId,
    reason,
  };
}

function rejected(input: SchedulerInput['kind'], reason: string): SchedulerEffect {
  return { kind: 'rejected', input, reason };
}

function boundFailure(failure: TaskFailure): TaskFailure {
  return {
    reason: failure.reason,
    error: failure.error.slice(0, MAX_ERROR_CHARS),
    ...(failure.record === undefined ? {} : { record: failure.record.slice(0, MAX_RECORD_CHARS) }),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
