// Rule (issue 5, "recovered DLQ task re-reads the byte range planned at submit"): recovering a
// dead-lettered map task re-plans its split from the input file as it is now. If only the
// task's own split changed (the fix of a bad record in the last chunk may change the file's
// length), the task reads the fixed bytes whole and the output is exact; if the fix moved the
// bytes of splits that other map tasks already read, the recovery is refused with a 409
// problem telling the user to resubmit, and the task stays in the dead-letter queue.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateText, MapReduceCluster, parseCounts } from '../../helpers/mapreduce-cluster.js';
import { waitFor } from '../../helpers/processes.js';

const CHUNK_BYTES = 8192;

const POISONED_MAPPER = [
  'export function map(path, line, emit) {',
  "  if (line.includes('POISON')) throw new Error('poisoned record');",
  '  for (const w of line.toLowerCase().split(/[^a-z]+/)) if (w) emit(w, 1);',
  '}',
  'export function reduce(key, values, emit) { emit(key, values.reduce((a, b) => a + Number(b), 0)); }',
].join('\n');

/** Word count computed without the engine: lower-cased runs of ASCII letters, sorted. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().split(/[^a-z]+/)) {
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return new Map([...counts].sort());
}

/** `text` with the line `POISON pill here` inserted after the first line break at or after `at`. */
function poisonAt(text: string, at: number): string {
  const cut = text.indexOf('\n', at) + 1;
  assert.ok(cut > 0, 'the text has a line break after the poison offset');
  return `${text.slice(0, cut)}POISON pill here\n${text.slice(cut)}`;
}

