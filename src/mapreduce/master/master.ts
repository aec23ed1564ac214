/**
 * The MapReduce master's driver: it owns the real clock, the state store and the DFS, and
 * feeds the pure job scheduler (scheduler.ts) with ticks, worker reports and commands. For each
 * step it persists the new schedule first and only then hands out the step's assignments and
 * cancellations (persist before send), so a master SIGKILLed at any point restarts from its
 * data dir into a state every worker report still fits.
 *
 * Jobs: `queued` (submitted, no task started yet) -> `running` -> `succeeded` (after the output
 * commit) | `failed` (a task dead-lettered and nothing else can progress; recovering the task
 * resumes it) | `cancelled`.
 */
import type { Clock } from '../../core/clock.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Random } from '../../core/random.js';
import type { DfsClient } from '../../dfs/index.js';
import { commitJobOutput } from './commit.js';
import {
  createDeadLetterQueue,
  dlqAdd,
  dlqList,
  dlqRemove,
  dlqRemoveJob,
  dlqStats,
  type DeadLetterQueue,
  type DlqQuery,
} from './dlq.js';
import { JobEvents, type JobState } from './events.js';
import { jobEvent, phaseOf, progressEvent, taskEvent, type TaskEventState } from './job-events.js';
import { parseJobSpec, type JobSpec } from './job-spec.js';
import {
  checkOutputFree,
  needsBoundaries,
  planSplits,
  resolveInputs,
  sampleBoundaries,
  statIfExists,
} from './planning.js';
import { replanRecoveredSplit } from './split-replan.pure.js';
import {
  createJobSchedule,
  mapOutputLocations,
  runningByWorker,
  schedulerStep,
  type AttemptId,
  type JobId,
  type SchedulerConfig,
  type SchedulerEffect,
  type SchedulerInput,
  type TaskId,
} from './scheduler.js';
import { assignmentFor, Mailroom } from './mailroom.js';
import { MasterStore, type JobRow } from './store.js';
import type { InputSplit } from '../common/splits.js';
import {
  INITIAL_STRATEGY_STATE,
  type StrategyConfig,
  type StrategyName,
  type StrategyState,
  type WorkerId,
} from './strategies/index.js';
import { jobView, taskViews, type JobView, type TaskView } from './views.js';
import { WorkerPool } from './workers.js';
import type { BreakerConfig } from '../../core/breaker.js';

/** The master's tunables (flags of `tessera mapreduce master`). */
export interface MasterSettings {
  readonly scheduler: SchedulerConfig;
  readonly strategy: StrategyName;
  readonly strategyConfig: Partial<StrategyConfig>;
  readonly breaker: Partial<BreakerConfig>;
  /** A worker silent this long is lost: its attempts fail, its map outputs are redone. */
  readonly workerTimeoutMs: number;
  /** Heartbeat period the workers are told to use. */
  readonly heartbeatIntervalMs: number;
  readonly dlqCapacity: number;
}

/** What the master tells its metrics about. */
export interface MasterObserver {
  taskFinished(phase: string, outcome: 'succeeded' | 'failed'): void;
  retryScheduled(): void;
  deadLettered(): void;
  breakerTransition(workerId: string, from: string, to: string): void;
}

/** Reasons that count against a worker's breaker: user-code and bad-input are the job's fault, unreachable a peer's (DFS, another worker's map output). */
const WORKER_FAULTS = new Set(['crash', 'timeout']);

/** Wait between output commit attempts of a job when the DFS fails. */
const COMMIT_RETRY_MS = 2_000;

/** The MapReduce master. */
export class MapReduceMaster {
  readonly events = new JobEvents();
  readonly workers: WorkerPool;
  private readonly jobs = new Map<string, JobRow>();
  private dlq: DeadLetterQueue;
  private strategyState: StrategyState = INITIAL_STRATEGY_STATE;
  /** Messages to workers, held until the step that queued them is durable. */
  readonly mail = new Mailroom();
  private readonly commits = new Set<string>();
  /** job id -> earliest time of the next commit attempt, after a failed one. */
  private readonly commitRetryAtMs = new Map<string, number>();
  private readonly completions: number[] = [];
  private nextSeq = 1;
  private stopped = false;

