/**
 * A real local search cluster for integration tests: a registry and N search nodes as child
 * processes on 127.0.0.1 with ephemeral ports and short heartbeat, election and repair timings,
 * so failures are noticed within a second or two.
 */
import { join } from 'node:path';
import { HttpClient } from '../../src/core/http-client.js';
import {
  allStarted,
  processDefaults,
  startTessera,
  tempDir,
  waitFor,
  type RunningProcess,
} from './processes.js';

/** What `GET /status` answers (the fields tests read). */
export interface NodeStatus {
  node_id: number;
  binary_id: string;
  url: string;
  neighbors: { node_id: number; alive: boolean }[];
  live_nodes: number[];
  leader_id: number | null;
  leader_url: string | null;
  is_leader: boolean;
  doc_count: number;
  term_count: number;
  primary_doc_count: number;
  repair: { runs: number; copied: number; strays_removed: number; last_error: string | null };
  departed_uncovered: number[];
  documents_may_be_missing: boolean;
}

/** What `GET /search` answers. */
export interface SearchAnswer {
  query: string;
  total: number;
  took_ms: number;
  nodes_queried: number[];
  partial: boolean;
  results: {
    doc_id: string;
    score: number;
    node_id: number;
    snippet: string;
    metadata: Record<string, unknown>;
  }[];
}

export interface SearchClusterOptions {
  readonly nodes: number;
  /** Election heartbeat in seconds (leader timeout is 4x, OK timeout 1x). */
  readonly heartbeatS?: number;
  readonly extraNodeArgs?: readonly string[];
  /**
   * An existing registry to register in (e.g. a DFS cluster's, so that both share one); the
   * cluster then starts no registry of its own and leaves that one running on stop.
   */
  readonly registryUrl?: string;
}

export class SearchCluster {
  readonly dir = tempDir('search');
  /** The registry this cluster started (undefined with `registryUrl`). */
  registry: RunningProcess | undefined;
  readonly nodes: (RunningProcess | undefined)[] = [];
  /** The port of each node, kept so that a restarted node listens where it did. */
  readonly nodePorts: number[] = [];
  readonly http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 30_000,
    breaker: { failureThreshold: 1e9 },
  });

  constructor(readonly options: SearchClusterOptions) {}

  get heartbeatS(): number {
    return this.options.heartbeatS ?? 0.25;
  }

  /** The URL of the registry the nodes use. */
  get registryUrl(): string {
    const url = this.options.registryUrl ?? this.registry?.url;
    if (url === undefined) throw new Error('the search cluster has not started');
    return url;
  }

  async start(): Promise<void> {
    if (this.options.registryUrl === undefined) {
      this.registry = await startTessera([
        'registry',
        '--port',
        '0',
        '--in-memory',
        '--heartbeat-timeout',
        '1.2',
        '--cleanup-interval',
        '0.2',
      ]);
    }
    await allStarted(Array.from({ length: this.options.nodes }, (_, i) => this.startNode(i)));
    await this.waitForLeader();
  }

  /** The flags of node `index` (its id is `index`). */
  nodeArgs(index: number): string[] {
    const hb = this.heartbeatS;
    return [
      'search-node',
      '--node-id',
      String(index),
      '--port',
      String(this.nodePorts[index] ?? 0),
      '--data-dir',
      join(this.dir.path, `node-${index}`),
      '--registry',
      this.registryUrl,
      '--heartbeat-interval',
      '0.3',
      '--election-heartbeat',
      String(hb),
      '--leader-timeout',
      String(hb * 4),
      '--ok-timeout',
      String(hb),
      '--coordinator-timeout',
      String(hb * 4),
      '--balancer-heartbeat',
      '0.5',
      '--balancer-dead-after',
      '3',
      '--balancer-snapshot-interval',
      '1',
      '--repair-delay',
      '1',
      '--repair-interval',
      '2',
      '--suspect-timeout',
      '2',
      '--query-timeout',
      '5',
      ...(this.options.extraNodeArgs ?? []),
    ];
  }

  async startNode(index: number): Promise<RunningProcess> {
    const process = await startTessera(this.nodeArgs(index), {
      timeoutMs: Math.max(60_000, processDefaults.startTimeoutMs),
    });
    this.nodes[index] = process;
    this.nodePorts[index] = Number(new URL(process.url).port);
    return process;
  }

  /** The URL of a running node. */
  url(index: number): string {
    const node = this.nodes[index];
    if (node === undefined) throw new Error(`node ${index} is not running`);
    return node.url;
  }

  /** Indexes of the running nodes. */
  running(): number[] {
    return this.nodes.flatMap((node, index) => (node === undefined ? [] : [index]));
  }

  async kill(index: number): Promise<void> {
    await this.nodes[index]?.kill('SIGKILL');
    this.nodes[index] = undefined;
  }

  async status(index: number): Promise<NodeStatus> {
    return this.http.getJson<NodeStatus>(`${this.url(index)}/status`);
  }

  async search(
    index: number,
    query: string,
    params: Record<string, string | number | boolean> = {},
  ): Promise<SearchAnswer> {
    const search = new URLSearchParams({ q: query });
    for (const [key, value] of Object.entries(params)) search.set(key, String(value));
    return this.http.getJson<SearchAnswer>(`${this.url(index)}/search?${search.toString()}`);
  }

  /** Waits until every running node sees all running nodes live and agrees on one leader. */
  async waitForLeader(timeoutMs = 30_000): Promise<number> {
    const found = await waitFor(
      'one leader that every running node follows',
      async () => {
        const running = this.running();
        const statuses = await Promise.all(running.map((index) => this.status(index)));
        const leaders = new Set(statuses.map((status) => status.leader_id));
        const [leader] = leaders;
        const allLive = statuses.every((status) =>
          running.every((id) => status.live_nodes.includes(id)),
        );
        const noneDead = statuses.every((status) =>
          status.live_nodes.every((id) => running.includes(id)),
        );
        const leaderRuns = leader !== null && leader !== undefined && running.includes(leader);
        return leaders.size === 1 && leaderRuns && allLive && noneDead ? { leader } : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
    return found.leader;
  }

  async stop(): Promise<void> {
    const running = [this.registry, ...this.nodes].filter((child) => child !== undefined);
    await Promise.all(running.map((child) => child.kill('SIGKILL')));
    await this.http.close();
    this.dir.cleanup();
  }
}
