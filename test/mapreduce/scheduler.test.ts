// Rule checked (poneglyph-reduce.md, "Retry Logic", "Dead Letter Queue"; issue 5, "Fault
// tolerance"): reduce tasks start after every map task succeeded; a failed task is retried up to
// 3 times with `base_delay * 2^attempt` +-20 % backoff, preferably on another worker, then goes to
// the dead-letter queue with its reason and the job fails; recovery gives it a fresh budget; a lost
// worker's running tasks and its finished map outputs run again; a straggler gets a backup and the
// first attempt to finish wins while the other is cancelled; an attempt silent for 300 s times
// out; map tasks prefer a worker on a replica's host; cancellation stops everything.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jobCounters, nextDeadlineMs, taskIdOf } from '../../src/mapreduce/master/scheduler.js';
import { effectsOf, figures, JOB, SchedulerHarness } from './scheduler-harness.js';

const USER_ERROR = { reason: 'user-code', error: 'TypeError: boom', record: 'bad line' } as const;

describe('phases', () => {
  test('maps first, reduces after every map, then the job succeeds', () => {
    const h = new SchedulerHarness({ maps: 2, reduces: 2 });
    const first = h.tick();
    assert.deepEqual(
      effectsOf(first, 'assign').map((a) => [a.taskId, a.workerId]),
      [
        [taskIdOf(JOB, 'map', 0), 'w1'],
        [taskIdOf(JOB, 'map', 1), 'w2'],
      ],
    );
    h.succeed(h.only('map', 0), { counters: { records: 10 } });
    assert.equal(h.state.phase, 'map');
    assert.deepEqual(effectsOf(h.tick(), 'assign'), [], 'no reduce while a map runs');
    const last = h.succeed(h.only('map', 1), { counters: { records: 5 } });
    assert.deepEqual(effectsOf(last, 'phase-changed'), [
      { kind: 'phase-changed', phase: 'reduce', previous: 'map' },
    ]);
    assert.equal(effectsOf(h.tick(), 'assign').length, 2);
    h.succeed(h.only('reduce', 0), { counters: { records: 1 } });
    const end = h.succeed(h.only('reduce', 1), { counters: { records: 1 } });
    assert.deepEqual(effectsOf(end, 'job-status'), [
      { kind: 'job-status', status: 'succeeded', previous: 'running' },
    ]);
    assert.equal(h.state.phase, 'done');
    assert.deepEqual(jobCounters(h.state), { records: 17 });
    assert.equal(effectsOf(h.log, 'output-accepted').length, 4);
  });

  test('a job without input splits starts in the reduce phase', () => {
    const h = new SchedulerHarness({ maps: 0, reduces: 1 });
    assert.equal(h.state.phase, 'reduce');
    assert.equal(effectsOf(h.tick(), 'assign')[0]?.phase, 'reduce');
  });

  test('a worker gets no more tasks than its free slots', () => {
    const h = new SchedulerHarness({ maps: 5, workers: [figures('w1', { slots: 2 })] });
    assert.equal(effectsOf(h.tick(), 'assign').length, 2);
    assert.equal(effectsOf(h.tick(), 'assign').length, 0);
  });
});

describe('data locality', () => {
  test('a map task goes to a worker on a replica host, even against the rotation', () => {
    const h = new SchedulerHarness({ maps: 1, hosts: [['HOST-W2']] });
    const [assign] = effectsOf(h.tick(), 'assign');
    assert.equal(assign?.workerId, 'w2');
    assert.equal(assign?.local, true);
  });

  test('when no local worker is free the task runs remotely', () => {
    const h = new SchedulerHarness({ maps: 2, hosts: [['host-w1'], ['host-w1']] });
    const assigns = effectsOf(h.tick(), 'assign');
    assert.deepEqual(
      assigns.map((a) => [a.workerId, a.local]),
      [
        ['w1', true],
        ['w2', false],
      ],
    );
  });

  test('locality off: the strategy alone decides', () => {
    const h = new SchedulerHarness({ maps: 1, hosts: [['host-w2']], config: { locality: false } });
    assert.equal(effectsOf(h.tick(), 'assign')[0]?.workerId, 'w1');
  });
});

