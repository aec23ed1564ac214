// Rules (issue 7, "Network partitions"; poneglyph-reduce.md, "Fault Tolerance"): a worker cut
// from the master is, to the master, a lost worker: after --worker-timeout its running tasks and
// its map outputs still needed run on another worker, so a running word count finishes with the
// correct output without healing; and when the cut (here one way: the worker's requests to the
// master are lost) heals while the job runs, the worker's late reports do not spoil the output
// (each task's output is accepted once).
//
// Layout: registry, DFS master, three datanodes, the MapReduce master and two workers, each in
// its own namespace. Cuts are only between a worker and the MapReduce master: the worker still
// reaches the DFS and the other worker (the shuffle). The test process talks to the master
// through a forwarder in a namespace no cut touches; input and output go through a DFS client
// run there (dfs-client-script.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FileSummary } from '../../src/dfs/index.js';
import type { JobView, TaskView } from '../../src/mapreduce/index.js';
import { FAST_MASTER_ARGS, generateText, parseCounts } from '../helpers/mapreduce-cluster.js';
import { NetLab, netnsUnavailableReason, type NetnsHttp } from '../helpers/netns.js';
import { PROJECT_ROOT, tempDir, waitFor } from '../helpers/processes.js';

/** Namespaces need root (or CAP_NET_ADMIN) and nftables; elsewhere the suite says why it skips. */
const unavailable = await netnsUnavailableReason();

const SCRIPT = join(PROJECT_ROOT, 'test', 'partition', 'dfs-client-script.ts');
const DATANODES = ['d0', 'd1', 'd2'];
const WORKERS = ['w0', 'w1'];
const INPUT_BYTES = 120_000;
const INPUT_SEED = 7;
const GRPC_PORT = 50051;
const SLOW_MAPPER = [
  '/bin/sh',
  '-c',
  "sleep 0.4; tr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | grep -v '^$' | sed 's/$/\\t1/'",
];
const SUM = [
  '/bin/sh',
  '-c',
  `sleep 0.5; awk -F '\t' '{ s[$1] += $2 } END { for (k in s) print k "\\t" s[k] }'`,
];

