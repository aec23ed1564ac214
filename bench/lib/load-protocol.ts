/**
 * What the benchmark process and its separate load process (`bench/registry-load.ts`) say to
 * each other over the IPC channel of `child_process.fork`, and the parent's side of it.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './child-service.js';

/** One measurement: POST each body of `bodies` in turn to `url + path` for a while. */
export interface LoadRequest {
  readonly url: string;
  readonly path: string;
  /** JSON bodies, sent round-robin (one per registered server for heartbeats). */
  readonly bodies: readonly string[];
  /** Keep-alive connections of the undici Pool (pipelining 1). */
  readonly connections: number;
  /** Requests kept in flight at once. */
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The server's process id, to read its CPU time from /proc over the measured window. */
  readonly serverPid?: number;
}

/** What the load process measured during the window after the warm-up. */
export interface LoadResult {
  readonly requests: number;
  readonly requestsPerS: number;
  /** Answers other than 200 and transport errors, counted by status (or error code). */
  readonly failures: Record<string, number>;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly windowS: number;
  /** CPU the load process itself used, in cores (1 = one core busy all the window). */
  readonly loadCpuCores: number;
  /** CPU the server used over the window, in cores; absent when /proc is not readable. */
  readonly serverCpuCores?: number;
  /**
   * CPU the whole machine used over the window, in cores: beyond server + load process, this
   * is other work competing for the same cores (the figures are only as good as this is low).
   */
  readonly machineBusyCores?: number;
}

/** Runs one measurement in a fresh load process and answers its result. */
export function runLoadProcess(request: LoadRequest): Promise<LoadResult> {
  const child = fork(join(ROOT, 'bench', 'registry-load.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.once('message', (message: { result?: LoadResult; error?: string }) => {
      settled = true;
      if (message.result) resolve(message.result);
      else reject(new Error(`load process failed: ${message.error ?? 'no result'}`));
      child.disconnect();
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`load process exited with ${code} before answering`));
    });
    child.send(request);
  });
}
