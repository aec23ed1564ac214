/**
 * What the DFS benchmark says to its client process (`bench/lib/dfs-worker.ts`) over the IPC
 * channel of `child_process.fork`, and the parent's side of it. The client runs apart from the
 * benchmark so that its memory and CPU are its own, and so that it can be profiled alone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './child-service.js';

/** Longest wait for the client process to load its modules. */
const READY_TIMEOUT_MS = 60_000;
/** Longest job: a transfer, or the 100,000-file metadata load (slow on a busy machine). */
const JOB_TIMEOUT_MS = { transfer: 3 * 60_000, metaLoad: 10 * 60_000 };

/** One job for the client process. */
export type WorkerRequest =
  /** Ceiling upload: one read of `file`, fanned out as one streamed PUT to each URL at once. */
  | { readonly op: 'ceiling-put'; readonly file: string; readonly urls: readonly string[] }
  /** Ceiling download: one streamed GET written to `dest`, fsynced. */
  | { readonly op: 'ceiling-get'; readonly url: string; readonly dest: string }
  /** `DfsClient.putFile`. */
  | {
      readonly op: 'dfs-put';
      readonly metaUrl: string;
      readonly local: string;
      readonly remote: string;
      readonly parallelChunks?: number;
    }
  /** `DfsClient.getFile`. */
  | {
      readonly op: 'dfs-get';
      readonly metaUrl: string;
      readonly remote: string;
      readonly local: string;
      readonly parallelChunks?: number;
    }
  /** Upload-init + commit of `files` one-chunk files under `prefix`, `inFlight` at once. */
  | {
      readonly op: 'meta-load';
      readonly metaUrl: string;
      readonly prefix: string;
      readonly files: number;
      readonly inFlight: number;
    };

/** A transfer's outcome, timed inside the client process. */
export interface TransferResult {
  readonly bytes: number;
  readonly ms: number;
}

/** The metadata load's outcome. */
export interface MetaLoadResult {
  readonly created: number;
  readonly ms: number;
  /** Failed files by HTTP status or error code. */
  readonly failures: Record<string, number>;
  /** Latency of one file's upload-init + commit, in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export type WorkerReply =
  | { readonly ok: true; readonly result: TransferResult | MetaLoadResult }
  | { readonly ok: false; readonly error: string };

/** A running client process. */
export interface DfsWorker {
  readonly pid: number;
  run(request: Extract<WorkerRequest, { op: 'meta-load' }>): Promise<MetaLoadResult>;
  run(request: Exclude<WorkerRequest, { op: 'meta-load' }>): Promise<TransferResult>;
  /** Ends the process (which then writes its CPU profile, if it was started with one). */
  stop(): Promise<void>;
}

/**
 * Forks the client process (`nodeFlags` go before tsx, e.g. `--cpu-prof`) and resolves once it
 * has loaded its modules, so that its first measured job does not include its start-up.
 */
export async function startWorker(nodeFlags: readonly string[] = []): Promise<DfsWorker> {
  const child = fork(join(ROOT, 'bench', 'lib', 'dfs-worker.ts'), [], {
    cwd: ROOT,
    execArgv: [...nodeFlags, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('dfs worker not ready in time'));
    }, READY_TIMEOUT_MS);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    void exited.then(() => reject(new Error('dfs worker exited before it was ready')));
  });
  const run = (request: WorkerRequest): Promise<TransferResult | MetaLoadResult> =>
    ask(child, exited, request);
  return {
    pid: child.pid ?? -1,
    run: run as DfsWorker['run'],
    async stop() {
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function ask(
  child: ChildProcess,
  exited: Promise<void>,
  request: WorkerRequest,
): Promise<TransferResult | MetaLoadResult> {
  return new Promise((resolve, reject) => {
    // A job that hangs (a stalled peer, a lost reply) fails the run instead of blocking it.
    const timeoutMs =
      request.op === 'meta-load' ? JOB_TIMEOUT_MS.metaLoad : JOB_TIMEOUT_MS.transfer;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dfs worker: ${request.op} took longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onReply = (reply: WorkerReply): void => {
      clearTimeout(timer);
      if (reply.ok) resolve(reply.result);
      else reject(new Error(`dfs worker: ${request.op} failed: ${reply.error}`));
    };
    child.once('message', onReply);
    void exited.then(() => {
      clearTimeout(timer);
      child.off('message', onReply);
      reject(new Error(`dfs worker exited during ${request.op}`));
    });
    child.send(request);
  });
}
