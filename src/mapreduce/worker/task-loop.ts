/**
 * The worker's task loop: registers with the master, long-polls `Heartbeat` (reporting running
 * attempts with their progress, and the jobs it keeps data for), starts the tasks it is given
 * (up to its slots), cancels the attempts it is told to, deletes the data of finished jobs, and
 * reports each attempt's result until the master acknowledges it. When the master is down, the
 * tasks go on and the loop retries with backoff; grpc-js reconnects to a restarted master.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpStatusError, PeerUnavailableError } from '../../core/errors-http-client.js';
import type { HttpClient } from '../../core/http-client.js';
import type { Logger } from '../../core/logger.js';
import { FileChangedError, type DfsClient } from '../../dfs/index.js';
import type { Assignment, HeartbeatReply, ResultReport, WorkerInfo } from '../grpc/messages.js';
import { WorkerServiceClient } from '../grpc/worker-client.js';
import type { JobSpec } from '../master/job-spec.js';
import { LineTooLongError } from './line-reader.js';
import { jobDir, ShuffleFetchError } from './shuffle.js';
import { attemptDir, runMapTask, runReduceTask, type TaskResult } from './tasks.js';
import { describe, UserCodeError } from './user-code.js';

/** What the loop needs from its worker. */
export interface TaskLoopOptions {
  readonly info: () => WorkerInfo;
  readonly dataDir: string;
  readonly dfs: DfsClient;
  readonly http: HttpClient;
  readonly logger: Logger;
  /** The master's gRPC `host:port` (fixed, or looked up in the registry). */
  readonly resolveMaster: () => Promise<string>;
  readonly spillMemoryBytes: number;
  readonly parallelFetches: number;
}

interface Running {
  readonly assignment: Assignment;
  readonly controller: AbortController;
  progress: number;
}

/** The worker's side of the master protocol. */
export class TaskLoop {
  private readonly running = new Map<string, Running>();
  private readonly unacked = new Map<string, ResultReport>();
  private readonly jobIds = new Set<string>();
  private client: WorkerServiceClient | undefined;
  private seq = Date.now();
  private heartbeatIntervalMs = 1_000;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private masterReachable = true;

  constructor(private readonly options: TaskLoopOptions) {}

  /** Attempts running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Starts the loop (it does not wait for the master). */
  async start(): Promise<void> {
    for (const jobId of await readdir(join(this.options.dataDir, 'jobs')).catch(() => [])) {
      this.jobIds.add(jobId);
    }
    this.loop = this.run();
  }

