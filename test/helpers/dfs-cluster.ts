/**
 * A real local DFS for integration tests: a registry, a metadata master and N datanodes as
 * child processes on 127.0.0.1 with ephemeral ports and short heartbeats.
 */
import { join } from 'node:path';
import { DfsClient } from '../../src/dfs/index.js';
import { HttpClient } from '../../src/core/http-client.js';
import { allStarted, startTessera, tempDir, waitFor, type RunningProcess } from './processes.js';

export interface DfsClusterOptions {
  readonly datanodes: number;
  readonly heartbeatS?: number;
  readonly datanodeTimeoutS?: number;
  readonly leaseTimeoutS?: number;
  readonly scrubRate?: number;
  readonly extraMetaArgs?: readonly string[];
  /**
   * Keep the registry's table in `<dir>/registry` instead of memory, so that the registry can
   * be SIGKILLed and restarted (on the same port) with what it acknowledged.
   */
  readonly persistentRegistry?: boolean;
}

export class DfsCluster {
  readonly dir = tempDir('dfs');
  registry!: RunningProcess;
  meta!: RunningProcess;
  readonly datanodes: (RunningProcess | undefined)[] = [];
  readonly datanodePorts: number[] = [];
  readonly http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 10_000,
    breaker: { failureThreshold: 1e9 },
  });
  client!: DfsClient;
  private metaPort = 0;
  private registryPort = 0;

  constructor(readonly options: DfsClusterOptions) {}

  get heartbeatS(): number {
    return this.options.heartbeatS ?? 0.2;
  }

  async start(): Promise<void> {
    await this.startRegistry();
    await this.startMeta(0);
    await allStarted(
      Array.from({ length: this.options.datanodes }, (_unused, index) => this.startDatanode(index)),
    );
    this.client = new DfsClient({
      metaUrl: this.meta.url,
      http: new HttpClient({
        timeoutMs: 60_000,
        maxRetries: 2,
        breaker: { failureThreshold: 1e9 },
      }),
    });
    await this.waitForDatanodes(this.options.datanodes);
  }

  /** Starts (or restarts, on the same port and data dir) the registry. */
  async startRegistry(): Promise<RunningProcess> {
    const storage =
      this.options.persistentRegistry === true
        ? ['--data-dir', join(this.dir.path, 'registry')]
        : ['--in-memory'];
    this.registry = await startTessera([
      'registry',
      '--port',
      String(this.registryPort),
      ...storage,
      '--heartbeat-timeout',
      '2',
      '--cleanup-interval',
      '0.5',
    ]);
    this.registryPort = Number(new URL(this.registry.url).port);
    return this.registry;
  }

  async startMeta(port = this.metaPort): Promise<void> {
    this.meta = await startTessera([
      'meta',
      '--port',
      String(port),
      '--data-dir',
      join(this.dir.path, 'meta'),
      '--registry',
      this.registry.url,
      '--heartbeat-interval',
      String(this.heartbeatS),
      '--datanode-timeout',
      String(this.options.datanodeTimeoutS ?? 2),
      '--lease-timeout',
      String(this.options.leaseTimeoutS ?? 60),
      '--replication-interval',
      '0.3',
      ...(this.options.extraMetaArgs ?? []),
    ]);
    this.metaPort = Number(new URL(this.meta.url).port);
  }

  async startDatanode(index: number): Promise<RunningProcess> {
    const port = this.datanodePorts[index] ?? 0;
    const process = await startTessera([
      'datanode',
      '--port',
      String(port),
      '--data-dir',
      join(this.dir.path, `datanode-${index}`),
      '--registry',
      this.registry.url,
      '--meta',
      this.meta.url,
      '--heartbeat-interval',
      String(this.heartbeatS),
      '--scrub-rate',
      String(this.options.scrubRate ?? 50),
      '--scrub-interval',
      '0.5',
    ]);
    this.datanodes[index] = process;
    this.datanodePorts[index] = Number(new URL(process.url).port);
    return process;
  }

  /** The base URL the datanode registers with (its replicas' `url`). */
  datanodeUrl(index: number): string {
    return `http://127.0.0.1:${this.datanodePorts[index] ?? 0}`;
  }

  /** Which datanode serves a replica URL. */
  datanodeIndexOf(url: string): number {
    const port = Number(new URL(url).port);
    const index = this.datanodePorts.indexOf(port);
    if (index < 0) throw new Error(`no datanode at ${url}`);
    return index;
  }

  datanodeDir(index: number): string {
    return join(this.dir.path, `datanode-${index}`);
  }

  /** Waits until the master sees `count` active datanodes. */
  async waitForDatanodes(count: number): Promise<void> {
    await waitFor(
      `${count} active datanodes`,
      async () => {
        const { nodes } = await this.http.getJson<{ nodes: { state: string }[] }>(
          `${this.meta.url}/api/v1/nodes`,
        );
        return nodes.filter((node) => node.state === 'active').length >= count;
      },
      { timeoutMs: 30_000 },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.registry, this.meta, ...this.datanodes].map(
        (process) => process?.kill('SIGKILL') ?? Promise.resolve(),
      ),
    );
    // The client exists once start() got that far.
    const client = this.client as DfsClient | undefined;
    await client?.close();
    await client?.http.close();
    await this.http.close();
    this.dir.cleanup();
  }
}
