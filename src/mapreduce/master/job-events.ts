/**
 * The payloads of the master's job events (events.ts) built from its job rows.
 */
import assert from 'node:assert/strict';
import type { JobEventMap } from './events.js';
import type { JobRow } from './store.js';

/** The states a `task` event reports. */
export type TaskEventState = JobEventMap['task']['state'];

/** The phase of a task id (`...-m-000003` or `...-r-000001`). */
export function phaseOf(taskId: string): 'map' | 'reduce' {
  const match = /-(m|r)-\d+$/.exec(taskId);
  assert.ok(match, `not a task id: ${taskId}`);
  return match[1] === 'm' ? 'map' : 'reduce';
}

/** A `job` event: the job's state now. */
export function jobEvent(job: JobRow, nowMs: number): JobEventMap['job'] {
  return {
    id: job.id,
    state: job.state,
    name: job.spec.name,
    output: job.spec.output,
    ...(job.error === null ? {} : { error: job.error }),
    at_ms: nowMs,
  };
}

/** A `task` event; the attempt number is the suffix of the attempt id (0 when none). */
export function taskEvent(
  jobId: string,
  taskId: string,
  state: TaskEventState,
  attemptId?: string,
  workerId?: string,
  reason?: string,
): JobEventMap['task'] {
  const attempt =
    attemptId === undefined ? 0 : Number(attemptId.slice(attemptId.lastIndexOf('.') + 1));
  return {
    job_id: jobId,
    task_id: taskId,
    phase: phaseOf(taskId),
    state,
    attempt,
    ...(workerId === undefined ? {} : { worker_id: workerId }),
    ...(reason === undefined ? {} : { reason }),
  };
}

/** A `progress` event: tasks done per phase. */
export function progressEvent(job: JobRow): JobEventMap['progress'] {
  const done = (tasks: readonly { status: string }[]): number =>
    tasks.filter((t) => t.status === 'succeeded').length;
  return {
    job_id: job.id,
    map: { done: done(job.schedule.maps), total: job.schedule.maps.length },
    reduce: { done: done(job.schedule.reduces), total: job.schedule.reduces.length },
  };
}
