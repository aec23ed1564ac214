/**
 * A real local search cluster for the search benchmark: `tessera registry` and N `tessera
 * search-node` processes on 127.0.0.1 (ephemeral ports, node ids 0..N-1, data dirs under one
 * temporary dir), with the services' default settings (election heartbeat, leader timeout,
 * replicas k = 2). The sources run through tsx, so the checkout's code is measured. Requests go
 * over keep-alive undici pools, one per node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { spawnService, type ChildService } from './child-service.js';

const SERVICE_ENV = {
  TESSERA_FROM_SOURCE: '1',
  TESSERA_LOG_FORMAT: 'json',
  TESSERA_LOG_LEVEL: 'info',
};

/** A document as `POST /docs` takes it. */
export interface BenchDocument {
  readonly doc_id: string;
  readonly content: string;
  readonly metadata?: Record<string, unknown>;
}

/** The fields of `GET /status` the benchmark reads. */
export interface SearchNodeStatus {
  readonly node_id: number;
  readonly leader_id: number | null;
  readonly is_leader: boolean;
  readonly live_nodes: number[];
  readonly doc_count: number;
  readonly term_count: number;
  /** Re-replication so far (runs, documents copied to new owners). */
  readonly repair?: { readonly runs: number; readonly copied: number };
}

/** The fields of `GET /search` the benchmark reads. */
export interface SearchAnswer {
  readonly total: number;
  readonly took_ms: number;
  readonly nodes_queried: number[];
  readonly partial: boolean;
  readonly results: { doc_id: string; score: number; node_id: number }[];
}

/** Query parameters of `GET /search` besides `q`. */
export type SearchParams = Readonly<Record<string, string | number | boolean>>;

/** SIGKILL, ignoring a process that is already gone. */
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already exited
  }
}

/** One search node process and its connection pool. */
interface NodeProcess {
  readonly service: ChildService;
  readonly pool: Pool;
}

/** A registry and N search nodes; node `i` has hypercube id `i`. */
export class BenchSearchCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tessera-bench-search-'));
  private registry: ChildService | undefined;
  private readonly nodes: (NodeProcess | undefined)[] = [];

  /**
   * `nodeFlags` go to node (e.g. `--cpu-prof`), `serviceArgs` to `tessera search-node`
   * (e.g. `--fanout direct`).
   */
  constructor(
    readonly size: number,
    private readonly nodeFlags: readonly string[] = [],
    private readonly serviceArgs: readonly string[] = [],
  ) {}

  /** Starts the registry and the nodes, and waits until all agree on one leader. */
  async start(): Promise<void> {
    this.registry = await spawnService({
      args: ['bin/tessera.js', 'registry', '--host', '127.0.0.1', '--port', '0', '--in-memory'],
      env: SERVICE_ENV,
    });
    const registryUrl = this.registry.url;
    await Promise.all(
      Array.from({ length: this.size }, async (_v, index) => {
        const service = await spawnService({
          args: [
            ...this.nodeFlags,
            'bin/tessera.js',
            'search-node',
            '--host',
            '127.0.0.1',
            '--port',
            '0',
            '--node-id',
            String(index),
            '--data-dir',
            join(this.dir, `node-${index}`),
            '--registry',
            registryUrl,
            ...this.serviceArgs,
          ],
          env: SERVICE_ENV,
          readyTimeoutMs: 90_000,
        });
        this.nodes[index] = { service, pool: new Pool(service.url, { connections: 8 }) };
      }),
    );
    await this.waitForLeader(this.running(), 60_000);
  }

  /** Ids of the nodes still running. */
  running(): number[] {
    return this.nodes.flatMap((node, index) => (node === undefined ? [] : [index]));
  }

  /** The process id of node `index` (for profiles). */
  pid(index: number): number {
    return this.node(index).service.pid;
  }

  /** The process ids of the running nodes. */
  pids(): number[] {
    return this.running().map((index) => this.pid(index));
  }

  /** `POST /docs` on node `index`; answers the number indexed. */
  async postDocs(index: number, documents: readonly BenchDocument[]): Promise<number> {
    const response = await this.node(index).pool.request({
      method: 'POST',
      path: '/docs',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documents }),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    const body = (await response.body.json()) as { indexed?: number; detail?: string };
    if (response.statusCode !== 201 || typeof body.indexed !== 'number') {
      throw new Error(`POST /docs answered ${response.statusCode}: ${body.detail ?? ''}`);
    }
    return body.indexed;
  }

  /** `GET /search` on node `index`. */
  async search(
    index: number,
    q: string,
    params: SearchParams = {},
    timeoutMs = 30_000,
  ): Promise<SearchAnswer> {
    const query = new URLSearchParams({ q });
    for (const [key, value] of Object.entries(params)) query.set(key, String(value));
    const response = await this.node(index).pool.request({
      method: 'GET',
      path: `/search?${query.toString()}`,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = (await response.body.json()) as SearchAnswer & { detail?: string };
    if (response.statusCode !== 200) {
      throw new Error(`GET /search answered ${response.statusCode}: ${body.detail ?? ''}`);
    }
    return body;
  }

  /** `GET /status` on node `index`. */
  async status(index: number, timeoutMs = 5_000): Promise<SearchNodeStatus> {
    const response = await this.node(index).pool.request({
      method: 'GET',
      path: '/status',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = (await response.body.json()) as SearchNodeStatus;
    if (response.statusCode !== 200) throw new Error(`GET /status answered ${response.statusCode}`);
    return body;
  }

  /** `GET /metrics` of node `index` (Prometheus text). */
  async metrics(index: number): Promise<string> {
    const response = await this.node(index).pool.request({ method: 'GET', path: '/metrics' });
    return response.body.text();
  }

  /** The leader every node in `among` agrees on, or undefined (no agreement yet). */
  async agreedLeader(among: readonly number[]): Promise<number | undefined> {
    const statuses = await Promise.all(among.map((index) => this.status(index).catch(() => null)));
    const leaders = new Set(statuses.map((status) => status?.leader_id));
    const [leader] = leaders;
    const allLive = statuses.every(
      (status) => status !== null && among.every((id) => status.live_nodes.includes(id)),
    );
    return leaders.size === 1 && typeof leader === 'number' && among.includes(leader) && allLive
      ? leader
      : undefined;
  }

  /** Waits until the nodes in `among` agree on a leader among them; answers it. */
  async waitForLeader(among: readonly number[], timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const leader = await this.agreedLeader(among);
      if (leader !== undefined) return leader;
      await sleep(50);
    }
    throw new Error(`search nodes ${among.join(', ')} did not agree on a leader in time`);
  }

  /** SIGKILLs node `index` (no graceful stop, no profile). */
  async kill(index: number): Promise<void> {
    const node = this.node(index);
    this.nodes[index] = undefined;
    killQuietly(node.service.pid);
    await node.pool.destroy();
    await node.service.stop(1_000);
  }

  /**
   * Stops every process gracefully (profiled ones then write their profiles) and cleans up;
   * whatever has not stopped after `graceMs` is SIGKILLed.
   */
  async stop(graceMs = 30_000): Promise<void> {
    const nodes = this.nodes.filter((node): node is NodeProcess => node !== undefined);
    this.nodes.length = 0;
    const graceful = Promise.all(
      nodes.map(async (node) => {
        await node.pool.destroy();
        await node.service.stop(15_000);
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    if ((await Promise.race([graceful, late])) === 'late') {
      for (const node of nodes) killQuietly(node.service.pid);
    }
    clearTimeout(timer);
    await this.registry?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private node(index: number): NodeProcess {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`search node ${index} is not running`);
    return node;
  }
}
