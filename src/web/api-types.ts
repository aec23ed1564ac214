/**
 * The dashboard's own API (the web server's `/api/*`), as the single-page app sees it. This
 * file imports nothing so that both the server (Node) and the app (browser, its own
 * tsconfig) can use it. The DFS and registry shapes mirror their wire contracts
 * (src/dfs/meta/types.ts, src/registry/types.ts); the server assigns the real types to these,
 * so a drift fails the type check.
 */

/** One part of a page's data: its value, or why its service could not give it. */
export type Section<T> =
  { readonly ok: true; readonly data: T } | { readonly ok: false; readonly error: string };

/** A registry record (src/registry/types.ts); times are Unix seconds with fractions. */
export interface WireServer {
  server_id: string;
  role: string;
  host: string;
  port: number;
  url: string;
  metadata: Record<string, unknown>;
  status: 'active' | 'inactive';
  registered_at: number;
  last_heartbeat: number;
  recoveries: number;
}

/** A snapshot of the registry's table, pushed on `/api/nodes/events` and answered by `/api/nodes`. */
export interface NodesSnapshot {
  readonly registry_url: string;
  /** The web server's clock when the table was read (ms), to show heartbeat ages. */
  readonly fetched_at_ms: number;
  readonly servers: Section<{ servers: WireServer[]; index: number }>;
}

/** A datanode as the DFS master sees it (src/dfs/meta/types.ts `NodeInfo`). */
export interface WireDatanode {
  node_id: string;
  host: string;
  port: number;
  url: string;
  rack: string | null;
  free_space: number;
  total_space: number;
  chunk_count: number;
  last_heartbeat: string;
  state: 'active' | 'inactive' | 'dead';
}

/** The master's `GET /api/v1/stats` figures the dashboard shows. */
export interface DfsStats {
  files: number;
  chunks: number;
  bytes: number;
  avg_replication: number;
  under_replicated_chunks: number;
  nodes_active: number;
  nodes_dead: number;
  used_bytes: number;
  free_bytes: number;
  uploads_in_progress?: number;
}

/** `GET /api/overview`. */
export interface Overview {
  readonly generated_at_ms: number;
  readonly nodes: NodesSnapshot;
  readonly dfs: Section<{ meta_url: string; stats: DfsStats; datanodes: WireDatanode[] }>;
  readonly search: Section<SearchSummary>;
  readonly jobs: Section<JobsSummary>;
}

/** `GET /api/dfs/nodes`. */
export type DatanodesView = Section<{ meta_url: string; datanodes: WireDatanode[] }>;

/** A line of a directory listing (src/dfs/meta/views.ts `FileSummary`). */
export interface WireFileSummary {
  file_id: string;
  path: string;
  size: number;
  chunk_count: number;
  replication_factor: number;
  min_live_replicas: number;
  under_replicated: boolean;
  created_at: string;
  modified_at: string;
  is_deleted: boolean;
}

/** `GET /api/files?dir=`. */
export interface DirectoryListing {
  readonly dir: string;
  readonly files: WireFileSummary[];
  readonly directories: string[];
  readonly next_after: string | null;
}

/** One replica of a chunk (`ReplicaInfo`). */
export interface WireReplica {
  node_id: string;
  url: string;
  state: 'active' | 'inactive' | 'dead' | 'corrupt';
  last_heartbeat: string;
  checksum_verified: boolean;
}

/** `GET /api/files/stat?path=` (`FileMetadata`). */
export interface WireFileMetadata {
  file_id: string;
  path: string;
  size: number;
  created_at: string;
  modified_at: string;
  is_deleted: boolean;
  replication_factor: number;
  chunk_size: number;
  chunks: {
    chunk_id: string;
    seq_index: number;
    size: number;
    checksum: string;
    replicas: WireReplica[];
  }[];
}

/** One point of a chart series: rates over the interval that ends at `t_ms`. */
export interface MetricsPoint {
  readonly t_ms: number;
  /** Requests per second (scrapes and health checks left out). */
  readonly requests_per_s: number;
  /** Mean latency of those requests in ms, null when there were none. */
  readonly mean_latency_ms: number | null;
  /** 95th percentile latency in ms (from histogram buckets), null when there were none. */
  readonly p95_latency_ms: number | null;
  /** Chunk bytes datanodes stored per second. */
  readonly written_bytes_per_s: number;
  /** Chunk bytes datanodes served per second. */
  readonly read_bytes_per_s: number;
}

/** `GET /api/metrics`: one series per role, and which services could not be scraped. */
export interface MetricsView {
  readonly sample_interval_ms: number;
  readonly window_ms: number;
  readonly roles: Record<string, MetricsPoint[]>;
  readonly scrape_errors: { server_id: string; role: string; url: string; error: string }[];
  readonly last_sample_at_ms: number | null;
}

