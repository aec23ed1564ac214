/**
 * A small driver for the pure job scheduler in tests: holds the schedule, the strategy cursor,
 * a manual clock, a seeded Random and the workers; derives each worker's `runningTasks` from
 * the schedule, and keeps every effect.
 */
import assert from 'node:assert/strict';
import { SeededRandom } from '../../src/core/random.js';
import {
  checkScheduleInvariants,
  createJobSchedule,
  resolveSchedulerConfig,
  runningByWorker,
  schedulerStep,
  type AttemptId,
  type JobId,
  type JobSchedule,
  type SchedulerConfig,
  type SchedulerEffect,
  type SchedulerInput,
  type TaskFailure,
  type TaskOutput,
} from '../../src/mapreduce/master/scheduler.js';
import {
  asWorkerId,
  INITIAL_STRATEGY_STATE,
  type StrategyName,
  type StrategyState,
  type WorkerFigures,
  type WorkerId,
} from '../../src/mapreduce/master/strategies/index.js';

export const JOB = 'job-1' as JobId;

/** A worker's figures with defaults: one slot, healthy, fresh heartbeat. */
export function figures(id: string, extra: Partial<WorkerFigures> = {}): WorkerFigures {
  return {
    workerId: asWorkerId(id),
    host: `host-${id}`,
    slots: 1,
    runningTasks: 0,
    succeeded: 0,
    failed: 0,
    recentLatencyMs: null,
    heartbeatAgeMs: 0,
    breaker: 'CLOSED',
    ...extra,
  };
}

export interface HarnessOptions {
  readonly maps?: number;
  readonly reduces?: number;
  readonly hosts?: readonly (readonly string[])[];
  readonly workers?: readonly WorkerFigures[];
  readonly strategy?: StrategyName;
  readonly config?: Parameters<typeof resolveSchedulerConfig>[0];
  readonly seed?: number;
  /** Check the schedule's invariants after every step (default true). */
  readonly checkInvariants?: boolean;
}

export class SchedulerHarness {
  state: JobSchedule;
  strategyState: StrategyState = INITIAL_STRATEGY_STATE;
  nowMs = 0;
  workers: WorkerFigures[];
  readonly random: SeededRandom;
  readonly config: SchedulerConfig;
  readonly strategy: StrategyName;
  readonly log: SchedulerEffect[] = [];
  private readonly check: boolean;

  constructor(options: HarnessOptions = {}) {
    const maps = options.maps ?? 2;
    this.state = createJobSchedule({
      jobId: JOB,
      splits: Array.from({ length: maps }, (_, i) => ({
        preferredHosts: options.hosts?.[i] ?? [],
      })),
      reduceCount: options.reduces ?? 1,
    });
    this.workers = [...(options.workers ?? [figures('w1'), figures('w2')])];
    this.random = new SeededRandom(options.seed ?? 1);
    this.config = resolveSchedulerConfig(options.config);
    this.strategy = options.strategy ?? 'round_robin';
    this.check = options.checkInvariants ?? true;
  }

  step(input: SchedulerInput): SchedulerEffect[] {
    const running = runningByWorker(this.state);
    // The step must not modify its input: frozen parts make a write throw (strict mode).
    Object.freeze(this.state.attempts);
    Object.freeze(this.state.maps);
    Object.freeze(this.state.reduces);
    const out = schedulerStep(this.state, input, {
      nowMs: this.nowMs,
      random: this.random,
      workers: this.workers.map((w) => ({ ...w, runningTasks: running[w.workerId] ?? 0 })),
      strategy: this.strategy,
      strategyState: this.strategyState,
      config: this.config,
    });
    this.state = out.state;
    this.strategyState = out.strategyState;
    this.log.push(...out.effects);
    if (this.check) assert.deepEqual(checkScheduleInvariants(this.state), []);
    return [...out.effects];
  }

  tick(): SchedulerEffect[] {
    return this.step({ kind: 'tick' });
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  succeed(attemptId: AttemptId | string, output: Partial<TaskOutput> = {}): SchedulerEffect[] {
    return this.step({
      kind: 'attempt-succeeded',
      attemptId: attemptId as AttemptId,
      output: { location: `loc:${attemptId}`, ...output },
    });
  }

  fail(attemptId: AttemptId | string, failure: TaskFailure): SchedulerEffect[] {
    return this.step({ kind: 'attempt-failed', attemptId: attemptId as AttemptId, failure });
  }

  loseWorker(id: string): SchedulerEffect[] {
    this.workers = this.workers.filter((w) => w.workerId !== id);
    return this.step({ kind: 'worker-lost', workerId: id as WorkerId });
  }

  /** Live attempt ids of task `phase`/`index`. */
  running(phase: 'map' | 'reduce', index: number): AttemptId[] {
    const task = (phase === 'map' ? this.state.maps : this.state.reduces)[index];
    assert.ok(task);
    return [...task.running];
  }

  /** The only live attempt of a task. */
  only(phase: 'map' | 'reduce', index: number): AttemptId {
    const running = this.running(phase, index);
    assert.equal(running.length, 1, `${phase} ${index} runs ${running.length} attempts`);
    return running[0]!;
  }

  /** Succeeds every live attempt until the job ends (bounded); ticks between rounds. */
  runToEnd(maxRounds = 100): void {
    for (let round = 0; round < maxRounds && this.state.status === 'running'; round++) {
      this.tick();
      const live = [...this.state.maps, ...this.state.reduces].flatMap((t) =>
        t.running.slice(0, 1),
      );
      for (const id of live) this.succeed(id);
      this.advance(60_000);
    }
  }
}

/** Effects of one kind. */
export function effectsOf<K extends SchedulerEffect['kind']>(
  effects: readonly SchedulerEffect[],
  kind: K,
): Extract<SchedulerEffect, { kind: K }>[] {
  return effects.filter((e): e is Extract<SchedulerEffect, { kind: K }> => e.kind === kind);
}
