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
  /** Roles whose pages are planned but not built yet, with the issue that brings them. */
  readonly upcoming: { page: string; issue: number; roles: string[] }[];
}
