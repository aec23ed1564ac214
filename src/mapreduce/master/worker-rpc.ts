/**
 * The master's side of the worker protocol (proto/mapreduce.proto, `WorkerService`):
 * registration, long-polled heartbeats that carry progress out and assignments back, and
 * result reports, each turned into scheduler inputs.
 *
 * Reconciliation on every heartbeat: an attempt the worker runs but the master does not expect
 * there is cancelled; an attempt the master expects there but the worker does not list, although
 * the reply that carried it was already seen by the worker (a later `seq`), failed as a `crash`
 * (the worker restarted, or the reply was lost). Workers start `seq` at their start time in
 * milliseconds, so a restarted worker's first heartbeat is later than any reply its previous
 * incarnation received.
 */
import { BadRequestError } from '../../core/errors.js';
import type {
  HeartbeatReply,
  HeartbeatRequest,
  RegisterReply,
  RegisterRequest,
  ResultAck,
  ResultReport,
  WorkerInfo,
} from '../grpc/messages.js';
import type { MapReduceMaster } from './master.js';
import {
  FAILURE_REASONS,
  runningAttempts,
  taskById,
  type AttemptId,
  type FailureReason,
  type TaskId,
} from './scheduler.js';
import type { JobRow } from './store.js';
import { asWorkerId, type WorkerId } from './strategies/index.js';

/** Longest a heartbeat is held when there is nothing to send. */
export const MAX_HEARTBEAT_WAIT_MS = 10_000;

/** Answers the worker RPCs. */
export class WorkerRpc {
  constructor(private readonly master: MapReduceMaster) {}

  register(request: RegisterRequest): RegisterReply {
    this.upsert(request.worker);
    this.master.tick();
    return { heartbeat_interval_ms: this.master.settings.heartbeatIntervalMs };
  }

  /** One heartbeat; `cancelled` tells whether the caller gave up (then nothing is handed out). */
  async heartbeat(request: HeartbeatRequest, cancelled: () => boolean): Promise<HeartbeatReply> {
    const id = this.upsert(request.worker);
    const reported = new Map(request.attempts.map((a) => [a.attempt_id, a.progress]));
    const cancels: string[] = [];
    const touched = new Set<JobRow>();
    for (const [attemptId, progress] of reported) {
      const outcome = this.onReported(id, attemptId, progress);
      if (outcome === 'cancel') cancels.push(attemptId);
      else if (outcome !== 'ok') touched.add(outcome);
    }
    for (const job of this.missingAttempts(id, reported, request.seq)) touched.add(job);
    for (const job of touched) void this.master.persistAndDeliver(job);
    if (touched.size > 0) this.master.tick();
    const purge = request.job_ids.filter((jobId) => {
      const job = this.master.jobRow(jobId);
      return job === undefined || job.state === 'succeeded' || job.state === 'cancelled';
    });
    await this.master.mail.waitForWork(id, Math.min(request.wait_ms, MAX_HEARTBEAT_WAIT_MS));
    if (cancelled())
      return { known: true, assignments: [], cancel_attempt_ids: cancels, purge_job_ids: [] };
    const box = this.master.mail.takeReady(id, request.seq);
    return {
      known: true,
      assignments: box.assignments,
      cancel_attempt_ids: [...cancels, ...box.cancels],
      purge_job_ids: purge,
    };
  }

  /** A result report; acknowledged once the resulting state is durable. */
  async reportResult(report: ResultReport): Promise<ResultAck> {
    const job = this.master.jobOf(report.attempt_id);
    const attemptId = report.attempt_id as AttemptId;
    const attempt = job?.schedule.attempts[attemptId];
    if (!job || !attempt) return { accepted: false };
    if (report.lost_map_task_id !== '') this.onLostMapOutput(job, attemptId, report);
    else if (report.succeeded) {
      const counters = Object.fromEntries(report.counters.map((c) => [c.name, c.value]));
      this.master.step(job, {
        kind: 'attempt-succeeded',
        attemptId,
        output: { location: report.location, counters },
      });
    } else {
      this.master.step(job, {
        kind: 'attempt-failed',
        attemptId,
        failure: {
          reason: asReason(report.reason),
          error: report.error || 'the task failed without a message',
          ...(report.has_record ? { record: report.record } : {}),
        },
      });
    }
    await this.master.persistAndDeliver(job);
    this.master.mail.forgetDelivery(attemptId);
    this.master.tick();
    const task = taskById(job.schedule, attempt.taskId);
    return { accepted: !report.succeeded || task?.output?.attemptId === attemptId };
  }

  /** A reducer could not fetch a map output: that map runs again, the reducer starts over. */
  private onLostMapOutput(job: JobRow, attemptId: AttemptId, report: ResultReport): void {
    const mapTask = taskById(job.schedule, report.lost_map_task_id as TaskId);
    const holder = mapTask?.output?.workerId;
    if (mapTask && holder) {
      this.master.step(job, { kind: 'map-output-lost', taskId: mapTask.id, workerId: holder });
    }
    if (job.schedule.attempts[attemptId]?.status === 'running') {
      this.master.step(job, {
        kind: 'attempt-failed',
        attemptId,
        failure: {
          reason: 'unreachable',
          error: report.error || 'a map output could not be fetched',
        },
      });
    }
  }

  private upsert(worker: WorkerInfo | null | undefined): WorkerId {
    if (!worker || worker.worker_id === '' || worker.url === '') {
      throw new BadRequestError('a worker must send its worker_id and url');
    }
    const id = asWorkerId(worker.worker_id);
    this.master.workers.heartbeat(id, {
      host: worker.host,
      url: worker.url,
      slots: Math.max(0, worker.slots),
      health: Math.min(1, Math.max(0, worker.health)),
      confirmed: true,
    });
    return id;
  }

  /** 'ok', 'cancel', or the job whose schedule a progress report changed. */
  private onReported(id: WorkerId, attemptId: string, progress: number): 'ok' | 'cancel' | JobRow {
    const job = this.master.jobOf(attemptId);
    const attempt = job?.schedule.attempts[attemptId];
    if (!job || !attempt || attempt.workerId !== id) return 'cancel';
    if (attempt.status !== 'running') return attempt.status === 'succeeded' ? 'ok' : 'cancel';
    // Only real progress keeps an attempt alive: a task stuck in user code times out.
    if (!(progress > attempt.progress + 1e-6)) return 'ok';
    this.master.step(job, { kind: 'attempt-progress', attemptId: attempt.id, progress });
    return 'ok';
  }

  /** Fails the attempts the worker should run but does not list. */
  private missingAttempts(
    id: WorkerId,
    reported: ReadonlyMap<string, number>,
    seq: number,
  ): JobRow[] {
    const touched: JobRow[] = [];
    for (const job of this.master.allJobs()) {
      if (job.schedule.status !== 'running') continue;
      for (const attempt of runningAttempts(job.schedule)) {
        if (attempt.workerId !== id || reported.has(attempt.id)) continue;
        if (this.master.mail.isUndelivered(id, attempt.id)) continue;
        const delivery = this.master.mail.deliveryOf(attempt.id);
        if (delivery !== undefined && delivery.seq >= seq) continue;
        this.master.step(job, {
          kind: 'attempt-failed',
          attemptId: attempt.id,
          failure: {
            reason: 'crash',
            error: `worker ${id} does not run it (it restarted, or never received it)`,
          },
        });
        this.master.mail.forgetDelivery(attempt.id);
        touched.push(job);
      }
    }
    return touched;
  }
}

function asReason(reason: string): FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(reason)
    ? (reason as FailureReason)
    : 'crash';
}