  constructor(
    private readonly store: MasterStore,
    private readonly dfs: DfsClient,
    readonly settings: MasterSettings,
    readonly clock: Clock,
    private readonly random: Random,
    private readonly logger: Logger,
    private readonly observer: MasterObserver,
  ) {
    this.dlq = createDeadLetterQueue(settings.dlqCapacity);
    this.workers = new WorkerPool(
      clock,
      settings.workerTimeoutMs,
      settings.breaker,
      (id, from, to) => {
        this.logger.warn({ worker_id: id, from, to }, 'worker circuit breaker changed state');
        this.observer.breakerTransition(id, from, to);
      },
    );
  }

  /** Loads the durable state: jobs, the dead-letter queue, the strategy cursor. */
  restore(): void {
    for (const job of this.store.loadJobs()) {
      this.jobs.set(job.id, job);
      this.nextSeq = Math.max(this.nextSeq, job.seq + 1);
    }
    for (const entry of this.store.loadDeadLetters()) this.dlq = dlqAdd(this.dlq, entry).queue;
    const cursor = this.store.setting('strategy_state');
    if (cursor !== undefined) this.strategyState = JSON.parse(cursor) as StrategyState;
    const mentioned = new Set<WorkerId>();
    for (const job of this.activeJobs(true)) {
      for (const attempt of Object.values(job.schedule.attempts)) {
        if (attempt.status === 'running') mentioned.add(attempt.workerId);
      }
      for (const location of mapOutputLocations(job.schedule))
        mentioned.add(location.output.workerId);
    }
    this.workers.restoreUnconfirmed([...mentioned]);
    const active = this.activeJobs(false).length;
    if (this.jobs.size > 0) this.logger.info({ jobs: this.jobs.size, active }, 'restored jobs');
  }

  // ---------------------------------------------------------------- jobs

  /** Validates, plans and stores a new job; answers once it is durable. */
  async submit(input: unknown): Promise<JobView> {
    const spec = parseJobSpec(input);
    return this.submitSpec(spec);
  }

  /** Submits an already validated spec (the HTTP route validates with its schema). */
  async submitSpec(parsed: JobSpec): Promise<JobView> {
    await checkOutputFree(this.dfs, parsed.output);
    const files = await resolveInputs(this.dfs, parsed.input);
    const splits = planSplits(files);
    const spec = needsBoundaries(parsed)
      ? { ...parsed, boundaries: await sampleBoundaries(this.dfs, splits, parsed.reducers) }
      : parsed;
    const id = `job-${this.random.uuid().slice(0, 8)}`;
    const nowMs = this.clock.nowMs();
    const job: JobRow = {
      id,
      seq: this.nextSeq++,
      state: 'queued',
      spec,
      splits,
      schedule: createJobSchedule({
        jobId: id as JobId,
        splits: splits.map((split) => ({ preferredHosts: split.hosts })),
        reduceCount: spec.reducers,
      }),
      createdAtMs: nowMs,
      startedAtMs: null,
      finishedAtMs: null,
      error: null,
      committed: false,
    };
    this.jobs.set(id, job);
    await this.store.saveJob(job);
    this.logger.info(
      { job_id: id, name: spec.name, maps: splits.length, reducers: spec.reducers },
      'job submitted',
    );
    this.emitJob(job);
    this.tick();
    return jobView(job, this.clock.nowMs());
  }

  get(id: string): JobView {
    return jobView(this.job(id), this.clock.nowMs());
  }

  /** Jobs newest first, optionally of one state. */
  list(query: { state?: string; limit?: number } = {}): JobView[] {
    const nowMs = this.clock.nowMs();
    return [...this.jobs.values()]
      .filter((job) => query.state === undefined || job.state === query.state)
      .sort((a, b) => b.seq - a.seq)
      .slice(0, query.limit ?? 100)
      .map((job) => jobView(job, nowMs));
  }

  tasks(id: string): TaskView[] {
    return taskViews(this.job(id));
  }

  /** Cancels a queued, running or failed job. */
  async cancel(id: string): Promise<JobView> {
    const job = this.job(id);
    if (job.state === 'succeeded' || job.state === 'cancelled' || this.commits.has(id)) {
      throw new ConflictError(`job ${id} is ${job.state === 'running' ? 'committing' : job.state}`);
    }
    const rejected = this.step(job, { kind: 'cancel' });
    if (rejected) throw new ConflictError(rejected);
    const removed = this.dlq.entries.filter((entry) => entry.job_id === id).map((e) => e.task_id);
    this.dlq = dlqRemoveJob(this.dlq, id as JobId).queue;
    await Promise.all([this.store.writeDeadLetters([], removed), this.persistAndDeliver(job)]);
    return jobView(job, this.clock.nowMs());
  }

