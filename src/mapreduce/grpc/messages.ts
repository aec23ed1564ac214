/**
 * TypeScript shapes of the messages of proto/mapreduce.proto, as @grpc/proto-loader decodes
 * them (`keepCase`, longs as numbers, defaults filled in). Kept by hand next to the .proto;
 * test/mapreduce/services/grpc.test.ts round-trips them through the real loader.
 */

export interface WorkerInfo {
  worker_id: string;
  host: string;
  url: string;
  slots: number;
  health: number;
}

export interface RegisterRequest {
  worker: WorkerInfo;
}

export interface RegisterReply {
  heartbeat_interval_ms: number;
}

export interface RunningAttempt {
  attempt_id: string;
  progress: number;
}

export interface HeartbeatRequest {
  worker: WorkerInfo;
  seq: number;
  attempts: RunningAttempt[];
  job_ids: string[];
  wait_ms: number;
}

export interface SplitMessage {
  path: string;
  start: number;
  end: number;
  file_size: number;
  /** The DFS file id planned at submission; empty when unknown (older jobs). */
  file_id?: string;
}

export interface MapOutputLocationMessage {
  task_id: string;
  index: number;
  location: string;
}

export interface Assignment {
  attempt_id: string;
  task_id: string;
  job_id: string;
  phase: 'map' | 'reduce';
  index: number;
  spec_json: string;
  reduce_count: number;
  split: SplitMessage | null;
  map_outputs: MapOutputLocationMessage[];
  output_path: string;
}

export interface HeartbeatReply {
  known: boolean;
  assignments: Assignment[];
  cancel_attempt_ids: string[];
  purge_job_ids: string[];
}

export interface CounterMessage {
  name: string;
  value: number;
}

export interface ResultReport {
  worker_id: string;
  attempt_id: string;
  succeeded: boolean;
  location: string;
  counters: CounterMessage[];
  reason: string;
  error: string;
  record: string;
  has_record: boolean;
  lost_map_task_id: string;
}

export interface ResultAck {
  accepted: boolean;
}

export interface CodeMessage {
  kind: string;
  source: string;
  command: string[];
}

export interface JobSpecMessage {
  name: string;
  input: string[];
  output: string;
  reducers: number;
  strategy: string;
  builtin: string;
  args: Record<string, string>;
  mapper: CodeMessage | null;
  reducer: CodeMessage | null;
  combiner: CodeMessage | null;
}

export interface JobRef {
  id: string;
}

export interface PhaseProgressMessage {
  done: number;
  total: number;
}

export interface JobMessage {
  id: string;
  name: string;
  state: string;
  map: PhaseProgressMessage;
  reduce: PhaseProgressMessage;
  output: string;
  error: string;
  created_at_ms: number;
  finished_at_ms: number;
  counters: CounterMessage[];
  json: string;
}

export interface ListJobsRequest {
  state: string;
  limit: number;
}

export interface JobList {
  jobs: JobMessage[];
}
