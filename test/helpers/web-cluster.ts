/**
 * A whole local cluster for the dashboard's end-to-end tests, as real processes on 127.0.0.1
 * with ephemeral ports and short timings: one registry, the DFS (metadata master with small
 * chunks, datanodes), search nodes, the MapReduce master and workers, and `tessera web`. It
 * reuses the DFS and search helpers (sharing one registry) and starts everything that can
 * start at once in parallel, since the machine is small.
 */
import { join } from 'node:path';
import { HttpClient } from '../../src/core/http-client.js';
import { DfsClient } from '../../src/dfs/index.js';
import type { JobView } from '../../src/mapreduce/index.js';
import { DfsCluster } from './dfs-cluster.js';
import { FAST_MASTER_ARGS, freePort, waitForActiveWorkers } from './mapreduce-cluster.js';
import { allStarted, startTessera, type RunningProcess } from './processes.js';
import { SearchCluster } from './search-cluster.js';

export interface WebClusterOptions {
  readonly datanodes?: number;
  readonly searchNodes?: number;
  readonly workers?: number;
  /** DFS chunk size, small so that small files have several chunks. Default 64 KiB. */
  readonly chunkSizeBytes?: number;
}

export class WebCluster {
  readonly dfs: DfsCluster;
  readonly search: SearchCluster;
  master!: RunningProcess;
  readonly workers: (RunningProcess | undefined)[] = [];
  web!: RunningProcess;
  readonly http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 30_000,
    breaker: { failureThreshold: 1e9 },
  });
  private grpcPort = 0;

  constructor(readonly options: WebClusterOptions = {}) {
    this.dfs = new DfsCluster({
      datanodes: options.datanodes ?? 3,
      heartbeatS: 0.3,
      extraMetaArgs: ['--chunk-size', String(options.chunkSizeBytes ?? 64 * 1024)],
    });
    this.search = new SearchCluster({ nodes: options.searchNodes ?? 3 });
  }

  get registryUrl(): string {
    return this.dfs.registry.url;
  }

  get masterUrl(): string {
    return this.master.url;
  }

  /**
   * The registry first; then the DFS master, the search nodes and the dashboard at once; then
   * the datanodes, the MapReduce master and its workers (which need the DFS master's URL);
   * then waits until every datanode and worker is active and the search nodes agree on a
   * leader.
   */
  async start(): Promise<void> {
    this.dfs.registry = await startTessera([
      ...['registry', '--port', '0', '--in-memory'],
      ...['--heartbeat-timeout', '2', '--cleanup-interval', '0.5'],
    ]);
    this.search.registry = this.dfs.registry;
    this.grpcPort = await freePort();
    const searchNodes = this.options.searchNodes ?? 3;
    const workers = this.options.workers ?? 2;
    const backEnd = this.dfs
      .startMeta(0)
      .then(() =>
        allStarted([
          ...Array.from({ length: this.dfs.options.datanodes }, (_, i) =>
            this.dfs.startDatanode(i),
          ),
          this.startMaster(),
          ...Array.from({ length: workers }, (_, i) => this.startWorker(i)),
        ]),
      );
    // Every start settles before a failure is thrown, so that stop() finds every process.
    await allStarted<unknown>([
      backEnd,
      ...Array.from({ length: searchNodes }, (_, i) => this.search.startNode(i)),
      this.startWeb(),
    ]);
    this.dfs.client = new DfsClient({
      metaUrl: this.dfs.meta.url,
      http: new HttpClient({
        timeoutMs: 60_000,
        maxRetries: 2,
        breaker: { failureThreshold: 1e9 },
      }),
    });
    await Promise.all([
      this.dfs.waitForDatanodes(this.dfs.options.datanodes),
      this.waitForWorkers(workers),
      this.search.waitForLeader(),
    ]);
  }

  async startWeb(): Promise<RunningProcess> {
    this.web = await startTessera([
      ...['web', '--port', '0', '--registry', this.registryUrl],
      ...['--data-dir', join(this.dfs.dir.path, 'web')],
      ...['--heartbeat-interval', '0.5', '--sample-interval', '1'],
    ]);
    return this.web;
  }

  async startMaster(): Promise<RunningProcess> {
    this.master = await startTessera([
      ...['mapreduce', 'master', '--port', '0', '--grpc-port', String(this.grpcPort)],
      ...['--data-dir', join(this.dfs.dir.path, 'master'), '--registry', this.registryUrl],
      ...['--meta', this.dfs.meta.url, '--heartbeat-interval', '0.3'],
      ...FAST_MASTER_ARGS,
    ]);
    return this.master;
  }

  async startWorker(index: number): Promise<RunningProcess> {
    const worker = await startTessera([
      ...['mapreduce', 'worker', '--port', '0', '--registry', this.registryUrl],
      ...['--data-dir', join(this.dfs.dir.path, `worker-${index}`)],
      ...['--meta', this.dfs.meta.url, '--master', `127.0.0.1:${this.grpcPort}`],
      ...['--server-id', `worker-${index}`, '--heartbeat-interval', '0.3', '--slots', '2'],
    ]);
    this.workers[index] = worker;
    return worker;
  }

  /** Waits until the MapReduce master counts `count` active workers. */
  async waitForWorkers(count: number): Promise<void> {
    await waitForActiveWorkers(this.http, this.masterUrl, count, 30_000);
  }

  /** A job as the master answers it. */
  async job(id: string): Promise<JobView> {
    return this.http.getJson<JobView>(`${this.masterUrl}/jobs/${id}`);
  }

  /** The concatenated part files of a committed job output directory. */
  async readOutput(dir: string): Promise<string> {
    const { files } = await this.dfs.client.list({ prefix: `${dir}/` });
    const parts = files
      .map((file) => file.path)
      .filter((path) => /\/part-r-\d{5}$/.test(path))
      .sort();
    const texts: string[] = [];
    for (const part of parts) texts.push((await this.dfs.client.getBuffer(part)).toString('utf8'));
    return texts.join('');
  }

  /** Indexes documents through a search node (durable on every owner when it answers). */
  async index(
    documents: { doc_id: string; content: string; metadata?: Record<string, unknown> }[],
  ): Promise<void> {
    const node = this.search.running()[0];
    if (node === undefined) throw new Error('no search node is running');
    await this.http.postJson(`${this.search.url(node)}/docs`, { documents });
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.web, this.master, ...this.workers].map(
        (process) => process?.kill('SIGKILL') ?? Promise.resolve(),
      ),
    );
    await this.search.stop();
    await this.dfs.stop();
    await this.http.close();
  }
}
