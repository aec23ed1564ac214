/**
 * The master's in-process event stream (docs/mapreduce.md, "Events"): job state changes, task
 * state changes and progress. The MQTT bridge subscribes to it and publishes under
 * `tessera/jobs/<id>/...`; the dashboard and tests may subscribe too. Listeners run
 * synchronously inside the master's step: they must not throw and must not block.
 */
import { EventEmitter } from 'node:events';

/** A job's public state. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What each event carries. */
export interface JobEventMap {
  /** A job changed state (also sent once when it is submitted, as `queued`). */
  job: {
    id: string;
    state: JobState;
    name: string;
    output: string;
    error?: string;
    at_ms: number;
  };
  /** A task attempt started, succeeded, failed, was cancelled, or the task was dead-lettered. */
  task: {
    job_id: string;
    task_id: string;
    phase: 'map' | 'reduce';
    state: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'dead-lettered' | 'retry-scheduled';
    attempt: number;
    worker_id?: string;
    reason?: string;
  };
  /** Tasks done per phase; sent whenever a task finishes. */
  progress: {
    job_id: string;
    map: { done: number; total: number };
    reduce: { done: number; total: number };
  };
}

/** The event names. */
export type JobEventName = keyof JobEventMap;

/** A typed EventEmitter of `JobEventMap`. */
export class JobEvents extends EventEmitter {
  constructor() {
    super();
    // Subscribers are few (bridge, dashboard, tests); more is a leak worth a warning.
    this.setMaxListeners(32);
  }

  /** Subscribes to one event. */
  onEvent<K extends JobEventName>(name: K, listener: (event: JobEventMap[K]) => void): this {
    return this.on(name, listener);
  }

  /** Unsubscribes a listener added with `onEvent`. */
  offEvent<K extends JobEventName>(name: K, listener: (event: JobEventMap[K]) => void): this {
    return this.off(name, listener);
  }

  /** Emits one event; a throwing listener is isolated (the master's step must go on). */
  emitEvent<K extends JobEventName>(name: K, event: JobEventMap[K]): void {
    for (const listener of this.listeners(name)) {
      try {
        (listener as (event: JobEventMap[K]) => void)(event);
      } catch {
        // A subscriber's bug must not break scheduling; subscribers log their own errors.
      }
    }
  }
}
