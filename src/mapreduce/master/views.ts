/**
 * JSON views of jobs and tasks, as the HTTP API, the gRPC job service and the CLI show them.
 */
import type { JobRow } from './store.js';
import { jobCounters, jobProgress, type AttemptRecord, type TaskRecord } from './scheduler.js';

/** One phase's progress: tasks done of total, and the fraction including running attempts. */
export interface PhaseView {
  done: number;
  total: number;
  fraction: number;
}

/** A job as `GET /jobs/{id}` answers it. */
export interface JobView {
  id: string;
  name: string;
  state: string;
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
  progress: { map: PhaseView; reduce: PhaseView };
  counters: Record<string, number>;
  stats: Record<string, number>;
  error: string | null;
  /** The committed output files (only once the job succeeded). */
  output_files: string[];
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function phaseView(tasks: readonly TaskRecord[], fraction: number): PhaseView {
  return {
    done: tasks.filter((task) => task.status === 'succeeded').length,
    total: tasks.length,
    fraction: Math.round(fraction * 1000) / 1000,
  };
}

/** The name of reduce output file `index`. */
export function partName(index: number): string {
  return `part-r-${String(index).padStart(5, '0')}`;
}

/** The public view of a job. */
export function jobView(job: JobRow, nowMs: number): JobView {
  const progress = jobProgress(job.schedule);
  const end = job.finishedAtMs ?? (job.startedAtMs === null ? null : nowMs);
  return {
    id: job.id,
    name: job.spec.name,
    state: job.state,
    phase: job.schedule.phase,
    strategy: job.spec.strategy,
    builtin: job.spec.builtin,
    input: job.spec.input,
    output: job.spec.output,
    reducers: job.spec.reducers,
    created_at: new Date(job.createdAtMs).toISOString(),
    started_at: iso(job.startedAtMs),
    finished_at: iso(job.finishedAtMs),
    duration_ms: job.startedAtMs === null || end === null ? null : end - job.startedAtMs,
    progress: {
      map: phaseView(job.schedule.maps, progress.map),
      reduce: phaseView(job.schedule.reduces, progress.reduce),
    },
    counters: jobCounters(job.schedule),
    stats: { ...job.schedule.stats },
    error: job.error,
    output_files:
      job.state === 'succeeded'
        ? [
            ...job.schedule.reduces.map((task) => `${job.spec.output}/${partName(task.index)}`),
            `${job.spec.output}/_SUCCESS`,
          ]
        : [],
  };
}

/** One task as `GET /jobs/{id}/tasks` lists it. */
export interface TaskView {
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

/** The tasks of a job, maps first. */
export function taskViews(job: JobRow): TaskView[] {
  const attempts = job.schedule.attempts;
  return [...job.schedule.maps, ...job.schedule.reduces].map((task) => {
    const running = task.running
      .map((id) => attempts[id])
      .filter((a): a is AttemptRecord => a !== undefined);
    const split = task.phase === 'map' ? job.splits[task.index] : undefined;
    return {
      task_id: task.id,
      phase: task.phase,
      index: task.index,
      state: task.status,
      attempts: task.attemptsStarted,
      failures: task.totalFailures,
      worker_id: task.output?.workerId ?? running[0]?.workerId ?? null,
      progress: task.status === 'succeeded' ? 1 : Math.max(0, ...running.map((a) => a.progress)),
      split: split ? { path: split.path, start: split.start, end: split.end } : null,
      preferred_hosts: task.preferredHosts,
      last_failure: task.lastFailure ? { ...task.lastFailure } : null,
      duration_ms: task.durationMs,
      counters: { ...(task.output?.counters ?? {}) },
    };
  });
}
