// Rule (DESIGN.md rule 1, "persist, then send"; poneglyph-reduce.md, fault tolerance): the master
// hands out a task only once the step that assigned it is durable, acknowledges a result only once
// it is durable, fails an attempt a worker does not run (after the reply that carried it was
// seen), counts a lost worker against its breaker, and a master reopened on its state store
// resumes the same schedule. The driver runs here in-process on a manual clock, with an
// in-memory stand-in for the DFS metadata (no I/O but SQLite).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.js';
import { HttpStatusError } from '../../../src/core/errors-http-client.js';
import { silentLogger } from '../../../src/core/logger.js';
import { SeededRandom } from '../../../src/core/random.js';
import type { DfsClient } from '../../../src/dfs/index.js';
import type { HeartbeatReply, ResultReport } from '../../../src/mapreduce/grpc/messages.js';
import { MapReduceMaster, type MasterSettings } from '../../../src/mapreduce/master/master.js';
import { resolveSchedulerConfig } from '../../../src/mapreduce/master/scheduler.js';
import { MasterStore } from '../../../src/mapreduce/master/store.js';
import { asWorkerId } from '../../../src/mapreduce/master/strategies/index.js';
import { WorkerRpc } from '../../../src/mapreduce/master/worker-rpc.js';

/** The part of the DFS client the master uses, over an in-memory namespace. */
class MemoryDfs {
  readonly sizes = new Map<string, number>();
  private notFound(path: string): HttpStatusError {
    return new HttpStatusError(
      { peer: 'mem', method: 'GET', url: path, attempts: 1 },
      404,
      undefined,
    );
  }
  async stat(path: string) {
    const size = this.sizes.get(path);
    if (size === undefined) throw this.notFound(path);
    const chunks = [];
    for (let offset = 0; offset < size; offset += 100) {
      chunks.push({
        size: Math.min(100, size - offset),
        replicas: [{ url: 'http://127.0.0.1:1', state: 'active' }],
      });
    }
    return { path, size, chunks };
  }
  async list(query: { prefix?: string; limit?: number }) {
    const files = [...this.sizes.keys()].filter((p) => p.startsWith(query.prefix ?? '/')).sort();
    return {
      files: files.slice(0, query.limit ?? 1000).map((path) => ({ path })),
      directories: [],
      next_after: null,
    };
  }
  async rename(from: string, to: string) {
    const size = this.sizes.get(from);
    if (size === undefined) throw this.notFound(from);
    this.sizes.delete(from);
    this.sizes.set(to, size);
  }
  async putBuffer(data: string, path: string) {
    this.sizes.set(path, data.length);
  }
  async delete(path: string) {
    if (!this.sizes.delete(path)) throw this.notFound(path);
  }
}

const settings: MasterSettings = {
  scheduler: resolveSchedulerConfig({
    taskTimeoutMs: 60_000,
    maxRetries: 2,
    backoff: { baseMs: 0, jitter: 0 },
    speculation: { enabled: false },
  }),
  strategy: 'round_robin',
  strategyConfig: {},
  breaker: { failureThreshold: 2, openMs: 5_000, successThreshold: 1 },
  workerTimeoutMs: 3_000,
  heartbeatIntervalMs: 100,
  dlqCapacity: 10,
};

const observer = {
  taskFinished() {},
  retryScheduled() {},
  deadLettered() {},
  breakerTransition() {},
};

