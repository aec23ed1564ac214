/**
 * The dead-letter queue of the fault-tolerance middleware (poneglyph-reduce.md, "Dead Letter
 * Queue": capacity 1000, manual recovery over HTTP, categorized failure reasons) as a pure,
 * immutable model. The master persists it and serves it at
 * `GET /fault-tolerance/dead-letter-queue`; `POST .../{task_id}/recover` takes the entry out
 * (`dlqRemove`) and feeds `{kind: 'recover'}` to the task's job schedule.
 *
 * Entries are keyed by `task_id` (a task id names its job): a task is in the queue at most once.
 *
 * Eviction: when the queue is full, adding an entry evicts the OLDEST one (by `at`, then by
 * insertion), as the seed's `deque(maxlen=1000)` does, and returns it so the master can log
 * and count it. The evicted task stays dead-lettered in its job: that job stays failed and can
 * no longer be recovered through the queue (it can be resubmitted). Oldest-first keeps the
 * failures an operator is most likely still looking at; a full queue is itself the signal
 * (the `utilization` of `dlqStats`) that something systematic is wrong.
 *
 * Memory is bounded: at most `capacity` entries, each with `error` cut to 4096 characters and
 * `record` to 1024 (the scheduler already cuts them; the queue does it again for other callers).
 */
import assert from 'node:assert/strict';
import {
  FAILURE_REASONS,
  MAX_ERROR_CHARS,
  MAX_RECORD_CHARS,
  type DeadLetterEntry,
  type FailureReason,
  type JobId,
  type TaskId,
} from './scheduler.js';

export type { DeadLetterEntry } from './scheduler.js';

/** The seed's capacity. */
export const DEFAULT_DLQ_CAPACITY = 1000;

/** The queue: entries oldest first, plus how many were evicted so far. Plain JSON. */
export interface DeadLetterQueue {
  readonly capacity: number;
  readonly entries: readonly DeadLetterEntry[];
  readonly evicted: number;
}

/** An empty queue. */
export function createDeadLetterQueue(capacity = DEFAULT_DLQ_CAPACITY): DeadLetterQueue {
  assert.ok(Number.isInteger(capacity) && capacity >= 1, 'capacity must be an integer >= 1');
  return { capacity, entries: [], evicted: 0 };
}

/**
 * Adds an entry. An entry for the same task replaces the old one (the task failed again after
 * a recovery). When the queue is full the oldest entries are evicted and returned.
 */
export function dlqAdd(
  queue: DeadLetterQueue,
  entry: DeadLetterEntry,
): { queue: DeadLetterQueue; evicted: DeadLetterEntry[] } {
  const bounded = boundEntry(entry);
  const others = queue.entries.filter((e) => e.task_id !== entry.task_id);
  const entries = insertByTime(others, bounded);
  const excess = Math.max(0, entries.length - queue.capacity);
  const evicted = entries.slice(0, excess);
  return {
    queue: { ...queue, entries: entries.slice(excess), evicted: queue.evicted + excess },
    evicted,
  };
}

/** Takes a task's entry out (for recovery); `entry` is null when the task is not in the queue. */
export function dlqRemove(
  queue: DeadLetterQueue,
  taskId: TaskId,
): { queue: DeadLetterQueue; entry: DeadLetterEntry | null } {
  const entry = queue.entries.find((e) => e.task_id === taskId) ?? null;
  if (entry === null) return { queue, entry };
  return { queue: { ...queue, entries: queue.entries.filter((e) => e !== entry) }, entry };
}

/** Removes every entry of a job (cancelled or deleted), returning how many went. */
export function dlqRemoveJob(
  queue: DeadLetterQueue,
  jobId: JobId,
): { queue: DeadLetterQueue; removed: number } {
  const entries = queue.entries.filter((e) => e.job_id !== jobId);
  return { queue: { ...queue, entries }, removed: queue.entries.length - entries.length };
}

/** A task's entry, or null. */
export function dlqGet(queue: DeadLetterQueue, taskId: TaskId): DeadLetterEntry | null {
  return queue.entries.find((e) => e.task_id === taskId) ?? null;
}

/** Filters and paging of `dlqList`. */
export interface DlqQuery {
  readonly jobId?: JobId;
  readonly reason?: FailureReason;
  /** Default 100. */
  readonly limit?: number;
  readonly offset?: number;
}

/** Entries newest first, filtered, one page; `total` counts the matches before paging. */
export function dlqList(
  queue: DeadLetterQueue,
  query: DlqQuery = {},
): { entries: DeadLetterEntry[]; total: number } {
  const matches = queue.entries
    .filter((e) => query.jobId === undefined || e.job_id === query.jobId)
    .filter((e) => query.reason === undefined || e.reason === query.reason)
    .reverse();
  const offset = Math.max(0, query.offset ?? 0);
  const limit = Math.max(0, query.limit ?? 100);
  return { entries: matches.slice(offset, offset + limit), total: matches.length };
}

/** The seed's statistics: size, capacity, utilization (%), counts per reason, evictions. */
export interface DlqStats {
  readonly total: number;
  readonly capacity: number;
  readonly utilization: number;
  readonly byReason: Readonly<Record<FailureReason, number>>;
  readonly evicted: number;
}

/** Statistics of the queue, for `/fault-tolerance/stats` and metrics. */
export function dlqStats(queue: DeadLetterQueue): DlqStats {
  const byReason = Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<
    FailureReason,
    number
  >;
  for (const entry of queue.entries) byReason[entry.reason] += 1;
  return {
    total: queue.entries.length,
    capacity: queue.capacity,
    utilization: (queue.entries.length / queue.capacity) * 100,
    byReason,
    evicted: queue.evicted,
  };
}

/** Entries stay ordered by `at` (then insertion), so eviction takes the oldest failure. */
function insertByTime(
  entries: readonly DeadLetterEntry[],
  entry: DeadLetterEntry,
): DeadLetterEntry[] {
  let at = entries.length;
  while (at > 0 && (entries[at - 1]?.at ?? 0) > entry.at) at -= 1;
  return [...entries.slice(0, at), entry, ...entries.slice(at)];
}

function boundEntry(entry: DeadLetterEntry): DeadLetterEntry {
  return {
    ...entry,
    error: entry.error.slice(0, MAX_ERROR_CHARS),
    ...(entry.record === undefined ? {} : { record: entry.record.slice(0, MAX_RECORD_CHARS) }),
  };
}