describe('retries', () => {
  test('retry n waits base * 2^(n-1) +-20 %, then the task goes to the dead-letter queue', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const h = new SchedulerHarness({ maps: 2, seed });
      h.tick();
      h.succeed(h.only('map', 1));
      for (let retry = 1; retry <= 3; retry++) {
        const effects = h.fail(h.only('map', 0), USER_ERROR);
        const [scheduled] = effectsOf(effects, 'retry-scheduled');
        assert.ok(scheduled, `retry ${retry} scheduled`);
        assert.equal(scheduled.retry, retry);
        const nominal = 1000 * 2 ** (retry - 1);
        assert.ok(scheduled.delayMs >= 0.8 * nominal && scheduled.delayMs <= 1.2 * nominal);
        assert.equal(h.state.maps[0]?.status, 'failed');
        h.advance(Math.ceil(scheduled.delayMs) - 1);
        assert.deepEqual(effectsOf(h.tick(), 'assign'), [], 'not before notBeforeMs');
        h.advance(1);
        assert.equal(effectsOf(h.tick(), 'assign').length, 1);
      }
      const last = h.fail(h.only('map', 0), USER_ERROR);
      assert.deepEqual(effectsOf(last, 'retry-scheduled'), []);
      const [dead] = effectsOf(last, 'dead-letter');
      assert.deepEqual(dead?.entry, {
        task_id: taskIdOf(JOB, 'map', 0),
        job_id: JOB,
        reason: 'user-code',
        error: 'TypeError: boom',
        record: 'bad line',
        attempts: 4,
        at: h.nowMs,
      });
      assert.equal(h.state.maps[0]?.status, 'dead-lettered');
      assert.equal(h.state.status, 'failed');
      assert.deepEqual(effectsOf(last, 'job-status').at(-1)?.status, 'failed');
    }
  });

  test('an outage (unreachable) uses no retry budget within the grace, with backoff; then it counts', () => {
    const h = new SchedulerHarness({ maps: 1, config: { unreachableGraceMs: 30_000 } });
    const OUTAGE = { reason: 'unreachable', error: 'circuit open for the DFS master' } as const;
    h.tick();
    // Five outage failures over about 31 s: none uses the budget (maxRetries 3), delays grow.
    const delays: number[] = [];
    for (let failure = 1; failure <= 5; failure++) {
      const effects = h.fail(h.only('map', 0), OUTAGE);
      assert.deepEqual(effectsOf(effects, 'dead-letter'), [], `outage failure ${failure}`);
      const [scheduled] = effectsOf(effects, 'retry-scheduled');
      assert.ok(scheduled);
      delays.push(scheduled.delayMs);
      assert.equal(h.state.maps[0]?.failures, 0);
      h.advance(Math.ceil(scheduled.delayMs));
      h.tick();
    }
    assert.ok(
      delays.every((delay, i) => i === 0 || delay > delays[i - 1]!),
      `${delays.join()}`,
    );
    // Past the grace (31 s since the first outage failure) outage failures count again.
    assert.ok(h.nowMs > 30_000);
    for (let counted = 1; counted <= 3; counted++) {
      const effects = h.fail(h.only('map', 0), OUTAGE);
      assert.equal(h.state.maps[0]?.failures, counted);
      const [scheduled] = effectsOf(effects, 'retry-scheduled');
      assert.ok(scheduled);
      h.advance(Math.ceil(scheduled.delayMs));
      h.tick();
    }
    const last = h.fail(h.only('map', 0), OUTAGE);
    assert.equal(effectsOf(last, 'dead-letter')[0]?.entry.reason, 'unreachable');
  });

  test('another kind of failure ends the outage run; grace 0 counts every outage failure', () => {
    const h = new SchedulerHarness({ maps: 1, config: { unreachableGraceMs: 60_000 } });
    const OUTAGE = { reason: 'unreachable', error: 'ECONNREFUSED' } as const;
    h.tick();
    h.fail(h.only('map', 0), OUTAGE);
    assert.equal(h.state.maps[0]?.unreachableSinceMs, 0);
    h.advance(10_000);
    h.tick();
    h.fail(h.only('map', 0), { reason: 'crash', error: 'exit 1' });
    assert.equal(h.state.maps[0]?.failures, 1);
    assert.equal(h.state.maps[0]?.unreachableSinceMs, null);
    const strict = new SchedulerHarness({ maps: 1, config: { unreachableGraceMs: 0 } });
    strict.tick();
    strict.fail(strict.only('map', 0), OUTAGE);
    assert.equal(strict.state.maps[0]?.failures, 1);
  });

  test('a retry avoids the worker it failed on when another can take it', () => {
    const h = new SchedulerHarness({ maps: 1 });
    h.tick();
    const first = h.state.attempts[h.only('map', 0)]!;
    h.fail(first.id, { reason: 'crash', error: 'exit 137' });
    h.advance(10_000);
    h.tick();
    const second = h.state.attempts[h.only('map', 0)]!;
    assert.notEqual(second.workerId, first.workerId);
  });

  test('with a single worker the retry goes back to it', () => {
    const h = new SchedulerHarness({ maps: 1, workers: [figures('w1')] });
    h.tick();
    h.fail(h.only('map', 0), { reason: 'crash', error: 'exit 1' });
    h.advance(10_000);
    assert.equal(effectsOf(h.tick(), 'assign')[0]?.workerId, 'w1');
  });

  test('other tasks keep running; the job fails only when nothing else can progress', () => {
    const h = new SchedulerHarness({ maps: 2, config: { maxRetries: 0 } });
    h.tick();
    h.fail(h.only('map', 0), { reason: 'bad-input', error: 'not UTF-8' });
    assert.equal(h.state.status, 'running', 'map 1 still runs');
    h.succeed(h.only('map', 1));
    assert.equal(h.state.status, 'failed');
    assert.deepEqual(effectsOf(h.tick(), 'assign'), [], 'no reduce after a failed map');
  });

  test('recover re-enqueues the task with a fresh budget and the job completes', () => {
    const h = new SchedulerHarness({ maps: 1 });
    h.tick();
    for (let i = 0; i < 4; i++) {
      h.fail(h.only('map', 0), USER_ERROR);
      h.advance(60_000);
      h.tick();
    }
    assert.equal(h.state.status, 'failed');
    const recovered = h.step({ kind: 'recover', taskId: taskIdOf(JOB, 'map', 0) });
    assert.deepEqual(effectsOf(recovered, 'job-status'), [
      { kind: 'job-status', status: 'running', previous: 'failed' },
    ]);
    assert.equal(h.state.maps[0]?.failures, 0);
    for (let i = 0; i < 3; i++) {
      h.tick();
      assert.equal(effectsOf(h.fail(h.only('map', 0), USER_ERROR), 'retry-scheduled').length, 1);
      h.advance(60_000);
    }
    h.runToEnd();
    assert.equal(h.state.status, 'succeeded');
    assert.equal(h.state.maps[0]?.totalFailures, 7);
  });

  test('recover takes the re-planned hosts of a map task, lower-cased; without them keeps its own', () => {
    const h = new SchedulerHarness({
      maps: 2,
      hosts: [['dn-1'], ['dn-2']],
      config: { maxRetries: 0 },
    });
    h.tick();
    h.fail(h.only('map', 0), USER_ERROR);
    h.fail(h.only('map', 1), USER_ERROR);
    h.step({ kind: 'recover', taskId: taskIdOf(JOB, 'map', 0), preferredHosts: ['DN-9'] });
    h.step({ kind: 'recover', taskId: taskIdOf(JOB, 'map', 1) });
    assert.deepEqual(h.state.maps[0]?.preferredHosts, ['dn-9']);
    assert.deepEqual(h.state.maps[1]?.preferredHosts, ['dn-2']);
  });

  test('recover is refused for a task that is not dead-lettered', () => {
    const h = new SchedulerHarness({ maps: 1 });
    const effects = h.step({ kind: 'recover', taskId: taskIdOf(JOB, 'map', 0) });
    assert.equal(
      effectsOf(effects, 'rejected')[0]?.reason,
      `task ${taskIdOf(JOB, 'map', 0)} is pending`,
    );
  });

  test('a late report of an attempt that already ended changes nothing', () => {
    const h = new SchedulerHarness({ maps: 1 });
    h.tick();
    const attempt = h.only('map', 0);
    h.succeed(attempt);
    const before = h.state;
    assert.deepEqual(h.fail(attempt, USER_ERROR), []);
    assert.equal(h.state.maps[0], before.maps[0]);
    assert.deepEqual(h.succeed(attempt), [], 'a repeated success of the winner is a no-op');
    assert.equal(h.state.maps[0], before.maps[0]);
  });

  test('a success from a failed attempt is discarded, not counted', () => {
    const h = new SchedulerHarness({ maps: 1 });
    h.tick();
    const attempt = h.only('map', 0);
    h.fail(attempt, USER_ERROR);
    assert.deepEqual(h.succeed(attempt), [
      { kind: 'discard-output', attemptId: attempt, workerId: 'w1', location: `loc:${attempt}` },
    ]);
    assert.equal(h.state.maps[0]?.status, 'failed');
  });
});