/** Word count computed without the engine. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().split(/[^a-z]+/)) {
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return new Map([...counts].sort());
}

describe(
  'mapreduce: a running job when a worker is cut from the master',
  { timeout: 170_000, skip: unavailable ?? false },
  () => {
    const dir = tempDir('partition-mapreduce');
    let lab: NetLab;
    let http: NetnsHttp;
    let metaUrl = '';
    let masterUrl = '';

    async function script(args: string[]): Promise<Record<string, string>[]> {
      const result = await lab.runScript('obs', SCRIPT, args);
      assert.equal(result.code, 0, `the DFS client script failed:\n${result.stderr}`);
      return result.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, string>);
    }

    /** The concatenated part files of a committed output directory. */
    async function readOutput(outputDir: string): Promise<string> {
      const query = new URLSearchParams({ prefix: `${outputDir}/`, limit: '1000' });
      const { files } = await http.getJson<{ files: FileSummary[] }>(
        `${metaUrl}/api/v1/files?${query.toString()}`,
      );
      const parts = files.map((f) => f.path).filter((p) => /\/part-r-\d{5}$/.test(p));
      const texts = await script(['cat', metaUrl, ...parts.sort()]);
      return texts.map((record) => record['text'] ?? '').join('');
    }

    async function workerStatus(id: string): Promise<string | undefined> {
      const { workers } = await http.getJson<{ workers: { worker_id: string; status: string }[] }>(
        `${masterUrl}/workers`,
      );
      return workers.find((w) => w.worker_id === id)?.status;
    }

    const job = (id: string): Promise<JobView> => http.getJson<JobView>(`${masterUrl}/jobs/${id}`);

    async function submit(output: string): Promise<JobView> {
      return http.postJson<JobView>(`${masterUrl}/jobs`, {
        input: ['/in/words.txt'],
        output,
        reducers: 4,
        mapper: { kind: 'command', command: SLOW_MAPPER },
        reducer: { kind: 'command', command: SUM },
      });
    }

    /** Waits until `worker` runs a task of the job. */
    async function running(jobId: string, worker: string): Promise<void> {
      await waitFor(
        `${worker} running a task of ${jobId}`,
        async () => {
          const { tasks } = await http.getJson<{ tasks: TaskView[] }>(
            `${masterUrl}/jobs/${jobId}/tasks`,
          );
          return tasks.some((t) => t.state === 'running' && t.worker_id === worker);
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    }

    async function finished(jobId: string): Promise<JobView> {
      return waitFor(
        `job ${jobId} to finish`,
        async () => {
          const view = await job(jobId);
          return ['succeeded', 'failed', 'cancelled'].includes(view.state) ? view : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
    }

    before(async () => {
      lab = await NetLab.create(['obs', 'reg', 'meta', ...DATANODES, 'master', ...WORKERS]);
      http = await lab.http('obs', join(dir.path, 'proxy.sock'));
      const address = (host: string): string => lab.host(host).address;
      const registry = await lab.startRegistry('reg', {
        heartbeatTimeoutS: 2,
        cleanupIntervalS: 0.5,
      });
      const meta = await lab.startTessera('meta', [
        ...['meta', '--host', address('meta'), '--port', '9100', '--registry', registry.url],
        ...['--data-dir', join(dir.path, 'meta'), '--heartbeat-interval', '0.3'],
        ...['--datanode-timeout', '2', '--replication-interval', '0.3'],
      ]);
      metaUrl = meta.url;
      const common = [
        '--registry',
        registry.url,
        '--meta',
        meta.url,
        '--heartbeat-interval',
        '0.3',
      ];
      const master = lab.startTessera('master', [
        ...['mapreduce', 'master', '--host', address('master'), '--port', '9400'],
        ...['--grpc-port', String(GRPC_PORT), '--data-dir', join(dir.path, 'master')],
        ...[...common, ...FAST_MASTER_ARGS, '--speculation', 'off'],
      ]);
      const datanodes = DATANODES.map((name) =>
        lab.startTessera(name, [
          ...['datanode', '--host', address(name), '--port', '9201', '--node-id', name],
          ...['--data-dir', join(dir.path, name), ...common],
        ]),
      );
      const workers = WORKERS.map((name) =>
        lab.startTessera(name, [
          ...['mapreduce', 'worker', '--host', address(name), '--port', '9501'],
          ...['--data-dir', join(dir.path, name), '--server-id', name, '--slots', '2'],
          ...['--master', `${address('master')}:${GRPC_PORT}`, ...common],
        ]),
      );
      masterUrl = (await master).url;
      await Promise.all([...datanodes, ...workers]);
      await waitFor(
        'both workers active',
        async () => {
          const states = await Promise.all(WORKERS.map((w) => workerStatus(w)));
          return states.every((state) => state === 'active');
        },
        { timeoutMs: 30_000 },
      );
      await waitFor(
        'the datanodes registered',
        async () => {
          const { nodes } = await http.getJson<{ nodes: { state: string }[] }>(
            `${metaUrl}/api/v1/nodes`,
          );
          return nodes.filter((node) => node.state === 'active').length === 3;
        },
        { timeoutMs: 30_000 },
      );
      await script([
        'put-text',
        metaUrl,
        '/in/words.txt',
        String(INPUT_BYTES),
        String(INPUT_SEED),
        '8192',
      ]);
    });

    after(async () => {
      await lab?.destroy();
      dir.cleanup();
    });

    const expected = expectedCounts(generateText(INPUT_BYTES, INPUT_SEED));

    test('cut both ways, never healed while the job runs: the job succeeds on the other worker', async (t) => {
      const submitted = await submit('/out/both');
      await running(submitted.id, 'w0');
      await lab.partition(['w0'], ['master']);
      await waitFor('the master to lose w0', async () => (await workerStatus('w0')) === 'lost');
      const done = await finished(submitted.id);
      assert.equal(done.state, 'succeeded', done.error ?? '');
      t.diagnostic(`stats while w0 was cut off: ${JSON.stringify(done.stats)}`);
      assert.deepEqual(new Map([...parseCounts(await readOutput('/out/both'))].sort()), expected);
      // Heal: w0 comes back; its late reports change nothing of the finished job.
      await lab.heal();
      await waitFor('w0 active again', async () => (await workerStatus('w0')) === 'active', {
        timeoutMs: 30_000,
      });
      assert.equal((await job(submitted.id)).state, 'succeeded');
      assert.deepEqual(new Map([...parseCounts(await readOutput('/out/both'))].sort()), expected);
    });

    test('cut one way (the worker cannot reach the master), healed while the job runs: correct output', async (t) => {
      const submitted = await submit('/out/one-way');
      await running(submitted.id, 'w1');
      await lab.partitionOneWay('w1', 'master');
      await waitFor('the master to lose w1', async () => (await workerStatus('w1')) === 'lost');
      const stateAtHeal = (await job(submitted.id)).state;
      await lab.heal();
      t.diagnostic(`job state when the cut healed: ${stateAtHeal}`);
      const done = await finished(submitted.id);
      assert.equal(done.state, 'succeeded', done.error ?? '');
      t.diagnostic(`stats: ${JSON.stringify(done.stats)}`);
      assert.deepEqual(
        new Map([...parseCounts(await readOutput('/out/one-way'))].sort()),
        expected,
      );
      await waitFor('w1 active again', async () => (await workerStatus('w1')) === 'active', {
        timeoutMs: 30_000,
      });
    });
  },
);