describe('the master driver', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-mr-driver-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(1_000_000);
  const dfs = new MemoryDfs();
  dfs.sizes.set('/in/a.txt', 250); // three chunks, three map tasks

  const open = (name: string) => {
    const store = new MasterStore(join(dir, name));
    // The stand-in covers the calls the master makes (stat, list, rename, putBuffer, delete).
    const master = new MapReduceMaster(
      store,
      dfs as unknown as DfsClient,
      settings,
      clock,
      new SeededRandom(1),
      silentLogger(),
      observer,
    );
    master.restore();
    return { store, master, rpc: new WorkerRpc(master) };
  };
  const worker = (id: string) => ({
    worker_id: id,
    host: '127.0.0.1',
    url: `http://${id}`,
    slots: 4,
    health: 1,
  });
  const beat = (
    rpc: WorkerRpc,
    id: string,
    seq: number,
    attempts: string[] = [],
    waitMs = 300,
  ): Promise<HeartbeatReply> =>
    rpc.heartbeat(
      {
        worker: worker(id),
        seq,
        attempts: attempts.map((attempt_id) => ({ attempt_id, progress: 0.5 })),
        job_ids: [],
        wait_ms: waitMs,
      },
      () => false,
    );
  const success = (id: string, attempt: string, location: string): ResultReport => ({
    worker_id: id,
    attempt_id: attempt,
    succeeded: true,
    location,
    counters: [{ name: 'records', value: 1 }],
    reason: '',
    error: '',
    record: '',
    has_record: false,
    lost_map_task_id: '',
  });

  test('hands out durable assignments, acknowledges results, and commits the output', async () => {
    const { master, rpc, store } = open('a.db');
    rpc.register({ worker: worker('w1') });
    const job = await master.submit({ builtin: 'wordcount', input: '/in/a.txt', output: '/out/a' });
    assert.equal(job.progress.map.total, 3);
    const first = await beat(rpc, 'w1', 1);
    assert.deepEqual(
      first.assignments.map((a) => a.phase),
      ['map', 'map', 'map'],
    );
    assert.deepEqual(first.assignments[1]?.split, {
      path: '/in/a.txt',
      start: 100,
      end: 200,
      file_size: 250,
    });
    for (const a of first.assignments) {
      assert.deepEqual(
        await rpc.reportResult(success('w1', a.attempt_id, `http://w1/shuffle/${a.task_id}`)),
        { accepted: true },
      );
    }
    const second = await beat(rpc, 'w1', 2);
    const reduce = second.assignments[0]!;
    assert.equal(reduce.phase, 'reduce');
    assert.equal(reduce.map_outputs.length, 3);
    assert.match(reduce.output_path, /^\/out\/a\/_temporary\/.+\/part-r-00000$/);
    dfs.sizes.set(reduce.output_path, 10);
    await rpc.reportResult(success('w1', reduce.attempt_id, reduce.output_path));
    for (let i = 0; i < 100 && master.get(job.id).state !== 'succeeded'; i++)
      await new Promise((r) => setTimeout(r, 10));
    const done = master.get(job.id);
    assert.equal(done.state, 'succeeded');
    assert.equal(done.counters['records'], 4);
    assert.ok(dfs.sizes.has('/out/a/part-r-00000') && dfs.sizes.has('/out/a/_SUCCESS'));
    assert.ok(![...dfs.sizes.keys()].some((p) => p.includes('_temporary')));
    const purge = await rpc.heartbeat(
      { worker: worker('w1'), seq: 3, attempts: [], job_ids: [job.id, 'job-unknown'], wait_ms: 0 },
      () => false,
    );
    assert.deepEqual(purge.purge_job_ids, [job.id, 'job-unknown']);
    master.stop();
    store.close();
  });

  test('an attempt the worker does not run after it got the reply fails as a crash and runs again', async () => {
    const { master, rpc, store } = open('b.db');
    rpc.register({ worker: worker('w1') });
    dfs.sizes.set('/in/b.txt', 50);
    const job = await master.submit({ builtin: 'wordcount', input: '/in/b.txt', output: '/out/b' });
    const given = await beat(rpc, 'w1', 10);
    const attempt = given.assignments[0]!.attempt_id;
    const same = await beat(rpc, 'w1', 10, [], 0); // a heartbeat sent before the reply was seen
    assert.deepEqual(same.assignments, []);
    assert.equal(master.tasks(job.id)[0]?.failures, 0);
    const next = await beat(rpc, 'w1', 11, [], 300);
    assert.equal(master.tasks(job.id)[0]?.failures, 1);
    assert.match(master.tasks(job.id)[0]?.last_failure?.error ?? '', /does not run it/);
    assert.equal(next.assignments[0]?.task_id, given.assignments[0]?.task_id);
    assert.notEqual(next.assignments[0]?.attempt_id, attempt);
    const unknown = await beat(
      rpc,
      'w1',
      12,
      ['job-x-m-000000.1', next.assignments[0]!.attempt_id],
      0,
    );
    assert.deepEqual(unknown.cancel_attempt_ids, ['job-x-m-000000.1']);
    master.stop();
    store.close();
  });

  test('a master reopened on its store resumes the schedule; silent workers are lost and their breaker opens', async () => {
    const first = open('c.db');
    first.rpc.register({ worker: worker('w1') });
    first.rpc.register({ worker: worker('w2') });
    dfs.sizes.set('/in/c.txt', 150);
    const job = await first.master.submit({
      builtin: 'wordcount',
      input: '/in/c.txt',
      output: '/out/c',
    });
    const [a, b] = await Promise.all([beat(first.rpc, 'w1', 1), beat(first.rpc, 'w2', 1)]);
    const onW1 = a.assignments.map((x) => x.attempt_id);
    const onW2 = b.assignments.map((x) => x.attempt_id);
    assert.deepEqual([onW1.length, onW2.length], [1, 1]); // round robin
    first.master.stop();
    first.store.close(); // the "SIGKILL": only what was committed survives

    const second = open('c.db');
    assert.equal(second.master.get(job.id).state, 'running');
    // w1 reports its attempts to the new master; w2 stays silent.
    const reply = await beat(second.rpc, 'w1', 2, onW1, 0);
    assert.deepEqual(reply.cancel_attempt_ids, []);
    for (const attempt of onW1) {
      assert.deepEqual(
        await second.rpc.reportResult(success('w1', attempt, `http://w1/${attempt}`)),
        { accepted: true },
      );
    }
    clock.advance(settings.workerTimeoutMs + 1);
    await beat(second.rpc, 'w1', 3, [], 0);
    second.master.tick();
    const lost = second.master.workers.views({}).find((w) => w.worker_id === 'w2');
    assert.equal(lost?.status, 'lost');
    assert.equal(second.master.workers.breakerState(asWorkerId('w2')), 'OPEN'); // a loss + a failed attempt
    assert.equal(second.master.workers.breakerState(asWorkerId('w1')), 'CLOSED');
    const failed = second.master.tasks(job.id).filter((t) => t.failures > 0);
    assert.deepEqual(
      failed.map((t) => t.last_failure?.reason),
      ['crash'],
    );
    second.master.stop();
    second.store.close();
  });
});
