// Rule checked (DESIGN.md rule 2, "every task finished exactly once in the output"; issue 5):
// under any interleaving of ticks, successes, failures, timeouts, duplicate and late reports,
// worker losses and arrivals, fetch-failure reports and recoveries, the scheduler never assigns
// a task whose accepted output is still alive, accepts at most one output per task at a time
// (so each task's output is counted exactly once), only assigns to live workers with a free
// slot, keeps its structural invariants, and — once the faults stop — finishes the job.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  FAILURE_REASONS,
  jobCounters,
  type AttemptId,
  type SchedulerEffect,
  type TaskId,
} from '../../src/mapreduce/master/scheduler.js';
import { STRATEGY_NAMES, type WorkerId } from '../../src/mapreduce/master/strategies/index.js';
import { figures, SchedulerHarness } from './scheduler-harness.js';

type Command =
  | { kind: 'tick'; ms: number }
  | { kind: 'succeed' | 'fail' | 'progress' | 'duplicate'; pick: number; reason: number }
  | { kind: 'lose-worker'; pick: number }
  | { kind: 'add-worker' }
  | { kind: 'fetch-failure'; pick: number; wrongWorker: boolean }
  | { kind: 'recover'; pick: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      ms: fc.constantFrom(0, 500, 3_000, 12_000, 301_000),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        'succeed' as const,
        'fail' as const,
        'progress' as const,
        'duplicate' as const,
      ),
      pick: fc.nat(50),
      reason: fc.nat(FAILURE_REASONS.length - 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('lose-worker' as const), pick: fc.nat(10) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('add-worker' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('fetch-failure' as const),
      pick: fc.nat(10),
      wrongWorker: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('recover' as const), pick: fc.nat(10) }) },
);

const scenarioArb = fc.record({
  maps: fc.integer({ min: 0, max: 6 }),
  reduces: fc.integer({ min: 1, max: 3 }),
  workers: fc.integer({ min: 1, max: 5 }),
  slots: fc.integer({ min: 1, max: 2 }),
  strategy: fc.constantFrom(...STRATEGY_NAMES),
  seed: fc.nat(),
  maxRetries: fc.constantFrom(0, 1, 3),
  speculation: fc.record({
    quantile: fc.constantFrom(0.25, 0.75),
    minElapsedMs: fc.constantFrom(0, 2_000, 10_000),
  }),
  calm: fc.record({ newestFirst: fc.boolean(), loseInReduce: fc.boolean() }),
  commands: fc.array(commandArb, { maxLength: 80 }),
});

/** The test's own account of outputs, kept from effects alone. */
class OutputLedger {
  readonly alive = new Set<TaskId>();
  readonly accepted = new Map<TaskId, number>();
  readonly lost = new Map<TaskId, number>();
  readonly acceptedAttempts = new Set<AttemptId>();
  /** The worker holding each live map output (reducers fetch from it). */
  readonly holders = new Map<TaskId, WorkerId>();

  observe(effects: readonly SchedulerEffect[], h: SchedulerHarness): void {
    const aliveBefore = new Set(this.alive);
    for (const effect of effects) {
      if (effect.kind === 'assign') {
        assert.ok(
          !aliveBefore.has(effect.taskId),
          `assigned ${effect.taskId} whose output is alive`,
        );
        assert.ok(
          h.workers.some((w) => w.workerId === effect.workerId),
          `assigned to unknown worker ${effect.workerId}`,
        );
      } else if (effect.kind === 'output-accepted') {
        assert.ok(!this.alive.has(effect.taskId), `second live output for ${effect.taskId}`);
        assert.ok(!this.acceptedAttempts.has(effect.output.attemptId), 'attempt accepted twice');
        this.alive.add(effect.taskId);
        this.acceptedAttempts.add(effect.output.attemptId);
        this.accepted.set(effect.taskId, (this.accepted.get(effect.taskId) ?? 0) + 1);
        if (h.state.maps.some((t) => t.id === effect.taskId)) {
          this.holders.set(effect.taskId, effect.output.workerId);
        }
      } else if (effect.kind === 'output-lost') {
        assert.ok(
          this.alive.delete(effect.taskId),
          `lost output of ${effect.taskId} was not alive`,
        );
        this.lost.set(effect.taskId, (this.lost.get(effect.taskId) ?? 0) + 1);
        this.holders.delete(effect.taskId);
      } else if (effect.kind === 'discard-output') {
        assert.ok(!this.acceptedAttempts.has(effect.attemptId), 'discarded an accepted output');
      }
    }
    this.checkFetchable(h);
    const running: Record<string, number> = {};
    for (const attempt of Object.values(h.state.attempts)) {
      if (attempt.status === 'running')
        running[attempt.workerId] = (running[attempt.workerId] ?? 0) + 1;
    }
    for (const worker of h.workers) {
      assert.ok(
        (running[worker.workerId] ?? 0) <= worker.slots,
        `${worker.workerId} over its slots`,
      );
    }
  }

  /** A running reducer needs every map output, each on a worker that is still there. */
  private checkFetchable(h: SchedulerHarness): void {
    if (!h.state.reduces.some((t) => t.status === 'running')) return;
    const present = new Set<string>(h.workers.map((w) => w.workerId));
    for (const task of h.state.maps) {
      const holder = this.holders.get(task.id);
      assert.ok(
        holder !== undefined && present.has(holder),
        `a reducer runs without ${task.id}'s output`,
      );
    }
  }
}

