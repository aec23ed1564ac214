/**
 * A real local MapReduce cluster for integration tests: the DFS cluster (registry, metadata
 * master, datanodes) plus a MapReduce master and N workers, all child processes on 127.0.0.1
 * with ephemeral ports and short timings (heartbeats, task timeout, retry delays, breakers).
 */
import { join } from 'node:path';
import { HttpClient } from '../../src/core/http-client.js';
import { SeededRandom } from '../../src/core/random.js';
import { DfsClient } from '../../src/dfs/index.js';
import type { JobView } from '../../src/mapreduce/index.js';
import { DfsCluster, type DfsClusterOptions } from './dfs-cluster.js';
import { allStarted, startTessera, waitFor, type RunningProcess } from './processes.js';

export interface MapReduceClusterOptions {
  readonly datanodes?: number;
  readonly workers?: number;
  /** Extra flags of the master (override the short defaults below). */
  readonly masterArgs?: readonly string[];
  readonly workerArgs?: readonly string[];
  readonly slots?: number;
  /** Workers find the master and the DFS through the registry instead of flags. */
  readonly viaRegistry?: boolean;
  /** Options of the DFS cluster under the engine (over the defaults below). */
  readonly dfsOptions?: Partial<DfsClusterOptions>;
}

/** Short timings for tests: every one a flag of `tessera mapreduce master`. */
export const FAST_MASTER_ARGS = [
  '--worker-heartbeat',
  '0.2',
  '--worker-timeout',
  '1.5',
  '--task-timeout',
  '10',
  '--retry-base-delay',
  '0.1',
  '--retry-max-delay',
  '0.5',
  '--tick-interval',
  '0.05',
];