describe('timeouts', () => {
  test('an attempt silent for 300 s fails with reason timeout and is cancelled', () => {
    const h = new SchedulerHarness({ maps: 1 });
    h.tick();
    const attempt = h.only('map', 0);
    assert.equal(nextDeadlineMs(h.state, h.config), 300_000);
    h.advance(299_999);
    assert.deepEqual(effectsOf(h.tick(), 'attempt-failed'), []);
    h.advance(1);
    const effects = h.tick();
    assert.deepEqual(
      effectsOf(effects, 'cancel-attempt').map((e) => [e.attemptId, e.reason]),
      [[attempt, 'timeout']],
    );
    assert.equal(effectsOf(effects, 'attempt-failed')[0]?.failure.reason, 'timeout');
    assert.equal(effectsOf(effects, 'retry-scheduled').length, 1);
    assert.equal(h.state.stats.timeouts, 1);
  });

  test('progress reports push the timeout back', () => {
    const h = new SchedulerHarness({ maps: 1 });
    h.tick();
    const attempt = h.only('map', 0);
    h.advance(200_000);
    h.step({ kind: 'attempt-progress', attemptId: attempt, progress: 0.5 });
    h.advance(299_999);
    assert.deepEqual(effectsOf(h.tick(), 'attempt-failed'), []);
    assert.equal(h.state.attempts[attempt]?.progress, 0.5);
    h.advance(1);
    assert.equal(effectsOf(h.tick(), 'attempt-failed').length, 1);
  });
});

