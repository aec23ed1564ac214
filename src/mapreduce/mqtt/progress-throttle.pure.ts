/**
 * Progress throttling (docs/mqtt.md, "Progress"): at most one progress message per job every
 * `intervalMs`. The first update after a quiet period goes out at once; later ones within the
 * interval are coalesced and the latest goes out when the interval ends (trailing edge), so the
 * last progress before a pause is never lost. A job's terminal state flushes its pending update.
 * Pure: the caller passes the time and owns the wake-up timers.
 */
import assert from 'node:assert/strict';

/** What the caller must do after an update. */
export interface ThrottleDecision<T> {
  /** Publish this now. */
  readonly publish?: T;
  /** Call `wake(jobId)` after this many milliseconds (no wake-up was pending). */
  readonly wakeInMs?: number;
}

interface JobEntry<T> {
  lastSentMs: number;
  pending: T | undefined;
  wakePending: boolean;
}

/** Per-job leading + trailing throttle. Tracks at most `maxJobs` jobs (oldest evicted first). */
export class ProgressThrottle<T> {
  private readonly jobs = new Map<string, JobEntry<T>>();

  constructor(
    readonly intervalMs: number,
    readonly maxJobs = 10_000,
  ) {
    assert.ok(intervalMs >= 0, 'intervalMs must be >= 0');
    assert.ok(Number.isInteger(maxJobs) && maxJobs >= 1, 'maxJobs must be an integer >= 1');
  }

  /** Jobs currently tracked. */
  get trackedJobs(): number {
    return this.jobs.size;
  }

  /** An update for `jobId` at `nowMs`. */
  offer(jobId: string, value: T, nowMs: number): ThrottleDecision<T> {
    const entry = this.jobs.get(jobId);
    if (entry === undefined) {
      this.evictIfFull();
      this.jobs.set(jobId, { lastSentMs: nowMs, pending: undefined, wakePending: false });
      return { publish: value };
    }
    if (!entry.wakePending && nowMs - entry.lastSentMs >= this.intervalMs) {
      entry.lastSentMs = nowMs;
      return { publish: value };
    }
    entry.pending = value;
    if (entry.wakePending) return {};
    entry.wakePending = true;
    return { wakeInMs: Math.max(0, entry.lastSentMs + this.intervalMs - nowMs) };
  }

  /** The wake-up asked for by `offer` is due: what to publish, if anything. */
  wake(jobId: string, nowMs: number): T | undefined {
    const entry = this.jobs.get(jobId);
    if (entry === undefined) return undefined;
    entry.wakePending = false;
    const pending = entry.pending;
    if (pending === undefined) return undefined;
    entry.pending = undefined;
    entry.lastSentMs = nowMs;
    return pending;
  }

  /** The job is over: forget it and return its pending update, if any, to publish now. */
  finish(jobId: string): T | undefined {
    const pending = this.jobs.get(jobId)?.pending;
    this.jobs.delete(jobId);
    return pending;
  }

  /** Forgets every job. */
  clear(): void {
    this.jobs.clear();
  }

  private evictIfFull(): void {
    if (this.jobs.size < this.maxJobs) return;
    // Prefer a job with nothing pending; insertion order makes the first one the oldest.
    for (const [jobId, entry] of this.jobs) {
      if (!entry.wakePending) {
        this.jobs.delete(jobId);
        return;
      }
    }
    const oldest = this.jobs.keys().next();
    if (oldest.done !== true) this.jobs.delete(oldest.value);
  }
}