/** `GET /api/info`: what the web server knows about itself. */
export interface WebInfo {
  readonly version: string;
  readonly registry_url: string;
}

/** Which server answered a call that the web server may send to any server of a role. */
export interface AnsweredBy {
  readonly server_id: string;
  readonly url: string;
  /** Servers of the role tried first that failed, each with the reason (failover). */
  readonly skipped: { server_id: string; url: string; error: string }[];
}

/** One hit of a search node's `GET /search` (src/search/node/client.ts `SearchResult`). */
export interface WireSearchResult {
  doc_id: string;
  score: number;
  node_id: number;
  /** HTML-escaped text with the query terms wrapped in `<mark>...</mark>`. */
  snippet: string;
  metadata: Record<string, unknown>;
}

/** A search node's `GET /search` answer (`SearchResponse`). */
export interface WireSearchAnswer {
  query: string;
  total: number;
  took_ms: number;
  nodes_queried: number[];
  partial: boolean;
  results: WireSearchResult[];
}

/** `GET /api/search`: the cluster's answer and the node that coordinated it. */
export interface SearchView extends WireSearchAnswer {
  readonly answered_by: AnsweredBy;
}

/** A search node's `GET /status` (the fields the dashboard shows). */
export interface WireSearchStatus {
  node_id: number;
  binary_id: string;
  url: string;
  dimensions: number;
  replicas: number;
  neighbors: { node_id: number; binary_id: string; alive: boolean; url: string | null }[];
  live_nodes: number[];
  leader_id: number | null;
  leader_url: string | null;
  is_leader: boolean;
  election_role: string;
  doc_count: number;
  term_count: number;
  primary_doc_count: number;
  /** Peers that left before a repair covered them (absent on older nodes). */
  departed_uncovered?: number[];
  /** Whether k or more such peers make searches partial. */
  documents_may_be_missing?: boolean;
}

/** One node of the balancer's `nodes` list. */
export interface WireBalancerNode {
  node_id: number;
  url: string | null;
  status: 'active' | 'inactive' | 'unregistered';
  last_heartbeat_ms: number | null;
  doc_count: number;
  term_count: number;
  indexed_terms: number;
  full_report: boolean;
}

/** The leader's `GET /balancer/stats` (src/search/balancer `BalancerStats`, the fields shown). */
export interface WireBalancerStats {
  node_id: number | null;
  total_nodes: number;
  active_nodes: number;
  total_terms: number;
  doc_count: number;
  total_length: number;
  avg_doc_length: number;
  cache: { hit_rate: number; size?: number; hits?: number; misses?: number };
  updates: { applied: number; ignored: number };
  nodes: WireBalancerNode[];
}

/** A registered search node and what its `GET /status` said. */
export interface SearchNodeView {
  readonly server_id: string;
  readonly url: string;
  readonly registry_status: 'active' | 'inactive';
  /** The node id it registered with (metadata `node_id`), null when it has none yet. */
  readonly node_id: number | null;
  readonly status: Section<WireSearchStatus>;
}

/** A slot of the hypercube: a node that answers, one that is known but does not, or no node. */
export type CubeState = 'live' | 'dead' | 'empty';

/** A vertex of the drawn hypercube, at (x, y) in an arbitrary unit (the app scales it). */
export interface CubeVertex {
  readonly node_id: number;
  readonly binary_id: string;
  readonly state: CubeState;
  readonly leader: boolean;
  readonly url: string | null;
  readonly x: number;
  readonly y: number;
}

/** An edge between two neighbours (ids one bit apart); live when both ends are live. */
export interface CubeEdge {
  readonly from: number;
  readonly to: number;
  readonly state: CubeState;
}

/** The hypercube as the search nodes report it. */
export interface CubeView {
  readonly dimensions: number;
  readonly vertices: CubeVertex[];
  readonly edges: CubeEdge[];
  readonly leader_id: number | null;
  /** True when only known nodes are drawn (too many slots to draw every one). */
  readonly sparse: boolean;
}

/** `GET /api/search/cluster`: the nodes, the cube, the leader and the balancer's figures. */
export interface SearchClusterView {
  readonly generated_at_ms: number;
  readonly nodes: Section<SearchNodeView[]>;
  readonly cube: CubeView | null;
  readonly balancer: Section<{ leader_url: string; stats: WireBalancerStats }>;
}

/** The Overview's search figures. */
export interface SearchSummary {
  readonly nodes_live: number;
  readonly leader_id: number | null;
  readonly dimensions: number;
  /** Distinct documents and terms (from the balancer), null when it did not answer. */
  readonly documents: number | null;
  readonly terms: number | null;
  readonly balancer_error: string | null;
}

