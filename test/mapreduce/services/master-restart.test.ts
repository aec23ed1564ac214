// Rule (issue 5, "Engine"): job state, progress and counters are durable in SQLite, so a master
// SIGKILLed mid-job and restarted with its data dir finishes the job; workers keep their tasks
// and map outputs across the restart and report to the new master process.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TaskView } from '../../../src/mapreduce/index.js';
import { generateText, MapReduceCluster, parseCounts } from '../../helpers/mapreduce-cluster.js';
import { waitFor } from '../../helpers/processes.js';

const SLOW_MAPPER = [
  '/bin/sh',
  '-c',
  "sleep 0.4; tr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | grep -v '^$' | sed 's/$/\\t1/'",
];
const SLOW_SUM = [
  '/bin/sh',
  '-c',
  `sleep 1; awk -F '\t' '{ s[$1] += $2 } END { for (k in s) print k "\\t" s[k] }'`,
];

describe('mapreduce master restart', { timeout: 120_000 }, () => {
  const cluster = new MapReduceCluster({ workers: 2 });
  const text = generateText(120_000, 5);

  before(async () => {
    await cluster.start();
    await cluster.dfs.client.putBuffer(text, '/in/words.txt', { chunkSize: 8192, replication: 2 });
  });
  after(async () => cluster.stop());

  const tasksOf = async (id: string): Promise<TaskView[]> =>
    (await cluster.http.getJson<{ tasks: TaskView[] }>(`${cluster.masterUrl}/jobs/${id}/tasks`))
      .tasks;

  test('a master SIGKILLed during map and again during reduce finishes the job after each restart', async () => {
    const job = await cluster.submit({
      input: ['/in/words.txt'],
      output: '/out/restart',
      reducers: 3,
      mapper: { kind: 'command', command: SLOW_MAPPER },
      reducer: { kind: 'command', command: SLOW_SUM },
    });
    await waitFor('some maps done, some running', async () => {
      const maps = (await tasksOf(job.id)).filter((t) => t.phase === 'map');
      return maps.some((t) => t.state === 'succeeded') && maps.some((t) => t.state === 'running');
    });
    await cluster.master.kill('SIGKILL');
    await cluster.startMaster();
    const resumed = await cluster.job(job.id);
    assert.ok(resumed.progress.map.done >= 1, 'finished maps survive the restart');
    await waitFor(
      'a reduce task running',
      async () =>
        (await tasksOf(job.id)).some((t) => t.phase === 'reduce' && t.state === 'running'),
      {
        timeoutMs: 40_000,
      },
    );
    await cluster.master.kill('SIGKILL');
    await cluster.startMaster();
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    const expected = new Map<string, number>();
    for (const word of text.toLowerCase().split(/[^a-z]+/))
      if (word) expected.set(word, (expected.get(word) ?? 0) + 1);
    assert.deepEqual(
      new Map([...parseCounts(await cluster.readOutput('/out/restart'))].sort()),
      new Map([...expected].sort()),
    );
    assert.equal(done.counters['map_input_bytes'], Buffer.byteLength(text));
  });
});