describe(
  'recovering a dead-lettered map task after its input was fixed',
  { timeout: 120_000 },
  () => {
    const cluster = new MapReduceCluster({ workers: 2 });

    before(async () => cluster.start());
    after(async () => cluster.stop());

    /** Uploads `text`, runs the poisoned job and answers its dead-lettered task id. */
    async function failedJob(
      text: string,
      name: string,
    ): Promise<{ jobId: string; taskId: string }> {
      await cluster.dfs.client.putBuffer(text, `/in/${name}.txt`, {
        chunkSize: CHUNK_BYTES,
        replication: 2,
      });
      const job = await cluster.submit({
        input: [`/in/${name}.txt`],
        output: `/out/${name}`,
        mapper: { kind: 'js', source: POISONED_MAPPER },
        reducer: { kind: 'js', source: POISONED_MAPPER },
      });
      const failed = await cluster.waitForJob(job.id);
      assert.equal(failed.state, 'failed');
      const dlq = await cluster.http.getJson<{ entries: { task_id: string }[] }>(
        `${cluster.masterUrl}/fault-tolerance/dead-letter-queue?job_id=${job.id}`,
      );
      assert.equal(dlq.entries.length, 1);
      return { jobId: job.id, taskId: dlq.entries[0]!.task_id };
    }

    async function fix(name: string, text: string): Promise<void> {
      await cluster.dfs.client.putBuffer(text, `/in/${name}.txt`, {
        chunkSize: CHUNK_BYTES,
        replication: 2,
        overwrite: true,
      });
    }

    async function recover(
      taskId: string,
    ): Promise<{ status: number; body: unknown; type: string }> {
      const response = await cluster.http.request(
        `${cluster.masterUrl}/fault-tolerance/dead-letter-queue/${taskId}/recover`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      );
      const body: unknown = await response.body.json();
      return { status: response.status, body, type: String(response.headers['content-type']) };
    }

    test('a fix that lengthens the last chunk: the recovered task reads the file as it is now', async () => {
      const base = generateText(4 * CHUNK_BYTES + 3000, 21);
      const poisoned = poisonAt(base, Buffer.byteLength(base) - 2000);
      assert.equal(
        Math.floor(poisoned.indexOf('POISON') / CHUNK_BYTES),
        Math.floor((Buffer.byteLength(poisoned) - 1) / CHUNK_BYTES),
        'the poison is in the last chunk',
      );
      const { jobId, taskId } = await failedJob(poisoned, 'grows');
      assert.equal(taskId, `${jobId}-m-000004`);
      const fixed = poisoned.replace('POISON pill here', 'ANTIDOTE and a longer pill here');
      await fix('grows', fixed);
      const recovered = await recover(taskId);
      assert.equal(recovered.status, 200, JSON.stringify(recovered.body));
      const done = await cluster.waitForJob(jobId);
      assert.equal(done.state, 'succeeded', done.error ?? '');
      assert.deepEqual(
        new Map([...parseCounts(await cluster.readOutput('/out/grows'))].sort()),
        expectedCounts(fixed),
      );
      assert.equal(done.counters['map_input_bytes'], Buffer.byteLength(fixed));
    });

    test('a fix that shifts the bytes of other splits: 409 problem, resubmit; the task stays dead-lettered', async () => {
      const base = generateText(5 * CHUNK_BYTES, 22);
      const poisoned = poisonAt(base, CHUNK_BYTES + 1000);
      const { jobId, taskId } = await failedJob(poisoned, 'shrinks');
      assert.equal(taskId, `${jobId}-m-000001`);
      const fixed = poisoned.replace('POISON pill here\n', '');
      await fix('shrinks', fixed);
      const refused = await recover(taskId);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match(refused.type, /^application\/problem\+json/);
      const problem = refused.body as { detail: string; path?: string };
      assert.match(problem.detail, /\/in\/shrinks\.txt changed since the job was submitted/);
      assert.match(problem.detail, /resubmit/);
      assert.equal(problem.path, '/in/shrinks.txt');
      assert.equal((await cluster.job(jobId)).state, 'failed');
      const dlq = await cluster.http.getJson<{ entries: { task_id: string }[] }>(
        `${cluster.masterUrl}/fault-tolerance/dead-letter-queue?job_id=${jobId}`,
      );
      assert.deepEqual(
        dlq.entries.map((entry) => entry.task_id),
        [taskId],
      );
      const again = await cluster.submit({
        input: ['/in/shrinks.txt'],
        output: '/out/shrinks-again',
        mapper: { kind: 'js', source: POISONED_MAPPER },
        reducer: { kind: 'js', source: POISONED_MAPPER },
      });
      const done = await cluster.waitForJob(again.id);
      assert.equal(done.state, 'succeeded', done.error ?? '');
      assert.deepEqual(
        new Map([...parseCounts(await cluster.readOutput('/out/shrinks-again'))].sort()),
        expectedCounts(fixed),
      );
    });

    test('a retry after the input was overwritten fails as bad input, never mixing two versions', async () => {
      // The first attempt reads the file, then waits for `go` and fails; the test overwrites the
      // input meanwhile. A retry must not read the new file into the old job.
      const go = join(cluster.dfs.dir.path, 'overwritten-go');
      const mapper = [
        '/bin/sh',
        '-c',
        `if [ ! -e '${go}.seen' ]; then touch '${go}.seen'; cat > /dev/null; ` +
          `n=0; while [ ! -e '${go}' ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n+1)); done; exit 3; fi; ` +
          "tr -cs 'A-Za-z' '\\n' | grep -v '^$' | sed 's/$/\\t1/'",
      ];
      const sum = ['awk', '-F', '\t', '{ s[$1] += $2 } END { for (k in s) print k "\\t" s[k] }'];
      await cluster.dfs.client.putBuffer(generateText(CHUNK_BYTES / 2, 24), '/in/overwritten.txt');
      const job = await cluster.submit({
        input: ['/in/overwritten.txt'],
        output: '/out/overwritten',
        mapper: { kind: 'command', command: mapper },
        reducer: { kind: 'command', command: sum },
      });
      await waitFor('the first attempt to start', () => existsSync(`${go}.seen`), {
        timeoutMs: 30_000,
      });
      await cluster.dfs.client.putBuffer(generateText(CHUNK_BYTES / 2, 25), '/in/overwritten.txt', {
        overwrite: true,
      });
      writeFileSync(go, '');
      const done = await cluster.waitForJob(job.id);
      assert.equal(done.state, 'failed', 'a job over two versions of its input must not succeed');
      assert.match(done.error ?? '', /\/in\/overwritten\.txt changed/);
      assert.match(done.error ?? '', /resubmit the job/);
      const dlq = await cluster.http.getJson<{ entries: { task_id: string; reason: string }[] }>(
        `${cluster.masterUrl}/fault-tolerance/dead-letter-queue?job_id=${job.id}`,
      );
      assert.deepEqual(
        dlq.entries.map((entry) => entry.reason),
        ['bad-input'],
      );
    });

    test('an input file deleted since the submission: 409 problem', async () => {
      const poisoned = poisonAt(generateText(2 * CHUNK_BYTES, 23), 100);
      const { taskId } = await failedJob(poisoned, 'deleted');
      await cluster.dfs.client.delete('/in/deleted.txt');
      const refused = await recover(taskId);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match((refused.body as { detail: string }).detail, /no longer exists/);
    });
  },
);
