// Rule (poneglyph-reduce.md, "Fault Tolerance"; issue 5): when a worker is lost, its running
// tasks and its finished map tasks whose output can no longer be fetched run again elsewhere,
// so a worker SIGKILLed during the map or the reduce phase still yields the correct output; and
// a worker's circuit breaker goes CLOSED -> OPEN after consecutive failures -> HALF_OPEN after
// its open time -> CLOSED after successes (a flapping worker is cut off, then let back in).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TaskView } from '../../../src/mapreduce/index.js';
import { generateText, MapReduceCluster, parseCounts } from '../../helpers/mapreduce-cluster.js';
import { waitFor } from '../../helpers/processes.js';

/** Word count computed without the engine. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().split(/[^a-z]+/)) {
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return new Map([...counts].sort());
}

const SLOW_MAPPER = [
  '/bin/sh',
  '-c',
  "sleep 0.3; tr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | grep -v '^$' | sed 's/$/\\t1/'",
];
const SUM = ['awk', '-F', '\t', '{ s[$1] += $2 } END { for (k in s) print k "\\t" s[k] }'];
const SLOW_SUM = [
  '/bin/sh',
  '-c',
  `sleep 1.5; awk -F '\t' '{ s[$1] += $2 } END { for (k in s) print k "\\t" s[k] }'`,
];

describe('mapreduce under worker faults', { timeout: 150_000 }, () => {
  const cluster = new MapReduceCluster({
    workers: 2,
    masterArgs: [
      '--breaker-failures',
      '2',
      '--breaker-open',
      '2',
      '--breaker-successes',
      '1',
      '--speculation',
      'off',
    ],
  });
  const text = generateText(200_000, 3);

  before(async () => {
    await cluster.start();
    await cluster.dfs.client.putBuffer(text, '/in/words.txt', { chunkSize: 8192, replication: 2 });
  });
  after(async () => cluster.stop());

  const tasksOf = async (id: string): Promise<TaskView[]> =>
    (await cluster.http.getJson<{ tasks: TaskView[] }>(`${cluster.masterUrl}/jobs/${id}/tasks`))
      .tasks;

  const breakerOf = async (workerId: string): Promise<string | undefined> => {
    const { breakers } = await cluster.http.getJson<{
      breakers: { worker_id: string; state: string }[];
    }>(`${cluster.masterUrl}/fault-tolerance/circuit-breakers`);
    return breakers.find((b) => b.worker_id === workerId)?.state;
  };

  test('a worker SIGKILLed during the map phase: its maps run again elsewhere, the output is correct', async () => {
    const job = await cluster.submit({
      input: ['/in/words.txt'],
      output: '/out/kill-map',
      reducers: 2,
      mapper: { kind: 'command', command: SLOW_MAPPER },
      reducer: { kind: 'command', command: SUM },
    });
    await waitFor('worker-0 to finish a map and run another', async () => {
      const tasks = await tasksOf(job.id);
      const onZero = tasks.filter((t) => t.phase === 'map' && t.worker_id === 'worker-0');
      return (
        onZero.some((t) => t.state === 'succeeded') && onZero.some((t) => t.state === 'running')
      );
    });
    await cluster.workers[0]!.kill('SIGKILL');
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    assert.deepEqual(
      new Map([...parseCounts(await cluster.readOutput('/out/kill-map'))].sort()),
      expectedCounts(text),
    );
    assert.ok(done.stats['failures']! >= 1, 'the killed attempts failed');
    const tasks = await tasksOf(job.id);
    assert.ok(tasks.filter((t) => t.phase === 'map').every((t) => t.worker_id === 'worker-1'));
    await cluster.startWorker(0);
    await cluster.waitForWorkers(2);
  });

  test('a worker SIGKILLed during the reduce phase: the reduce runs again elsewhere, the output is correct', async () => {
    const job = await cluster.submit({
      input: ['/in/words.txt'],
      output: '/out/kill-reduce',
      reducers: 4,
      mapper: { kind: 'command', command: SLOW_MAPPER.map((a) => a.replace('sleep 0.3; ', '')) },
      reducer: { kind: 'command', command: SLOW_SUM },
    });
    const victim = await waitFor('a reduce task running', async () => {
      const running = (await tasksOf(job.id)).find(
        (t) => t.phase === 'reduce' && t.state === 'running',
      );
      return running?.worker_id ?? undefined;
    });
    const index = Number(victim.replace('worker-', ''));
    await cluster.workers[index]!.kill('SIGKILL');
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    assert.deepEqual(
      new Map([...parseCounts(await cluster.readOutput('/out/kill-reduce'))].sort()),
      expectedCounts(text),
    );
    const reduces = (await tasksOf(job.id)).filter((t) => t.phase === 'reduce');
    assert.ok(reduces.every((t) => t.worker_id !== victim));
    await cluster.startWorker(index);
    await cluster.waitForWorkers(2);
  });

  test('a flapping worker opens its breaker and later closes it', async () => {
    await waitFor(
      'breakers closed after the kills',
      async () =>
        (await breakerOf('worker-0')) !== 'OPEN' && (await breakerOf('worker-1')) !== 'OPEN',
      { timeoutMs: 10_000 },
    );
    const slow = await cluster.submit({
      input: ['/in/words.txt'],
      output: '/out/flap-1',
      mapper: { kind: 'command', command: SLOW_MAPPER },
      reducer: { kind: 'command', command: SUM },
    });
    await waitFor('worker-0 running a map', async () =>
      (await tasksOf(slow.id)).some((t) => t.state === 'running' && t.worker_id === 'worker-0'),
    );
    const worker = cluster.workers[0]!;
    worker.child.kill('SIGSTOP'); // unresponsive: heartbeats stop, its tasks hang
    try {
      await waitFor('worker-0 breaker OPEN', async () => (await breakerOf('worker-0')) === 'OPEN', {
        timeoutMs: 15_000,
      });
    } finally {
      worker.child.kill('SIGCONT');
    }
    await waitFor(
      'worker-0 breaker HALF_OPEN',
      async () => (await breakerOf('worker-0')) !== 'OPEN',
      { timeoutMs: 15_000 },
    );
    const second = await cluster.submit({
      builtin: 'wordcount',
      input: ['/in/words.txt'],
      output: '/out/flap-2',
    });
    await waitFor(
      'worker-0 breaker CLOSED',
      async () => (await breakerOf('worker-0')) === 'CLOSED',
      { timeoutMs: 20_000 },
    );
    for (const id of [slow.id, second.id])
      assert.equal((await cluster.waitForJob(id)).state, 'succeeded');
    assert.deepEqual(
      new Map([...parseCounts(await cluster.readOutput('/out/flap-1'))].sort()),
      expectedCounts(text),
    );
    assert.deepEqual(
      new Map([...parseCounts(await cluster.readOutput('/out/flap-2'))].sort()),
      expectedCounts(text),
    );
    const stats = await cluster.http.getJson<{ circuit_breakers: { transitions: number } }>(
      `${cluster.masterUrl}/fault-tolerance/stats`,
    );
    assert.ok(stats.circuit_breakers.transitions >= 3);
  });
});
