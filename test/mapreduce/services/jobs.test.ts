// Rule (poneglyph-reduce.md; issue 5, "Engine" and "Tests"): a job reads DFS splits that follow
// chunks (a line crossing a chunk border is read exactly once), partitions, sorts, shuffles and
// reduces; its output is committed atomically. So word count of a multi-chunk file equals a
// count computed independently, streaming mappers work like Hadoop Streaming, and bad job
// specs are refused with a 4xx problem.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createJobServiceClient } from '../../../src/mapreduce/index.js';
import { generateText, MapReduceCluster, parseCounts } from '../../helpers/mapreduce-cluster.js';
import { TESSERA_BIN, waitFor } from '../../helpers/processes.js';

/** Runs `tessera ARGS` from the sources; answers its exit code and output. */
async function tessera(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [TESSERA_BIN, ...args], {
      env: { ...process.env, TESSERA_FROM_SOURCE: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const sorted = (counts: Map<string, number>): Map<string, number> => new Map([...counts].sort());

/** Word count computed without the engine: lower-cased runs of ASCII letters. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().split(/[^a-z]+/)) {
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

describe('mapreduce jobs on a real cluster', { timeout: 120_000 }, () => {
  const cluster = new MapReduceCluster({ workers: 2 });
  const text = generateText(200_000, 7);

  before(async () => {
    await cluster.start();
    await cluster.dfs.client.putBuffer(text, '/in/words.txt', {
      chunkSize: 16 * 1024,
      replication: 2,
    });
  });
  after(async () => cluster.stop());

  test('word count of a multi-chunk file equals an independent count', async () => {
    const created = await cluster.submit({
      builtin: 'wordcount',
      input: ['/in/words.txt'],
      output: '/out/wc',
      reducers: 3,
    });
    assert.ok(created.id.startsWith('job-'));
    assert.equal(created.progress.map.total, Math.ceil(Buffer.byteLength(text) / (16 * 1024)));
    const done = await cluster.waitForJob(created.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    const output = await cluster.readOutput('/out/wc');
    assert.deepEqual(
      new Map([...parseCounts(output)].sort()),
      new Map([...expectedCounts(text)].sort()),
    );
    assert.deepEqual(done.output_files, [
      '/out/wc/part-r-00000',
      '/out/wc/part-r-00001',
      '/out/wc/part-r-00002',
      '/out/wc/_SUCCESS',
    ]);
    const { files } = await cluster.dfs.client.list({ prefix: '/out/wc/' });
    assert.deepEqual(files.map((f) => f.path).sort(), [...done.output_files].sort());
    assert.equal(done.counters['map_input_bytes'], Buffer.byteLength(text));
    assert.equal(done.counters['map_input_records'], text.split('\n').length - 1);
  });

  test('bad job specs answer 400 with a problem, an existing output 409', async () => {
    const bad: unknown[] = [
      {},
      { builtin: 'wordcount', output: '/out/x' },
      { builtin: 'wordcount', input: ['relative'], output: '/out/x' },
      { builtin: 'nope', input: ['/in/words.txt'], output: '/out/x' },
      { input: ['/in/words.txt'], output: '/out/x' },
      { builtin: 'grep', input: ['/in/words.txt'], output: '/out/x' },
      { builtin: 'grep', input: ['/in/words.txt'], output: '/out/x', args: { pattern: '(' } },
      { builtin: 'wordcount', input: ['/in/words.txt'], output: '/out/x', reducers: 0 },
      { builtin: 'wordcount', input: ['/in/nothing-*.txt'], output: '/out/x' },
      { mapper: { kind: 'js' }, input: ['/in/words.txt'], output: '/out/x' },
      { mapper: { kind: 'command', command: [] }, input: ['/in/words.txt'], output: '/out/x' },
      { builtin: 'wordcount', input: ['/in/words.txt'], output: '/out/x', strategy: 'fastest' },
      { builtin: 'wordcount', input: ['/in/words.txt'], output: '/in', reducers: 1 },
      { builtin: 'wordcount', input: ['/in/words.txt'], output: '/out/x', extra: true },
    ];
    for (const spec of bad) {
      const response = await cluster.http.request(`${cluster.masterUrl}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      const body = (await response.body.json()) as { status: number; detail: string };
      assert.equal(
        response.status,
        400,
        `${JSON.stringify(spec)} -> ${response.status} ${body.detail}`,
      );
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    }
    const exists = await cluster.http.request(`${cluster.masterUrl}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ builtin: 'wordcount', input: ['/in/words.txt'], output: '/out/wc' }),
    });
    await exists.body.dump();
    assert.equal(exists.status, 409);
  });

  test('a streaming mapper in shell and a streaming reducer in awk count words like the builtin', async () => {
    const job = await cluster.submit({
      name: 'shell-wordcount',
      input: ['/in/words.txt'],
      output: '/out/shell',
      reducers: 2,
      mapper: {
        kind: 'command',
        command: [
          '/bin/sh',
          '-c',
          "tr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | grep -v '^$' | sed 's/$/\\t1/'",
        ],
      },
      reducer: {
        kind: 'command',
        command: ['awk', '-F', '\t', '{ s[$1] += $2 } END { for (k in s) print k "\t" s[k] }'],
      },
    });
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    assert.deepEqual(
      sorted(parseCounts(await cluster.readOutput('/out/shell'))),
      sorted(expectedCounts(text)),
    );
  });

  test('a streaming mapper in python3 with a JavaScript reducer module', async () => {
    const mapper =
      'import sys\nfor line in sys.stdin:\n    for word in line.split():\n        print(f"{len(word)}\\t1")\n';
    const job = await cluster.submit({
      input: ['/in/*.txt'],
      output: '/out/python',
      mapper: { kind: 'command', command: ['python3', '-c', mapper] },
      reducer: {
        kind: 'js',
        source: 'export function reduce(key, values, emit) { emit(key, values.length); }',
      },
    });
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    const expected = new Map<string, number>();
    for (const word of text.split(/\s+/))
      if (word !== '')
        expected.set(String([...word].length), (expected.get(String([...word].length)) ?? 0) + 1);
    assert.deepEqual(
      sorted(parseCounts(await cluster.readOutput('/out/python'))),
      sorted(expected),
    );
  });

  test('grep keeps matching lines in file order; sort with 3 reducers gives one sorted sequence', async () => {
    const grep = await cluster.submit({
      builtin: 'grep',
      args: { pattern: 'Tessera naïve' },
      input: ['/in/words.txt'],
      output: '/out/grep',
    });
    const sort = await cluster.submit({
      builtin: 'sort',
      input: ['/in/words.txt'],
      output: '/out/sort',
      reducers: 3,
    });
    assert.equal((await cluster.waitForJob(grep.id)).state, 'succeeded');
    assert.equal((await cluster.waitForJob(sort.id)).state, 'succeeded');
    const lines = text.split('\n').slice(0, -1);
    const grepped = (await cluster.readOutput('/out/grep')).split('\n').slice(0, -1);
    assert.deepEqual(
      grepped,
      lines.filter((l) => l.includes('Tessera naïve')).map((l) => `/in/words.txt\t${l}`),
    );
    const sortedLines = (await cluster.readOutput('/out/sort')).split('\n').slice(0, -1);
    assert.deepEqual(
      sortedLines,
      [...lines].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
  });

  test('the inverted index lists every term with its postings', async () => {
    const docs = [
      '{"doc_id":"d1","content":"Shuffle the data"}',
      'd2\tdata nodes shuffle data',
      'plain line about nodes',
    ];
    await cluster.dfs.client.putBuffer(`${docs.join('\n')}\n`, '/docs/corpus.jsonl', {
      replication: 2,
    });
    const job = await cluster.submit({
      builtin: 'invertedindex',
      input: ['/docs'],
      output: '/out/index',
    });
    assert.equal((await cluster.waitForJob(job.id)).state, 'succeeded');
    const index = new Map(
      (await cluster.readOutput('/out/index'))
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [term, json] = line.split('\t') as [string, string];
          return [
            term,
            JSON.parse(json) as { df: number; postings: { doc_id: string; tf: number }[] },
          ];
        }),
    );
    assert.deepEqual(index.get('data'), {
      df: 2,
      postings: [
        { doc_id: 'd1', tf: 1 },
        { doc_id: 'd2', tf: 2 },
      ],
    });
    assert.deepEqual(
      index.get('node')?.postings.map((p) => p.doc_id),
      ['/docs/corpus.jsonl', 'd2'],
    );
  });

  test('the gRPC JobService submits, gets and lists jobs', async () => {
    const client = await createJobServiceClient(cluster.grpcAddress);
    try {
      const submitted = await client.submit({
        builtin: 'wordcount',
        input: ['/in/words.txt'],
        output: '/out/grpc',
      });
      assert.ok(submitted.id.startsWith('job-'));
      await cluster.waitForJob(submitted.id);
      const got = await client.get(submitted.id);
      assert.equal(got.state, 'succeeded');
      assert.equal(got.map.done, got.map.total);
      const { jobs } = await client.list({});
      assert.ok(jobs.some((j) => j.id === submitted.id));
      await assert.rejects(
        client.submit({ input: [], output: '/out/bad' }),
        /INVALID_ARGUMENT|invalid job spec/,
      );
      await assert.rejects(client.get('job-missing'), /NOT_FOUND|no job/);
    } finally {
      client.close();
    }
  });

  test('a map function that throws on one record is dead-lettered with the record; recovering after the fix completes the job', async () => {
    const poisoned = generateText(40_000, 11).replace(/\n/, '\nPOISON pill here\n');
    await cluster.dfs.client.putBuffer(poisoned, '/in2/poison.txt', {
      chunkSize: 8192,
      replication: 2,
    });
    const source = [
      'export function map(path, line, emit) {',
      "  if (line.includes('POISON')) throw new Error('poisoned record');",
      '  for (const w of line.toLowerCase().split(/[^a-z]+/)) if (w) emit(w, 1);',
      '}',
      'export function reduce(key, values, emit) { emit(key, values.reduce((a, b) => a + Number(b), 0)); }',
    ].join('\n');
    const job = await cluster.submit({
      input: ['/in2/poison.txt'],
      output: '/out/poison',
      mapper: { kind: 'js', source },
      reducer: { kind: 'js', source },
    });
    const failed = await cluster.waitForJob(job.id);
    assert.equal(failed.state, 'failed');
    assert.match(failed.error ?? '', /poisoned record/);
    const dlq = await cluster.http.getJson<{
      entries: {
        task_id: string;
        job_id: string;
        reason: string;
        record?: string;
        attempts: number;
      }[];
    }>(`${cluster.masterUrl}/fault-tolerance/dead-letter-queue?job_id=${job.id}`);
    assert.equal(dlq.entries.length, 1);
    const entry = dlq.entries[0]!;
    assert.equal(entry.reason, 'user-code');
    assert.equal(entry.record, 'POISON pill here');
    assert.equal(entry.attempts, 4); // the first attempt and 3 retries
    const fixed = poisoned.replace('POISON pill here', 'ANTIDO pill here');
    await cluster.dfs.client.putBuffer(fixed, '/in2/poison.txt', {
      chunkSize: 8192,
      replication: 2,
      overwrite: true,
    });
    await cluster.http.postJson(
      `${cluster.masterUrl}/fault-tolerance/dead-letter-queue/${entry.task_id}/recover`,
      {},
    );
    const done = await cluster.waitForJob(job.id);
    assert.equal(done.state, 'succeeded', done.error ?? '');
    assert.deepEqual(
      sorted(parseCounts(await cluster.readOutput('/out/poison'))),
      sorted(expectedCounts(fixed)),
    );
    const after = await cluster.http.getJson<{ total: number }>(
      `${cluster.masterUrl}/fault-tolerance/dead-letter-queue?job_id=${job.id}`,
    );
    assert.equal(after.total, 0);
  });

  test('metrics and the fault-tolerance API report the KPIs', async () => {
    const metrics = await (await cluster.http.request(`${cluster.masterUrl}/metrics`)).body.text();
    for (const name of [
      'tessera_mapreduce_success_rate',
      'tessera_mapreduce_tasks_per_minute',
      'tessera_mapreduce_tasks_total',
      'tessera_mapreduce_task_retries_total',
      'tessera_mapreduce_dead_letters_total',
      'tessera_mapreduce_worker_breaker_state',
      'tessera_mapreduce_worker_health',
      'tessera_mapreduce_jobs',
    ]) {
      assert.match(metrics, new RegExp(`^${name}`, 'm'), name);
    }
    const stats = await cluster.http.getJson<{
      tasks: { retries: number; dead_lettered: number; success_rate: number };
      retry_policy: { max_retries: number; unreachable_grace_ms: number };
    }>(`${cluster.masterUrl}/fault-tolerance/stats`);
    assert.ok(stats.tasks.retries >= 3 && stats.tasks.dead_lettered >= 1);
    assert.equal(stats.retry_policy.max_retries, 3);
    assert.equal(stats.retry_policy.unreachable_grace_ms, 60_000);
    assert.ok(stats.tasks.success_rate > 0 && stats.tasks.success_rate < 1);
    const breakers = await cluster.http.getJson<{
      breakers: { worker_id: string; state: string }[];
    }>(`${cluster.masterUrl}/fault-tolerance/circuit-breakers`);
    assert.deepEqual(
      breakers.breakers.map((b) => b.state),
      ['CLOSED', 'CLOSED'],
    );
    const dashboard = await cluster.http.getJson<Record<string, unknown>>(
      `${cluster.masterUrl}/fault-tolerance/dashboard`,
    );
    assert.ok(Array.isArray(dashboard['workers']) && Array.isArray(dashboard['jobs']));
  });

  test('a running job is cancelled: its attempts stop, a second cancel is a conflict', async () => {
    const job = await cluster.submit({
      input: ['/in/words.txt'],
      output: '/out/cancel',
      mapper: { kind: 'command', command: ['sleep', '30'] },
    });
    await waitFor('a map running', async () => (await cluster.job(job.id)).state === 'running');
    const cancelled = await cluster.http.deleteJson<{ id: string; state: string }>(
      `${cluster.masterUrl}/jobs/${job.id}`,
    );
    assert.deepEqual([cancelled.id, cancelled.state], [job.id, 'cancelled']);
    const again = await cluster.http.request(`${cluster.masterUrl}/jobs/${job.id}`, {
      method: 'DELETE',
    });
    await again.body.dump();
    assert.equal(again.status, 409);
    const { tasks } = await cluster.http.getJson<{ tasks: { state: string }[] }>(
      `${cluster.masterUrl}/jobs/${job.id}/tasks`,
    );
    assert.ok(tasks.every((t) => t.state !== 'running'));
    await waitFor('the workers to be idle', async () => {
      const { workers } = await cluster.http.getJson<{ workers: { running_tasks: number }[] }>(
        `${cluster.masterUrl}/workers`,
      );
      return workers.every((w) => w.running_tasks === 0);
    });
  });

  test('tessera job submit --wait --json, status, list and dlq list work against the cluster', async () => {
    const master = ['--master', cluster.masterUrl];
    const submitted = await tessera([
      'job',
      'submit',
      '--builtin',
      'grep',
      '--pattern',
      'x-ray',
      '--input',
      '/in/words.txt',
      '--output',
      '/out/cli',
      '--wait',
      '--json',
      ...master,
    ]);
    assert.equal(submitted.code, 0, submitted.stderr);
    const view = JSON.parse(submitted.stdout) as { id: string; state: string };
    assert.equal(view.state, 'succeeded');
    const status = await tessera(['job', 'status', view.id, ...master]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, new RegExp(`${view.id} succeeded`));
    const list = await tessera(['job', 'list', '--json', ...master]);
    assert.ok((JSON.parse(list.stdout) as { id: string }[]).some((j) => j.id === view.id));
    const dlq = await tessera(['job', 'dlq', 'list', '--json', ...master]);
    assert.equal(dlq.code, 0);
    const missing = await tessera(['job', 'status', 'job-nothere', ...master]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no job job-nothere/);
    const bad = await tessera([
      'job',
      'submit',
      '--input',
      '/in/words.txt',
      '--output',
      '/out/none',
      ...master,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--builtin NAME, or --mapper M/);
  });
});