describe('worker loss', () => {
  test('in the map phase: running tasks fail (crash), finished map outputs run again', () => {
    const h = new SchedulerHarness({
      maps: 3,
      workers: [figures('w1', { slots: 2 }), figures('w2')],
    });
    h.tick();
    const onW1 = (i: number): boolean => h.state.attempts[h.only('map', i)]?.workerId === 'w1';
    const finished = [0, 1, 2].find(onW1)!;
    h.succeed(h.only('map', finished));
    const stillRunning = [0, 1, 2].find((i) => i !== finished && onW1(i))!;
    const effects = h.loseWorker('w1');
    assert.deepEqual(effectsOf(effects, 'output-lost'), [
      { kind: 'output-lost', taskId: taskIdOf(JOB, 'map', finished), workerId: 'w1' },
    ]);
    assert.equal(effectsOf(effects, 'attempt-failed')[0]?.failure.reason, 'crash');
    assert.equal(h.state.maps[finished]?.status, 'pending');
    assert.equal(h.state.maps[stillRunning]?.status, 'failed');
    assert.equal(h.state.maps[finished]?.failures, 0, 'a lost output costs no retry');
    h.runToEnd();
    assert.equal(h.state.status, 'succeeded');
    assert.equal(h.state.maps[finished]?.outputLosses, 1);
    assert.ok(Object.values(h.state.attempts).every((a) => a.status !== 'running'));
  });

  test('in the reduce phase: lost map outputs run again and running reducers restart', () => {
    const h = new SchedulerHarness({
      maps: 2,
      reduces: 2,
      workers: [figures('w1'), figures('w2'), figures('w3')],
    });
    h.tick();
    const mapWorker = h.state.attempts[h.only('map', 0)]!.workerId;
    h.succeed(h.only('map', 0), { counters: { records: 3 } });
    h.succeed(h.only('map', 1), { counters: { records: 4 } });
    h.tick();
    const reduceOnLost = [0, 1].filter(
      (i) => h.state.attempts[h.only('reduce', i)]?.workerId === mapWorker,
    );
    const effects = h.loseWorker(mapWorker);
    assert.equal(h.state.phase, 'map');
    assert.equal(h.state.maps[0]?.status, 'pending');
    const cancelled = effectsOf(effects, 'cancel-attempt').filter(
      (e) => e.reason === 'map-output-lost',
    );
    assert.equal(cancelled.length, 2 - reduceOnLost.length);
    for (const i of [0, 1]) {
      const expected = reduceOnLost.includes(i) ? 1 : 0;
      assert.equal(
        h.state.reduces[i]?.failures,
        expected,
        'only the reducer on the lost worker failed',
      );
    }
    assert.deepEqual(
      effectsOf(h.tick(), 'assign').map((a) => a.phase),
      ['map'],
    );
    h.succeed(h.only('map', 0), { counters: { records: 3 } });
    h.runToEnd();
    assert.equal(h.state.status, 'succeeded');
    assert.deepEqual(jobCounters(h.state), { records: 7 }, 'the re-run map counts once');
  });

  test('a reducer’s fetch failure report re-runs that map; a stale report is ignored', () => {
    const h = new SchedulerHarness({ maps: 1, reduces: 1 });
    h.tick();
    const mapAttempt = h.state.attempts[h.only('map', 0)]!;
    h.succeed(mapAttempt.id);
    h.tick();
    const other = mapAttempt.workerId === 'w1' ? 'w2' : 'w1';
    const stale = h.step({
      kind: 'map-output-lost',
      taskId: taskIdOf(JOB, 'map', 0),
      workerId: other as never,
    });
    assert.deepEqual(stale, []);
    const effects = h.step({
      kind: 'map-output-lost',
      taskId: taskIdOf(JOB, 'map', 0),
      workerId: mapAttempt.workerId,
    });
    assert.equal(effectsOf(effects, 'output-lost').length, 1);
    assert.equal(h.state.reduces[0]?.status, 'pending');
  });

  test('once every reduce task succeeded, losing a map worker changes nothing', () => {
    const h = new SchedulerHarness({ maps: 1, reduces: 1 });
    h.runToEnd();
    assert.equal(h.state.status, 'succeeded');
    assert.deepEqual(h.loseWorker('w1'), []);
    assert.deepEqual(h.loseWorker('w2'), []);
  });
});