function apply(
  h: SchedulerHarness,
  ledger: OutputLedger,
  command: Command,
  nextWorker: () => string,
): SchedulerEffect[] {
  const live = Object.values(h.state.attempts).filter((a) => a.status === 'running');
  const all = Object.values(h.state.attempts);
  switch (command.kind) {
    case 'tick':
      h.advance(command.ms);
      return h.tick();
    case 'succeed': {
      const attempt = live[command.pick % Math.max(1, live.length)];
      return attempt ? h.succeed(attempt.id, { counters: { records: 1 } }) : [];
    }
    case 'fail': {
      const attempt = live[command.pick % Math.max(1, live.length)];
      const reason = FAILURE_REASONS[command.reason]!;
      return attempt ? h.fail(attempt.id, { reason, error: 'injected' }) : [];
    }
    case 'progress': {
      const attempt = live[command.pick % Math.max(1, live.length)];
      return attempt
        ? h.step({ kind: 'attempt-progress', attemptId: attempt.id, progress: 0.5 })
        : [];
    }
    case 'duplicate': {
      const attempt = all[command.pick % Math.max(1, all.length)];
      if (!attempt) return [];
      return command.reason % 2 === 0
        ? h.succeed(attempt.id, { counters: { records: 1 } })
        : h.fail(attempt.id, { reason: 'crash', error: 'late' });
    }
    case 'lose-worker': {
      const worker = h.workers[command.pick % Math.max(1, h.workers.length)];
      return worker ? h.loseWorker(worker.workerId) : [];
    }
    case 'add-worker':
      h.workers.push(figures(nextWorker(), { slots: h.workers[0]?.slots ?? 1 }));
      return [];
    case 'fetch-failure': {
      const done = h.state.maps.filter((t) => t.status === 'succeeded');
      const task = done[command.pick % Math.max(1, done.length)];
      if (!task?.output) return [];
      const workerId = (command.wrongWorker ? 'nobody' : task.output.workerId) as WorkerId;
      // A true report: that output cannot be fetched any more, whatever the scheduler thinks.
      if (!command.wrongWorker) ledger.holders.delete(task.id);
      return h.step({ kind: 'map-output-lost', taskId: task.id, workerId });
    }
    case 'recover': {
      const dead = [...h.state.maps, ...h.state.reduces].filter(
        (t) => t.status === 'dead-lettered',
      );
      const task = dead[command.pick % Math.max(1, dead.length)];
      return task ? h.step({ kind: 'recover', taskId: task.id }) : [];
    }
  }
}

interface CalmOptions {
  /** Succeed the newest live attempts first (so speculative backups can win). */
  readonly newestFirst: boolean;
  /** Lose the worker holding a map output once, while reduce tasks run. */
  readonly loseInReduce: boolean;
}

/**
 * No more random faults: recover what is dead-lettered, succeed what runs, until the job ends
 * (optionally losing one map-output worker during the reduce phase on the way).
 */
function calm(
  h: SchedulerHarness,
  ledger: OutputLedger,
  nextWorker: () => string,
  options: CalmOptions,
): void {
  while (h.workers.length < 2) h.workers.push(figures(nextWorker()));
  let loseInReduce = options.loseInReduce;
  for (let round = 0; round < 200 && h.state.status !== 'succeeded'; round++) {
    for (const task of [...h.state.maps, ...h.state.reduces]) {
      if (task.status === 'dead-lettered')
        ledger.observe(h.step({ kind: 'recover', taskId: task.id }), h);
    }
    h.advance(61_000);
    ledger.observe(h.tick(), h);
    const holder = h.state.maps.find((t) => t.output)?.output?.workerId;
    if (loseInReduce && holder && h.state.reduces.some((t) => t.status === 'running')) {
      loseInReduce = false;
      h.workers.push(figures(nextWorker()));
      ledger.observe(h.loseWorker(holder), h);
      continue;
    }
    const live = Object.values(h.state.attempts).filter((a) => a.status === 'running');
    if (options.newestFirst) live.reverse();
    for (const attempt of live) {
      ledger.observe(h.succeed(attempt.id, { counters: { records: 1 } }), h);
    }
  }
}

test('the scheduler never re-runs a live output and counts every output exactly once', () => {
  fc.assert(
    fc.property(scenarioArb, (scenario) => {
      const h = new SchedulerHarness({
        maps: scenario.maps,
        reduces: scenario.reduces,
        hosts: Array.from({ length: scenario.maps }, (_, i) => [`host-w${(i % 3) + 1}`]),
        workers: Array.from({ length: scenario.workers }, (_, i) =>
          figures(`w${i + 1}`, { slots: scenario.slots }),
        ),
        strategy: scenario.strategy,
        seed: scenario.seed,
        config: { maxRetries: scenario.maxRetries, speculation: scenario.speculation },
      });
      let workerCount = scenario.workers;
      const nextWorker = (): string => `w${++workerCount}`;
      const ledger = new OutputLedger();
      for (const command of scenario.commands)
        ledger.observe(apply(h, ledger, command, nextWorker), h);
      calm(h, ledger, nextWorker, scenario.calm);

      assert.equal(h.state.status, 'succeeded', 'the job finishes once faults stop');
      const tasks = [...h.state.maps, ...h.state.reduces];
      for (const task of tasks) {
        assert.ok(ledger.alive.has(task.id), `${task.id} has no live output`);
        assert.equal(ledger.accepted.get(task.id), (ledger.lost.get(task.id) ?? 0) + 1);
      }
      assert.deepEqual(jobCounters(h.state), { records: tasks.length });
      assert.ok(Object.values(h.state.attempts).every((a) => a.status !== 'running'));
    }),
    { numRuns: 300 },
  );
});
