/**
 * The master's Prometheus metrics: the KPIs of poneglyph-reduce.md ("Métricas Clave") —
 * success rate, task throughput per minute, worker health, circuit breaker states, retries and
 * dead letters — plus jobs and workers by state.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { circuitStateValue } from '../../core/breaker.js';
import type { MapReduceMaster, MasterObserver } from './master.js';
import { compositeScore } from './strategies/index.js';

/** Totals kept next to the Prometheus counters, for `/fault-tolerance/stats`. */
export interface TaskTotals {
  succeeded: number;
  failed: number;
  retries: number;
  deadLettered: number;
  breakerTransitions: number;
}

/** The master's metrics and the observer that feeds them. */
export interface MasterMetrics {
  readonly observer: MasterObserver;
  readonly totals: TaskTotals;
  /** Connects the gauges that read the master's state (after the master exists). */
  attach(master: MapReduceMaster): void;
}

/** Registers the master's metrics on `registry`. */
export function createMasterMetrics(registry: Registry): MasterMetrics {
  const totals: TaskTotals = {
    succeeded: 0,
    failed: 0,
    retries: 0,
    deadLettered: 0,
    breakerTransitions: 0,
  };
  const tasks = new Counter({
    name: 'tessera_mapreduce_tasks_total',
    help: 'Finished task attempts by phase and outcome (succeeded, failed).',
    labelNames: ['phase', 'outcome'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'tessera_mapreduce_task_retries_total',
    help: 'Task retries scheduled (exponential backoff with jitter).',
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'tessera_mapreduce_dead_letters_total',
    help: 'Tasks sent to the dead-letter queue after their retries.',
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'tessera_mapreduce_breaker_transitions_total',
    help: 'Worker circuit breaker state changes, by the state entered.',
    labelNames: ['to'] as const,
    registers: [registry],
  });
  const observer: MasterObserver = {
    taskFinished(phase, outcome) {
      tasks.inc({ phase, outcome });
      totals[outcome] += 1;
    },
    retryScheduled() {
      retries.inc();
      totals.retries += 1;
    },
    deadLettered() {
      deadLetters.inc();
      totals.deadLettered += 1;
    },
    breakerTransition(_worker, _from, to) {
      transitions.inc({ to });
      totals.breakerTransitions += 1;
    },
  };
  let master: MapReduceMaster | undefined;
  registerGauges(registry, totals, () => master);
  return {
    observer,
    totals,
    attach(attached) {
      master = attached;
    },
  };
}

/** The success rate of finished attempts, in [0, 1] (1 before any). */
export function successRate(totals: TaskTotals): number {
  const finished = totals.succeeded + totals.failed;
  return finished === 0 ? 1 : totals.succeeded / finished;
}

function registerGauges(
  registry: Registry,
  totals: TaskTotals,
  master: () => MapReduceMaster | undefined,
): void {
  const gauge = (
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: (g: Gauge<string>, m: MapReduceMaster) => void,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        const m = master();
        this.reset();
        if (m) collect(this, m);
      },
    });
  };
  gauge(
    'tessera_mapreduce_success_rate',
    'Succeeded over finished task attempts (0..1).',
    [],
    (g) => g.set(successRate(totals)),
  );
  gauge(
    'tessera_mapreduce_tasks_per_minute',
    'Task attempts finished in the last minute.',
    [],
    (g, m) => g.set(m.tasksPerMinute()),
  );
  gauge('tessera_mapreduce_dead_letter_queue_size', 'Tasks in the dead-letter queue.', [], (g, m) =>
    g.set(m.dlqStats().total),
  );
  gauge('tessera_mapreduce_jobs', 'Jobs by state.', ['state'], (g, m) => {
    const counts: Record<string, number> = {
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    };
    for (const job of m.allJobs()) counts[job.state] = (counts[job.state] ?? 0) + 1;
    for (const [state, count] of Object.entries(counts)) g.set({ state }, count);
  });
  gauge('tessera_mapreduce_workers', 'Workers by status (active, lost).', ['status'], (g, m) => {
    const views = m.workers.views({});
    g.set({ status: 'active' }, views.filter((w) => w.status === 'active').length);
    g.set({ status: 'lost' }, views.filter((w) => w.status === 'lost').length);
  });
  gauge(
    'tessera_mapreduce_worker_breaker_state',
    'Circuit breaker per worker: 0 closed, 1 half-open, 2 open.',
    ['worker'],
    (g, m) => {
      for (const view of m.workers.breakerViews())
        g.set({ worker: view.worker_id }, circuitStateValue(view.state));
    },
  );
  gauge(
    'tessera_mapreduce_worker_health',
    'Worker health: the smart_composite score over 100 (availability, health, efficiency, reliability).',
    ['worker'],
    (g, m) => {
      for (const figures of m.workers.figures(m.runningByWorker())) {
        g.set({ worker: figures.workerId }, compositeScore(figures).score / 100);
      }
    },
  );
}