describe('speculative execution', () => {
  function straggling(): SchedulerHarness {
    const workers = ['w1', 'w2', 'w3', 'w4', 'w5'].map((id) => figures(id));
    const h = new SchedulerHarness({ maps: 4, workers });
    h.tick();
    h.advance(1_000);
    for (const i of [0, 1, 2]) h.succeed(h.only('map', i));
    return h;
  }

  test('a task much slower than the median gets one backup on another worker', () => {
    const h = straggling();
    h.advance(8_000); // 9 s: under the 10 s floor
    assert.deepEqual(effectsOf(h.tick(), 'assign'), []);
    h.advance(1_000);
    const [backup] = effectsOf(h.tick(), 'assign');
    assert.ok(backup?.speculative);
    const [original, copy] = h.running('map', 3);
    assert.equal(copy, backup.attemptId);
    assert.notEqual(h.state.attempts[original!]?.workerId, backup.workerId);
    h.advance(30_000);
    assert.deepEqual(effectsOf(h.tick(), 'assign'), [], 'one backup at a time');
  });

  test('the backup wins: the original is cancelled and its late output discarded', () => {
    const h = straggling();
    h.advance(10_000);
    h.tick();
    const [original, backup] = h.running('map', 3);
    const effects = h.succeed(backup!);
    assert.deepEqual(
      effectsOf(effects, 'cancel-attempt').map((e) => [e.attemptId, e.reason]),
      [[original, 'speculation-lost']],
    );
    assert.equal(h.state.maps[3]?.output?.attemptId, backup);
    assert.equal(h.state.stats.speculativeWon, 1);
    assert.equal(effectsOf(h.succeed(original!), 'discard-output').length, 1);
    assert.equal(
      effectsOf(h.log, 'output-accepted').filter((e) => e.taskId === taskIdOf(JOB, 'map', 3))
        .length,
      1,
    );
  });

  test('the original wins: the backup is cancelled', () => {
    const h = straggling();
    h.advance(10_000);
    h.tick();
    const [original, backup] = h.running('map', 3);
    const effects = h.succeed(original!);
    assert.deepEqual(
      effectsOf(effects, 'cancel-attempt').map((e) => e.attemptId),
      [backup],
    );
    assert.equal(h.state.stats.speculativeWon, 0);
  });

  test('a failing original leaves the backup running, without a retry', () => {
    const h = straggling();
    h.advance(10_000);
    h.tick();
    const [original, backup] = h.running('map', 3);
    const effects = h.fail(original!, { reason: 'crash', error: 'oom' });
    assert.deepEqual(effectsOf(effects, 'retry-scheduled'), []);
    assert.deepEqual(h.running('map', 3), [backup]);
    assert.equal(h.state.maps[3]?.failures, 1);
  });

  test('no speculation before 75 % of the phase finished, nor when disabled', () => {
    const h = new SchedulerHarness({
      maps: 4,
      workers: ['a', 'b', 'c', 'd', 'e'].map((id) => figures(id)),
    });
    h.tick();
    h.advance(1_000);
    h.succeed(h.only('map', 0));
    h.succeed(h.only('map', 1));
    h.advance(60_000);
    assert.deepEqual(effectsOf(h.tick(), 'assign'), []);
    const off = new SchedulerHarness({
      maps: 4,
      workers: ['a', 'b', 'c', 'd', 'e'].map((id) => figures(id)),
      config: { speculation: { enabled: false } },
    });
    off.tick();
    for (const i of [0, 1, 2]) off.succeed(off.only('map', i));
    off.advance(100_000);
    assert.deepEqual(effectsOf(off.tick(), 'assign'), []);
  });
});

