/**
 * The master's messages to its workers (assignments and cancellations) between the scheduler
 * step that queues them and the heartbeat that carries them. A message is held until the step
 * is durable (persist, then send), then waits for the worker's next heartbeat, which a long-poll
 * releases at once. Delivered assignments remember the heartbeat `seq` they went out with, so
 * that a later heartbeat that does not list them shows the worker never started them.
 */
import type { Assignment } from '../grpc/messages.js';
import { attemptOutputPath } from './commit.js';
import { mapOutputLocations, type SchedulerEffect } from './scheduler.js';
import type { JobRow } from './store.js';

/** What a worker is to be told. */
export interface Outbox {
  assignments: Assignment[];
  cancels: string[];
}

const empty = (): Outbox => ({ assignments: [], cancels: [] });

/** Messages not yet durable, durable ones waiting for a heartbeat, and held heartbeats. */
export class Mailroom {
  /** Queued by steps not yet sealed. */
  private open = new Map<string, Outbox>();
  /** Sealed, being persisted. */
  private readonly persisting = new Set<Map<string, Outbox>>();
  /** Durable, waiting for the worker's next heartbeat. */
  private readonly ready = new Map<string, Outbox>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** attempt id -> heartbeat seq of the reply that carried it. */
  private readonly deliveries = new Map<string, { workerId: string; seq: number }>();
  private stopped = false;

  /** The open outbox of a worker (for the step being applied). */
  outbox(workerId: string): Outbox {
    let box = this.open.get(workerId);
    if (!box) {
      box = empty();
      this.open.set(workerId, box);
    }
    return box;
  }

  /** Seals the messages queued so far: `release()` once their step is durable, or `drop()`. */
  seal(): { release(): void; drop(): void } {
    const batch = this.open;
    this.open = new Map();
    this.persisting.add(batch);
    return {
      release: () => {
        this.persisting.delete(batch);
        for (const [workerId, box] of batch) {
          const ready = this.ready.get(workerId) ?? empty();
          ready.assignments.push(...box.assignments);
          ready.cancels.push(...box.cancels);
          this.ready.set(workerId, ready);
          this.wake(workerId);
        }
      },
      drop: () => {
        this.persisting.delete(batch);
      },
    };
  }

  /** Forgets the durable messages of a lost worker (its attempts fail anyway). */
  dropWorker(workerId: string): void {
    this.ready.delete(workerId);
  }

  /** Takes the durable messages of a worker, sent in the reply to heartbeat `seq`. */
  takeReady(workerId: string, seq: number): Outbox {
    const box = this.ready.get(workerId) ?? empty();
    this.ready.delete(workerId);
    for (const assignment of box.assignments) {
      this.deliveries.set(assignment.attempt_id, { workerId, seq });
    }
    return box;
  }

  /** Resolves when messages are ready for the worker, or after `waitMs`. */
  waitForWork(workerId: string, waitMs: number): Promise<void> {
    if (waitMs <= 0 || this.hasReady(workerId) || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.get(workerId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      let set = this.waiters.get(workerId);
      if (!set) {
        set = new Set();
        this.waiters.set(workerId, set);
      }
      set.add(done);
    });
  }

  /** Whether an assignment is queued for the worker but not handed over yet. */
  isUndelivered(workerId: string, attemptId: string): boolean {
    const queued = (box: Outbox | undefined): boolean =>
      box?.assignments.some((a) => a.attempt_id === attemptId) ?? false;
    if (queued(this.open.get(workerId)) || queued(this.ready.get(workerId))) return true;
    return [...this.persisting].some((batch) => queued(batch.get(workerId)));
  }

  /** The heartbeat that carried an assignment, if it was delivered by this master process. */
  deliveryOf(attemptId: string): { workerId: string; seq: number } | undefined {
    return this.deliveries.get(attemptId);
  }

  forgetDelivery(attemptId: string): void {
    this.deliveries.delete(attemptId);
  }

  /** Releases every held heartbeat and holds no more. */
  stop(): void {
    this.stopped = true;
    for (const workerId of [...this.waiters.keys()]) this.wake(workerId);
  }

  private hasReady(workerId: string): boolean {
    const box = this.ready.get(workerId);
    return box !== undefined && (box.assignments.length > 0 || box.cancels.length > 0);
  }

  private wake(workerId: string): void {
    for (const resolve of this.waiters.get(workerId) ?? []) resolve();
    this.waiters.delete(workerId);
  }
}

/** The message that starts an attempt: the task, the job's spec, and what the task reads. */
export function assignmentFor(
  job: JobRow,
  effect: Extract<SchedulerEffect, { kind: 'assign' }>,
): Assignment {
  const split = effect.phase === 'map' ? job.splits[effect.index] : undefined;
  const reduce = effect.phase === 'reduce';
  return {
    attempt_id: effect.attemptId,
    task_id: effect.taskId,
    job_id: job.id,
    phase: effect.phase,
    index: effect.index,
    spec_json: JSON.stringify(job.spec),
    reduce_count: job.spec.reducers,
    split: split
      ? {
          path: split.path,
          start: split.start,
          end: split.end,
          file_size: split.fileSize,
          ...(split.fileId === undefined ? {} : { file_id: split.fileId }),
        }
      : null,
    map_outputs: reduce
      ? mapOutputLocations(job.schedule).map((m) => ({
          task_id: m.taskId,
          index: m.index,
          location: m.output.location,
        }))
      : [],
    output_path: reduce ? attemptOutputPath(job.spec.output, effect.attemptId, effect.index) : '',
  };
}