  // ---------------------------------------------------------------- dead-letter queue

  deadLetters(query: DlqQuery): ReturnType<typeof dlqList> {
    return dlqList(this.dlq, query);
  }

  dlqStats(): ReturnType<typeof dlqStats> {
    return dlqStats(this.dlq);
  }

  /** Takes a task out of the dead-letter queue and gives it a fresh retry budget. */
  async recover(taskId: string): Promise<{ task_id: string; job_id: string; job_state: JobState }> {
    const jobId = taskId.replace(/-(m|r)-\d+$/, '');
    const job = this.jobs.get(jobId);
    const inQueue = this.dlq.entries.some((entry) => entry.task_id === taskId);
    if (
      !job ||
      (!inQueue && !job.schedule.maps.concat(job.schedule.reduces).some((t) => t.id === taskId))
    ) {
      throw new NotFoundError(`no dead-lettered task ${taskId}`);
    }
    const planned = job.splits;
    const replanned = await this.replanRecoveredMap(job, taskId as TaskId);
    if (replanned) job.splits = replanned.splits;
    const rejected = this.step(job, {
      kind: 'recover',
      taskId: taskId as TaskId,
      ...(replanned ? { preferredHosts: replanned.hosts } : {}),
    });
    if (rejected) {
      job.splits = planned;
      throw new ConflictError(rejected);
    }
    this.dlq = dlqRemove(this.dlq, taskId as TaskId).queue;
    await Promise.all([this.store.writeDeadLetters([], [taskId]), this.persistAndDeliver(job)]);
    this.logger.info(
      { task_id: taskId, job_id: jobId },
      'task recovered from the dead-letter queue',
    );
    this.tick();
    return { task_id: taskId, job_id: jobId, job_state: job.state };
  }

  /**
   * A dead-lettered map task reads its input file as it is now (the user may have fixed it):
   * the file's splits are planned again, and the recovery is refused if the file changed
   * outside the task's own split (split-replan.pure.ts). Answers `undefined` for other tasks.
   */
  private async replanRecoveredMap(
    job: JobRow,
    taskId: TaskId,
  ): Promise<{ splits: InputSplit[]; hosts: readonly string[] } | undefined> {
    const task = job.schedule.maps.find((t) => t.id === taskId);
    const split = task ? job.splits[task.index] : undefined;
    if (!task || !split || task.status !== 'dead-lettered') return undefined;
    const outcome = replanRecoveredSplit(
      job.splits,
      task.index,
      await statIfExists(this.dfs, split.path),
    );
    if (outcome.kind === 'input-changed') {
      throw new ConflictError(
        `${outcome.detail}. The job's other map tasks read the file as it was, so running ` +
          `${taskId} again alone would cut or repeat lines: resubmit the job instead`,
        { path: outcome.path, task_id: taskId },
      );
    }
    return { splits: outcome.splits, hosts: outcome.splits[task.index]?.hosts ?? [] };
  }

  // ---------------------------------------------------------------- scheduling

  /** Sweeps lost workers, then steps every active job (timeouts, assignments, speculation). */
  tick(): void {
    if (this.stopped) return;
    const lost = this.workers.sweep();
    for (const workerId of lost) {
      this.logger.warn({ worker_id: workerId }, 'worker lost (no heartbeat)');
      this.mail.dropWorker(workerId);
    }
    for (const job of this.activeJobs(true)) {
      let changed = false;
      for (const workerId of lost)
        changed = this.stepQuiet(job, { kind: 'worker-lost', workerId }) || changed;
      if (job.schedule.status === 'running')
        changed = this.stepQuiet(job, { kind: 'tick' }) || changed;
      if (changed) void this.persistAndDeliver(job);
    }
    for (const job of this.jobs.values()) {
      if (job.schedule.status === 'succeeded' && !job.committed) this.startCommit(job);
    }
  }

  /** Jobs whose schedule may still change: running, and (with `withFailed`) failed ones. */
  private activeJobs(withFailed: boolean): JobRow[] {
    return [...this.jobs.values()].filter(
      (job) =>
        job.schedule.status === 'running' || (withFailed && job.schedule.status === 'failed'),
    );
  }

