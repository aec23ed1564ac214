/**
 * Read-only views of a job's schedule for the master and the dashboard: progress, counters,
 * map output locations for reducers, running attempts per worker, the next deadline to tick
 * at, and the invariants the tests check after every step. Pure.
 */
import type {
  AcceptedOutput,
  AttemptRecord,
  JobSchedule,
  SchedulerConfig,
  TaskId,
  TaskRecord,
} from './scheduler-model.pure.js';

/** Every task of the job, maps first. */
export function allTasks(state: JobSchedule): readonly TaskRecord[] {
  return [...state.maps, ...state.reduces];
}

/** The task with this id, if the job has it. */
export function taskById(state: JobSchedule, taskId: TaskId): TaskRecord | undefined {
  return allTasks(state).find((task) => task.id === taskId);
}

/** The job's live attempts. */
export function runningAttempts(state: JobSchedule): AttemptRecord[] {
  return allTasks(state).flatMap((task) =>
    task.running.flatMap((id) => {
      const attempt = state.attempts[id];
      return attempt ? [attempt] : [];
    }),
  );
}

/** Live attempts per worker id (for the workers' `runningTasks` figure). */
export function runningByWorker(state: JobSchedule): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const attempt of runningAttempts(state)) {
    counts[attempt.workerId] = (counts[attempt.workerId] ?? 0) + 1;
  }
  return counts;
}

/** Fraction done of each phase, in [0, 1]: finished tasks plus the best running attempt's progress. */
export function jobProgress(state: JobSchedule): { map: number; reduce: number } {
  const phase = (tasks: readonly TaskRecord[]): number => {
    if (tasks.length === 0) return 1;
    let done = 0;
    for (const task of tasks) {
      if (task.status === 'succeeded') done += 1;
      else done += Math.max(0, ...task.running.map((id) => state.attempts[id]?.progress ?? 0));
    }
    return done / tasks.length;
  };
  return { map: phase(state.maps), reduce: phase(state.reduces) };
}

/**
 * The job's counters: the sum over tasks of their accepted output's counters. Derived, never
 * accumulated, so each task counts exactly once however often it ran.
 */
export function jobCounters(state: JobSchedule): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const task of allTasks(state)) {
    for (const [name, value] of Object.entries(task.output?.counters ?? {})) {
      totals[name] = (totals[name] ?? 0) + value;
    }
  }
  return totals;
}

/** Where reducers fetch from: the accepted output of every finished map task, by map index. */
export function mapOutputLocations(
  state: JobSchedule,
): { readonly taskId: TaskId; readonly index: number; readonly output: AcceptedOutput }[] {
  return state.maps.flatMap((task) =>
    task.status === 'succeeded' && task.output
      ? [{ taskId: task.id, index: task.index, output: task.output }]
      : [],
  );
}

/**
 * The earliest time at which a tick changes something known in advance: a retry becoming
 * eligible or an attempt timing out. Null when none is pending. (Speculation and new workers
 * need ticks too: drivers also tick on a fixed period.)
 */
export function nextDeadlineMs(state: JobSchedule, config: SchedulerConfig): number | null {
  if (state.status !== 'running') return null;
  let next: number | null = null;
  const consider = (atMs: number): void => {
    next = next === null ? atMs : Math.min(next, atMs);
  };
  for (const task of allTasks(state)) if (task.status === 'failed') consider(task.notBeforeMs);
  for (const attempt of runningAttempts(state)) {
    consider(attempt.lastProgressAtMs + config.taskTimeoutMs);
  }
  return next;
}

/** Violations of the schedule's invariants (empty when sound); the tests check it every step. */
export function checkScheduleInvariants(state: JobSchedule): string[] {
  const problems: string[] = [];
  for (const task of allTasks(state)) problems.push(...taskProblems(state, task));
  const listed = new Set(allTasks(state).flatMap((task) => task.running));
  for (const attempt of Object.values(state.attempts)) {
    if (attempt.status === 'running' && !listed.has(attempt.id)) {
      problems.push(`${attempt.id} runs but its task does not list it`);
    }
  }
  const mapsDone = state.maps.every((t) => t.status === 'succeeded');
  if (!mapsDone && state.reduces.some((t) => t.running.length > 0)) {
    problems.push('a reduce task runs while a map task is unfinished');
  }
  if (state.status !== 'running' && listed.size > 0) {
    problems.push(`job is ${state.status} with live attempts`);
  }
  if (state.status === 'succeeded' && !allTasks(state).every((t) => t.status === 'succeeded')) {
    problems.push('job succeeded with unfinished tasks');
  }
  return problems;
}

function taskProblems(state: JobSchedule, task: TaskRecord): string[] {
  const problems: string[] = [];
  const running = task.running.map((id) => state.attempts[id]);
  if ((task.status === 'running') !== running.length > 0) {
    problems.push(`${task.id} is ${task.status} with ${running.length} live attempts`);
  }
  if (running.length > 2) problems.push(`${task.id} has ${running.length} live attempts`);
  if (running.some((a) => a?.status !== 'running' || a.taskId !== task.id)) {
    problems.push(`${task.id} lists an attempt that is not its live attempt`);
  }
  const workers = new Set(running.map((a) => a?.workerId));
  if (workers.size !== running.length) problems.push(`${task.id} runs twice on one worker`);
  if ((task.status === 'succeeded') !== (task.output !== null)) {
    problems.push(`${task.id} is ${task.status} with${task.output ? '' : 'out'} an output`);
  }
  const winner = task.output ? state.attempts[task.output.attemptId] : undefined;
  if (task.output && winner?.status !== 'succeeded') {
    problems.push(`${task.id}'s output comes from an attempt that did not succeed`);
  }
  return problems;
}