describe('cancellation', () => {
  test('cancels every live attempt; later reports are discarded and nothing is assigned', () => {
    const h = new SchedulerHarness({ maps: 2 });
    h.tick();
    const attempts = [h.only('map', 0), h.only('map', 1)];
    const effects = h.step({ kind: 'cancel' });
    assert.deepEqual(
      effectsOf(effects, 'cancel-attempt').map((e) => [e.attemptId, e.reason]),
      attempts.map((a) => [a, 'job-cancelled']),
    );
    assert.equal(h.state.status, 'cancelled');
    assert.equal(effectsOf(h.succeed(attempts[0]!), 'discard-output').length, 1);
    assert.deepEqual(h.tick(), []);
    assert.equal(effectsOf(h.step({ kind: 'cancel' }), 'rejected').length, 1);
  });

  test('a dead-lettered task of a cancelled job cannot be recovered', () => {
    const h = new SchedulerHarness({ maps: 1, config: { maxRetries: 0 } });
    h.tick();
    h.fail(h.only('map', 0), USER_ERROR);
    h.step({ kind: 'cancel' });
    const effects = h.step({ kind: 'recover', taskId: taskIdOf(JOB, 'map', 0) });
    assert.equal(effectsOf(effects, 'rejected')[0]?.reason, `job ${JOB} is cancelled`);
  });
});

test('failure messages and records are bounded', () => {
  const h = new SchedulerHarness({ maps: 1, config: { maxRetries: 0 } });
  h.tick();
  const effects = h.fail(h.only('map', 0), {
    reason: 'user-code',
    error: 'e'.repeat(10_000),
    record: 'r'.repeat(10_000),
  });
  const [dead] = effectsOf(effects, 'dead-letter');
  assert.equal(dead?.entry.error.length, 4096);
  assert.equal(dead?.entry.record?.length, 1024);
});