  /** Running attempts per worker over every job. */
  runningByWorker(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const job of this.activeJobs(false)) {
      for (const [worker, count] of Object.entries(runningByWorker(job.schedule))) {
        totals[worker] = (totals[worker] ?? 0) + count;
      }
    }
    return totals;
  }

  /** Steps a job and handles the effects; answers whether anything changed. */
  private stepQuiet(job: JobRow, input: SchedulerInput): boolean {
    const before = job.schedule;
    this.step(job, input);
    return job.schedule !== before;
  }

  /**
   * One scheduler step for a job; applies its effects to the master's in-memory state and
   * queues its messages (delivered once the step is durable). Answers the reason when the
   * scheduler rejected the input.
   */
  step(job: JobRow, input: SchedulerInput): string | undefined {
    const output = schedulerStep(job.schedule, input, {
      nowMs: this.clock.nowMs(),
      random: this.random,
      workers: this.workers.figures(this.runningByWorker()),
      strategy: job.spec.strategy ?? this.settings.strategy,
      strategyState: this.strategyState,
      strategyConfig: this.settings.strategyConfig,
      config: this.settings.scheduler,
    });
    const meaningful = output.effects.length > 0 || input.kind !== 'tick';
    if (meaningful) job.schedule = output.state;
    this.strategyState = output.strategyState;
    let rejected: string | undefined;
    for (const effect of output.effects) {
      if (effect.kind === 'rejected') rejected = effect.reason;
      else this.apply(job, effect);
    }
    return rejected;
  }

  private apply(job: JobRow, effect: Exclude<SchedulerEffect, { kind: 'rejected' }>): void {
    switch (effect.kind) {
      case 'assign':
        return this.onAssign(job, effect);
      case 'cancel-attempt':
        this.mail.outbox(effect.workerId).cancels.push(effect.attemptId);
        return this.emitTask(
          job,
          effect.taskId,
          'cancelled',
          effect.attemptId,
          effect.workerId,
          effect.reason,
        );
      case 'output-accepted':
        return this.onAccepted(job, effect.taskId, effect.output.attemptId, effect.output.workerId);
      case 'discard-output':
        return;
      case 'attempt-failed':
        this.workers.recordFailure(effect.workerId, WORKER_FAULTS.has(effect.failure.reason));
        this.observer.taskFinished(phaseOf(effect.taskId), 'failed');
        this.completions.push(this.clock.nowMs());
        this.logger.warn(
          {
            attempt_id: effect.attemptId,
            worker_id: effect.workerId,
            reason: effect.failure.reason,
            error: effect.failure.error,
          },
          'task attempt failed',
        );
        return this.emitTask(
          job,
          effect.taskId,
          'failed',
          effect.attemptId,
          effect.workerId,
          effect.failure.reason,
        );
      case 'retry-scheduled':
        this.observer.retryScheduled();
        return this.emitTask(
          job,
          effect.taskId,
          'retry-scheduled',
          undefined,
          undefined,
          `retry ${effect.retry}`,
        );
      case 'dead-letter':
        return this.onDeadLetter(job, effect.entry);
      case 'output-lost':
        this.logger.warn(
          { task_id: effect.taskId, worker_id: effect.workerId },
          'map output lost; the map task runs again',
        );
        return this.emitProgress(job);
      case 'phase-changed':
        return;
      case 'job-status':
        return this.onJobStatus(job, effect.status);
    }
  }

  private onAssign(job: JobRow, effect: Extract<SchedulerEffect, { kind: 'assign' }>): void {
    if (job.state === 'queued') {
      job.state = 'running';
      job.startedAtMs = this.clock.nowMs();
      this.emitJob(job);
    }
    this.mail.outbox(effect.workerId).assignments.push(assignmentFor(job, effect));
    this.emitTask(job, effect.taskId, 'running', effect.attemptId, effect.workerId);
  }

  private onAccepted(job: JobRow, taskId: TaskId, attemptId: AttemptId, workerId: WorkerId): void {
    const attempt = job.schedule.attempts[attemptId];
    const durationMs = attempt ? this.clock.nowMs() - attempt.startedAtMs : 0;
    this.workers.recordSuccess(workerId, durationMs);
    this.observer.taskFinished(phaseOf(taskId), 'succeeded');
    this.completions.push(this.clock.nowMs());
    this.emitTask(job, taskId, 'succeeded', attemptId, workerId);
    this.emitProgress(job);
  }

  private onDeadLetter(
    job: JobRow,
    entry: Extract<SchedulerEffect, { kind: 'dead-letter' }>['entry'],
  ): void {
    const { queue, evicted } = dlqAdd(this.dlq, entry);
    this.dlq = queue;
    this.observer.deadLettered();
    this.logger.error(
      { task_id: entry.task_id, reason: entry.reason, error: entry.error },
      'task dead-lettered',
    );
    void this.store
      .writeDeadLetters(
        [entry],
        evicted.map((e) => e.task_id),
      )
      .catch((error: unknown) =>
        this.logger.error({ err: error }, 'could not persist the dead-letter queue'),
      );
    job.error = `task ${entry.task_id} failed ${entry.attempts} times (${entry.reason}): ${entry.error}`;
    this.emitTask(job, entry.task_id, 'dead-lettered', undefined, undefined, entry.reason);
  }

  private onJobStatus(job: JobRow, status: string): void {
    const nowMs = this.clock.nowMs();
    if (status === 'succeeded') {
      this.startCommit(job); // the job reads succeeded once its output is committed
      return;
    }
    if (status === 'running') {
      job.state = job.startedAtMs === null ? 'queued' : 'running';
      job.finishedAtMs = null;
      job.error = null;
    } else {
      job.state = status === 'failed' ? 'failed' : 'cancelled';
      job.finishedAtMs = nowMs;
      this.logger.info({ job_id: job.id, state: job.state, error: job.error }, 'job finished');
    }
    this.emitJob(job);
  }

  /** Renames the reduce outputs into place and writes _SUCCESS, then marks the job succeeded. */
  private startCommit(job: JobRow): void {
    if (this.commits.has(job.id) || this.stopped) return;
    if ((this.commitRetryAtMs.get(job.id) ?? 0) > this.clock.nowMs()) return;
    this.commits.add(job.id);
    commitJobOutput(this.dfs, job)
      .then(async () => {
        job.committed = true;
        job.state = 'succeeded';
        job.finishedAtMs = this.clock.nowMs();
        this.commitRetryAtMs.delete(job.id);
        await this.store.saveJob(job);
        this.logger.info(
          { job_id: job.id, output: job.spec.output },
          'job succeeded; output committed',
        );
        this.emitJob(job);
      })
      .catch((error: unknown) => {
        this.logger.warn({ err: error, job_id: job.id }, 'output commit failed; retrying in 2 s');
        this.commitRetryAtMs.set(job.id, this.clock.nowMs() + COMMIT_RETRY_MS);
      })
      .finally(() => this.commits.delete(job.id));
  }

  /** Persists a job, then hands out the messages its steps queued. */
  persistAndDeliver(job: JobRow): Promise<void> {
    const saved = Promise.all([
      this.store.saveJob(job),
      this.store.saveSetting('strategy_state', JSON.stringify(this.strategyState)),
    ]);
    const sealed = this.mail.seal();
    return saved.then(
      () => sealed.release(),
      (error: unknown) => {
        sealed.drop();
        // Not durable: the messages are dropped; the attempts time out or are failed by the
        // next heartbeat, and are retried. Only a broken disk gets here.
        this.logger.error({ err: error, job_id: job.id }, 'could not persist the job state');
      },
    );
  }

  /** A job's row, if known. */
  jobRow(id: string): JobRow | undefined {
    return this.jobs.get(id);
  }

  /** The job of an attempt or task id, if known. */
  jobOf(attemptOrTaskId: string): JobRow | undefined {
    const taskId = attemptOrTaskId.replace(/\.\d+$/, '');
    return this.jobs.get(taskId.replace(/-(m|r)-\d+$/, ''));
  }

  /** Every job (read-only use). */
  allJobs(): Iterable<JobRow> {
    return this.jobs.values();
  }

  /** Task completions (success or failure) in the last minute. */
  tasksPerMinute(): number {
    const cutoff = this.clock.nowMs() - 60_000;
    while (this.completions.length > 0 && (this.completions[0] ?? 0) < cutoff)
      this.completions.shift();
    return this.completions.length;
  }

  /** Stops handing out work and releases held heartbeats. */
  stop(): void {
    this.stopped = true;
    this.mail.stop();
  }

  // ---------------------------------------------------------------- events

  private job(id: string): JobRow {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError(`no job ${id}`);
    return job;
  }

  private emitJob(job: JobRow): void {
    this.events.emitEvent('job', jobEvent(job, this.clock.nowMs()));
  }

  private emitTask(
    job: JobRow,
    taskId: string,
    state: TaskEventState,
    attemptId?: string,
    workerId?: string,
    reason?: string,
  ): void {
    this.events.emitEvent('task', taskEvent(job.id, taskId, state, attemptId, workerId, reason));
  }

  private emitProgress(job: JobRow): void {
    this.events.emitEvent('progress', progressEvent(job));
  }
}