  /** Cancels running attempts and stops talking to the master. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.running.values()) entry.controller.abort();
    this.client?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    let failures = 0;
    while (!this.stopped) {
      try {
        const client = await this.connect();
        const reply = await client.heartbeat(
          this.heartbeatRequest(),
          this.heartbeatIntervalMs + 10_000,
        );
        if (!this.masterReachable) this.options.logger.info('master reachable again');
        this.masterReachable = true;
        backoffMs = 100;
        failures = 0;
        await this.apply(reply);
      } catch (error) {
        if (this.stopped) return;
        if (this.masterReachable) {
          this.options.logger.warn({ err: error }, 'master unreachable; tasks go on, retrying');
        }
        this.masterReachable = false;
        failures += 1;
        if (failures % 5 === 0) this.resetClient(); // the master may have moved: look it up again
        await sleep(backoffMs);
        backoffMs = Math.min(2_000, backoffMs * 2);
      }
    }
  }

  private resetClient(): void {
    this.client?.close();
    this.client = undefined;
  }

  private async connect(): Promise<WorkerServiceClient> {
    if (this.client) return this.client;
    const address = await this.options.resolveMaster();
    const client = new WorkerServiceClient(address);
    const reply = await client.register({ worker: this.options.info() }).catch((error: unknown) => {
      client.close();
      throw error;
    });
    this.heartbeatIntervalMs = Math.max(50, reply.heartbeat_interval_ms || 1_000);
    this.client = client;
    this.options.logger.info({ master: address }, 'registered with the mapreduce master');
    return client;
  }

  private heartbeatRequest() {
    const attempts = [...this.running.values()].map((entry) => ({
      attempt_id: entry.assignment.attempt_id,
      progress: entry.progress,
    }));
    for (const id of this.unacked.keys()) {
      if (!this.running.has(id)) attempts.push({ attempt_id: id, progress: 1 });
    }
    this.seq += 1;
    return {
      worker: this.options.info(),
      seq: this.seq,
      attempts,
      job_ids: [...this.jobIds],
      wait_ms: this.heartbeatIntervalMs,
    };
  }

  private async apply(reply: HeartbeatReply): Promise<void> {
    for (const id of reply.cancel_attempt_ids) {
      const entry = this.running.get(id);
      if (entry) {
        this.options.logger.info({ attempt_id: id }, 'attempt cancelled by the master');
        entry.controller.abort();
      }
    }
    for (const assignment of reply.assignments) {
      if (!this.running.has(assignment.attempt_id)) this.startAttempt(assignment);
    }
    for (const jobId of reply.purge_job_ids) {
      const busy = [...this.running.values()].some((entry) => entry.assignment.job_id === jobId);
      if (busy || !/^[A-Za-z0-9_.-]+$/.test(jobId)) continue;
      this.jobIds.delete(jobId);
      await rm(jobDir(this.options.dataDir, jobId), { recursive: true, force: true });
    }
  }

  private startAttempt(assignment: Assignment): void {
    const entry: Running = { assignment, controller: new AbortController(), progress: 0 };
    this.running.set(assignment.attempt_id, entry);
    this.jobIds.add(assignment.job_id);
    this.options.logger.debug({ attempt_id: assignment.attempt_id }, 'attempt started');
    void this.execute(entry).finally(() => this.running.delete(assignment.attempt_id));
  }

  private async execute(entry: Running): Promise<void> {
    const { assignment, controller } = entry;
    let report: ResultReport;
    try {
      const result = await this.runAttempt(entry);
      report = successReport(this.options.info().worker_id, assignment, result);
    } catch (error) {
      if (controller.signal.aborted) {
        await rm(attemptDir({ dataDir: this.options.dataDir, assignment }), {
          recursive: true,
          force: true,
        });
        return;
      }
      this.options.logger.warn({ attempt_id: assignment.attempt_id, err: error }, 'attempt failed');
      report = failureReport(this.options.info().worker_id, assignment, error);
    }
    this.unacked.set(assignment.attempt_id, report);
    this.running.delete(assignment.attempt_id);
    await this.deliver(report);
  }

  private async runAttempt(entry: Running): Promise<TaskResult> {
    const { assignment } = entry;
    const ctx = {
      assignment,
      spec: JSON.parse(assignment.spec_json) as JobSpec,
      dfs: this.options.dfs,
      http: this.options.http,
      dataDir: this.options.dataDir,
      workerId: this.options.info().worker_id,
      workerUrl: this.options.info().url,
      signal: entry.controller.signal,
      spillMemoryBytes: this.options.spillMemoryBytes,
      parallelFetches: this.options.parallelFetches,
      setProgress: (progress: number) => {
        entry.progress = Math.max(entry.progress, Math.min(1, progress));
      },
    };
    return assignment.phase === 'map' ? runMapTask(ctx) : runReduceTask(ctx);
  }

  /** Reports a result until the master acknowledges it (or the worker stops). */
  private async deliver(report: ResultReport): Promise<void> {
    let backoffMs = 200;
    while (!this.stopped) {
      try {
        const client = await this.connect();
        const ack = await client.reportResult(report);
        if (!ack.accepted && report.succeeded) {
          this.options.logger.info(
            { attempt_id: report.attempt_id },
            'result not needed by the master',
          );
        }
        this.unacked.delete(report.attempt_id);
        return;
      } catch {
        await sleep(backoffMs);
        backoffMs = Math.min(2_000, backoffMs * 2);
      }
    }
  }
}

function emptyReport(workerId: string, assignment: Assignment): ResultReport {
  return {
    worker_id: workerId,
    attempt_id: assignment.attempt_id,
    succeeded: false,
    location: '',
    counters: [],
    reason: '',
    error: '',
    record: '',
    has_record: false,
    lost_map_task_id: '',
  };
}

function successReport(workerId: string, assignment: Assignment, result: TaskResult): ResultReport {
  return {
    ...emptyReport(workerId, assignment),
    succeeded: true,
    location: result.location,
    counters: Object.entries(result.counters).map(([name, value]) => ({ name, value })),
  };
}

/** A failed attempt's report, with the seed's categorized reason. */
export function failureReport(
  workerId: string,
  assignment: Assignment,
  error: unknown,
): ResultReport {
  const report = emptyReport(workerId, assignment);
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ShuffleFetchError) {
    return { ...report, reason: 'unreachable', error: message, lost_map_task_id: error.mapTaskId };
  }
  if (error instanceof UserCodeError) {
    return {
      ...report,
      reason: 'user-code',
      error: message,
      ...(error.record === undefined ? {} : { record: error.record, has_record: true }),
    };
  }
  if (error instanceof LineTooLongError) return { ...report, reason: 'bad-input', error: message };
  if (error instanceof FileChangedError) {
    const fix = 'MapReduce input must not change while a job runs: resubmit the job';
    return {
      ...report,
      reason: 'bad-input',
      error: `input ${message} since the job was submitted; ${fix}`,
    };
  }
  if (error instanceof HttpStatusError && (error.status === 404 || error.status === 416)) {
    return { ...report, reason: 'bad-input', error: `the input cannot be read: ${message}` };
  }
  if (error instanceof PeerUnavailableError)
    return { ...report, reason: 'unreachable', error: message };
  return { ...report, reason: 'crash', error: describe(error) };
}
