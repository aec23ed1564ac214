/**
 * A real local MapReduce cluster for the benchmark: the DFS of `BenchDfsCluster` (registry,
 * metadata master, 3 datanodes) plus `tessera mapreduce master` and N `tessera mapreduce worker`
 * as child processes on 127.0.0.1, with the services' default settings (slots = CPUs, 64 MiB
 * sort buffer, 30 s worker timeout, speculation on) except for ports, ids and data dirs.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { ChildService } from './child-service.js';
import { BenchDfsCluster, freePort, startTesseraService } from './dfs-cluster-process.js';

/** Registry, DFS, MapReduce master and workers of one benchmark run. */
export class BenchMapReduceCluster {
  readonly dfs: BenchDfsCluster;
  master!: ChildService;
  readonly workers: (ChildService | undefined)[] = [];
  private grpcPort = 0;

  constructor(
    private readonly dir: string,
    private readonly workerCount: number,
    /** Node flags of the workers (e.g. `--cpu-prof`). */
    private readonly workerNodeFlags: readonly string[] = [],
  ) {
    this.dfs = new BenchDfsCluster(join(dir, 'dfs'), 3);
  }

  async start(): Promise<void> {
    await this.dfs.start();
    this.grpcPort = await freePort();
    this.master = await startTesseraService([
      'mapreduce',
      'master',
      '--port',
      '0',
      '--grpc-port',
      String(this.grpcPort),
      '--data-dir',
      join(this.dir, 'master'),
      '--registry',
      this.dfs.registry.url,
      '--meta',
      this.dfs.meta.url,
    ]);
    for (let index = 0; index < this.workerCount; index += 1) await this.startWorker(index);
    await this.waitForWorkers(this.workerCount);
  }

  /** Starts (or starts again, with the same id and data dir) worker `index`. */
  async startWorker(index: number): Promise<ChildService> {
    const worker = await startTesseraService(
      [
        'mapreduce',
        'worker',
        '--port',
        '0',
        '--data-dir',
        join(this.dir, `worker-${index}`),
        '--registry',
        this.dfs.registry.url,
        '--meta',
        this.dfs.meta.url,
        '--master',
        `127.0.0.1:${this.grpcPort}`,
        '--server-id',
        `worker-${index}`,
      ],
      this.workerNodeFlags,
    );
    this.workers[index] = worker;
    return worker;
  }

  /** SIGKILLs worker `index` and waits until it is gone. */
  async killWorker(index: number): Promise<void> {
    const worker = this.workers[index];
    if (!worker) throw new Error(`no worker ${index}`);
    process.kill(worker.pid, 'SIGKILL');
    await worker.stop(1_000);
    this.workers[index] = undefined;
  }

  /** Waits until the master counts `count` active workers. */
  async waitForWorkers(count: number, timeoutMs = 60_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const { workers } = await getJson<{ workers: { status: string }[] }>(
        `${this.master.url}/workers`,
      );
      if (workers.filter((worker) => worker.status === 'active').length >= count) return;
      await sleep(100);
    }
    throw new Error(`the master did not see ${count} active workers in time`);
  }

  /** Stops every service gracefully (profiled workers write their profiles). */
  async stop(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker?.stop(30_000) ?? Promise.resolve()));
    await this.master?.stop();
    await this.dfs.stop();
  }
}

/** GET and parse a JSON answer (2xx only). */
export async function getJson<T>(url: string): Promise<T> {
  const response = await request(url);
  if (response.statusCode >= 300) {
    throw new Error(`GET ${url}: ${response.statusCode} ${await response.body.text()}`);
  }
  return (await response.body.json()) as T;
}

/** POST a JSON body and parse the JSON answer (2xx only). */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.statusCode >= 300) {
    throw new Error(`POST ${url}: ${response.statusCode} ${await response.body.text()}`);
  }
  return (await response.body.json()) as T;
}