export class MapReduceCluster {
  readonly dfs: DfsCluster;
  master!: RunningProcess;
  readonly workers: (RunningProcess | undefined)[] = [];
  /** The port of each worker, kept so that a restarted worker listens where it did. */
  readonly workerPorts: number[] = [];
  readonly http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 30_000,
    breaker: { failureThreshold: 1e9 },
  });
  private masterPort = 0;
  private grpcPort = 0;

  constructor(readonly options: MapReduceClusterOptions = {}) {
    this.dfs = new DfsCluster({
      datanodes: options.datanodes ?? 3,
      heartbeatS: 0.3,
      ...options.dfsOptions,
    });
  }

  get masterUrl(): string {
    return this.master.url;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  /**
   * Starts the registry, then the metadata master, then every datanode, the master and the
   * workers at once (workers find the master's gRPC port, chosen in advance, when it is up).
   */
  async start(): Promise<void> {
    const dfs = this.dfs;
    await dfs.startRegistry();
    await dfs.startMeta(0);
    const datanodes = dfs.options.datanodes;
    const workers = this.options.workers ?? 2;
    this.grpcPort = await freePort();
    await allStarted([
      ...Array.from({ length: datanodes }, (_, index) => dfs.startDatanode(index)),
      this.startMaster(),
      ...Array.from({ length: workers }, (_, index) => this.startWorker(index)),
    ]);
    dfs.client = new DfsClient({
      metaUrl: dfs.meta.url,
      http: new HttpClient({
        timeoutMs: 60_000,
        maxRetries: 2,
        breaker: { failureThreshold: 1e9 },
      }),
    });
    await dfs.waitForDatanodes(datanodes);
    await this.waitForWorkers(workers);
  }

  /** Starts (or restarts, on the same ports and data dir) the master. */
  async startMaster(): Promise<RunningProcess> {
    if (this.grpcPort === 0) this.grpcPort = await freePort();
    this.master = await startTessera([
      'mapreduce',
      'master',
      '--port',
      String(this.masterPort),
      '--grpc-port',
      String(this.grpcPort),
      '--data-dir',
      join(this.dfs.dir.path, 'master'),
      '--registry',
      this.dfs.registry.url,
      '--meta',
      this.dfs.meta.url,
      '--heartbeat-interval',
      '0.3',
      ...FAST_MASTER_ARGS,
      ...(this.options.masterArgs ?? []),
    ]);
    this.masterPort = Number(new URL(this.master.url).port);
    return this.master;
  }

  async startWorker(index: number): Promise<RunningProcess> {
    const worker = await startTessera([
      'mapreduce',
      'worker',
      '--port',
      String(this.workerPorts[index] ?? 0),
      '--data-dir',
      join(this.dfs.dir.path, `worker-${index}`),
      '--registry',
      this.dfs.registry.url,
      ...(this.options.viaRegistry
        ? []
        : ['--meta', this.dfs.meta.url, '--master', this.grpcAddress]),
      '--server-id',
      `worker-${index}`,
      '--heartbeat-interval',
      '0.3',
      '--slots',
      String(this.options.slots ?? 2),
      ...(this.options.workerArgs ?? []),
    ]);
    this.workers[index] = worker;
    this.workerPorts[index] = Number(new URL(worker.url).port);
    return worker;
  }

  /** Waits until the master counts `count` active workers (none to wait for when 0). */
  async waitForWorkers(count: number): Promise<void> {
    await waitForActiveWorkers(this.http, this.masterUrl, count, 20_000);
  }

  async submit(spec: Record<string, unknown>): Promise<JobView> {
    return this.http.postJson<JobView>(`${this.masterUrl}/jobs`, spec);
  }

  async job(id: string): Promise<JobView> {
    return this.http.getJson<JobView>(`${this.masterUrl}/jobs/${id}`);
  }

  /** Waits until the job is in one of `states` (default: finished). */
  async waitForJob(
    id: string,
    states = ['succeeded', 'failed', 'cancelled'],
    timeoutMs = 60_000,
  ): Promise<JobView> {
    return waitFor(
      `job ${id} to be ${states.join(' or ')}`,
      async () => {
        const view = await this.job(id);
        return states.includes(view.state) ? view : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** The concatenated part files of a committed output directory. */
  async readOutput(dir: string): Promise<string> {
    const { files } = await this.dfs.client.list({ prefix: `${dir}/` });
    const parts = files
      .map((f) => f.path)
      .filter((p) => /\/part-r-\d{5}$/.test(p))
      .sort();
    const texts: string[] = [];
    for (const part of parts) texts.push((await this.dfs.client.getBuffer(part)).toString('utf8'));
    return texts.join('');
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.master, ...this.workers].map((p) => p?.kill('SIGKILL') ?? Promise.resolve()),
    );
    await this.http.close();
    await this.dfs.stop();
  }
}

/**
 * A free TCP port on 127.0.0.1 (for a gRPC port that must survive a restart), taken below the
 * kernel's ephemeral range: a port from that range, closed again, can be handed by the kernel to
 * any other `listen(0)` or outgoing connection before the service binds it (EADDRINUSE seen in
 * CI); a port below it is only ever taken on purpose. Bounded tries, each checked by a bind.
 */
export async function freePort(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  let ephemeralLow = 32_768;
  try {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    ephemeralLow = Number(range.trim().split(/\s+/)[0]) || ephemeralLow;
  } catch {
    // Not Linux: keep the usual default.
  }
  const low = Math.min(20_000, ephemeralLow - 1_000);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port found in ${low}-${ephemeralLow - 1} after 50 tries`);
}

/** Whether 127.0.0.1:`port` can be bound right now (the probe is closed again). */
async function canBind(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Parses `key<TAB>value` lines into a map. */
export function parseCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [key, value] = line.split('\t');
    counts.set(key ?? '', Number(value));
  }
  return counts;
}

/** A reproducible English-like text of about `bytes` bytes, lines of varied length. */
export function generateText(bytes: number, seed: number): string {
  const random = new SeededRandom(seed);
  const vocabulary = [
    'the',
    'Map',
    'reduce',
    'shuffle',
    'chunk',
    'node',
    'data',
    'Tessera',
    'a',
    'of',
    'split',
    'record',
    'key',
    'value',
    'worker',
    'master',
    'sort',
    'merge',
    "don't",
    'x-ray',
    'ÉTÉ',
    'naïve',
  ];
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = Array.from(
      { length: 1 + random.int(14) },
      () => vocabulary[random.int(vocabulary.length)]!,
    );
    const line = words.join(random.int(5) === 0 ? ',  ' : ' ');
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** Waits until the MapReduce master at `masterUrl` counts `count` active workers (0: at once). */
export async function waitForActiveWorkers(
  http: HttpClient,
  masterUrl: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  if (count === 0) return;
  await waitFor(
    `${count} active workers`,
    async () => {
      const { workers } = await http.getJson<{ workers: { status: string }[] }>(
        `${masterUrl}/workers`,
      );
      return workers.filter((worker) => worker.status === 'active').length >= count;
    },
    { timeoutMs },
  );
}