/** One phase's progress (src/mapreduce `PhaseView`). */
export interface WirePhase {
  done: number;
  total: number;
  fraction: number;
}

/** A job as the master answers it (src/mapreduce `JobView`, assigned to this type by the server). */
export interface WireJob {
  id: string;
  name: string;
  /** `queued`, `running`, `succeeded`, `failed` or `cancelled`. */
  state: string;
  /** The scheduler's phase: `map`, `reduce` or `done`. */
  phase: string;
  strategy: string | null;
  builtin: string | null;
  input: readonly string[];
  output: string;
  reducers: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  progress: { map: WirePhase; reduce: WirePhase };
  counters: Record<string, number>;
  stats: Record<string, number>;
  error: string | null;
  output_files: string[];
}

/** A task of a job (src/mapreduce `TaskView`). */
export interface WireTask {
  task_id: string;
  phase: string;
  index: number;
  state: string;
  attempts: number;
  failures: number;
  worker_id: string | null;
  progress: number;
  split: { path: string; start: number; end: number } | null;
  preferred_hosts: readonly string[];
  last_failure: { reason: string; error: string; record?: string } | null;
  duration_ms: number | null;
  counters: Record<string, number>;
}

/** `GET /api/jobs`. */
export interface JobList {
  readonly master_url: string;
  readonly jobs: WireJob[];
}

/** `GET /api/jobs/{id}`: the job and its tasks, read together. */
export interface JobDetails {
  readonly master_url: string;
  readonly job: WireJob;
  readonly tasks: WireTask[];
}

/** A worker as the master sees it (`GET /workers`). */
export interface WireWorker {
  worker_id: string;
  host: string;
  url: string;
  status: 'active' | 'lost';
  slots: number;
  running_tasks: number;
  succeeded: number;
  failed: number;
  success_rate: number;
  recent_latency_ms: number | null;
  /** Reported by the worker: 1 - load average per CPU, 0..1. */
  health: number;
  last_heartbeat_age_ms: number;
  breaker: string;
  recoveries: number;
}

/** A worker's circuit breaker (`GET /fault-tolerance/circuit-breakers`). */
export interface WireBreaker {
  worker_id: string;
  state: 'CLOSED' | 'OPEN' | 'HALF_OPEN';
  consecutive_failures: number;
  half_open_successes: number;
  opened_at_ms: number | null;
  retry_after_ms: number;
  transitions: number;
  opens: number;
}

/** A dead-lettered task (`GET /fault-tolerance/dead-letter-queue`). */
export interface WireDeadLetter {
  task_id: string;
  job_id: string;
  reason: string;
  error: string;
  record?: string;
  attempts: number;
  /** When it was dead-lettered (Unix ms). */
  at: number;
}

/** The master's `GET /fault-tolerance/stats` (the fields shown). */
export interface WireFaultToleranceStats {
  tasks: {
    succeeded: number;
    failed: number;
    retries: number;
    dead_lettered: number;
    success_rate: number;
    tasks_per_minute: number;
  };
  retry_policy: {
    max_retries: number;
    base_delay_ms: number;
    max_delay_ms: number;
    jitter: number;
    task_timeout_ms: number;
    /** `unreachable` failures use no retry budget for this long. */
    unreachable_grace_ms: number;
  };
  circuit_breakers: {
    total: number;
    closed: number;
    half_open: number;
    open: number;
    transitions: number;
  };
  dead_letter_queue: { total: number; capacity?: number; utilization?: number };
}

/** `GET /api/mapreduce/fault-tolerance`: workers, breakers, retries and the dead-letter queue. */
export interface FaultToleranceView {
  readonly master_url: string;
  readonly stats: WireFaultToleranceStats;
  readonly workers: WireWorker[];
  readonly breakers: WireBreaker[];
  readonly dead_letters: { total: number; entries: WireDeadLetter[] };
}

/** The Overview's MapReduce figures. */
export interface JobsSummary {
  readonly master_url: string;
  readonly running: number;
  readonly queued: number;
  /** The newest jobs, newest first. */
  readonly recent: WireJob[];
}

/** The body of `POST /api/session`: a token from `tessera token create`. */
export interface SignInRequest {
  token: string;
}

/**
 * Who is using the dashboard (`GET /api/session`, and the answer of `POST /api/session`).
 * `auth: false`: the web server checks no tokens (no `--auth`), so there is nobody to sign in.
 */
export type SessionView =
  | { readonly auth: false }
  | {
      readonly auth: true;
      readonly subject: string;
      readonly role: 'reader' | 'writer' | 'admin';
      readonly groups: readonly string[];
      /** When the token, and with it the session, ends (Unix ms). */
      readonly expires_at_ms: number;
    };
