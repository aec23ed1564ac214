/**
 * The fault-tolerance API of poneglyph-reduce.md: `GET /fault-tolerance/stats`,
 * `/fault-tolerance/circuit-breakers`, `/fault-tolerance/dashboard`,
 * `GET /fault-tolerance/dead-letter-queue` and
 * `POST /fault-tolerance/dead-letter-queue/{task_id}/recover`.
 */
import { Type } from '@sinclair/typebox';
import type { HttpApp } from '../../core/http-server.js';
import type { MapReduceMaster } from './master.js';
import { successRate, type TaskTotals } from './metrics.js';
import { Problem } from './routes.js';
import { FAILURE_REASONS, type JobId } from './scheduler.js';

const Loose = Type.Object({}, { additionalProperties: true });

const DlqQuery = Type.Object(
  {
    job_id: Type.Optional(Type.String({ maxLength: 64 })),
    reason: Type.Optional(Type.Union(FAILURE_REASONS.map((r) => Type.Literal(r)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  },
  { additionalProperties: false },
);

const TaskParams = Type.Object({
  task_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
});

/** The figures of `/fault-tolerance/stats`. */
export function faultToleranceStats(
  master: MapReduceMaster,
  totals: TaskTotals,
): Record<string, unknown> {
  const breakers = master.workers.breakerViews();
  const workers = master.workers.views(master.runningByWorker());
  const count = (state: string): number => breakers.filter((b) => b.state === state).length;
  return {
    tasks: {
      succeeded: totals.succeeded,
      failed: totals.failed,
      retries: totals.retries,
      dead_lettered: totals.deadLettered,
      success_rate: successRate(totals),
      tasks_per_minute: master.tasksPerMinute(),
    },
    retry_policy: {
      max_retries: master.settings.scheduler.maxRetries,
      base_delay_ms: master.settings.scheduler.backoff.baseMs,
      max_delay_ms: master.settings.scheduler.backoff.maxMs,
      jitter: master.settings.scheduler.backoff.jitter,
      task_timeout_ms: master.settings.scheduler.taskTimeoutMs,
      unreachable_grace_ms: master.settings.scheduler.unreachableGraceMs,
    },
    circuit_breakers: {
      total: breakers.length,
      closed: count('CLOSED'),
      half_open: count('HALF_OPEN'),
      open: count('OPEN'),
      transitions: totals.breakerTransitions,
    },
    dead_letter_queue: master.dlqStats(),
    workers: {
      total: workers.length,
      active: workers.filter((w) => w.status === 'active').length,
      lost: workers.filter((w) => w.status === 'lost').length,
    },
  };
}

/** Registers the fault-tolerance routes. */
export function registerFaultToleranceRoutes(
  app: HttpApp,
  master: MapReduceMaster,
  totals: TaskTotals,
): void {
  const tags = ['fault-tolerance'];
  app.get(
    '/fault-tolerance/stats',
    {
      schema: {
        tags,
        summary: 'Retries, success rate, breakers, dead letters',
        response: { 200: Loose },
      },
    },
    async () => faultToleranceStats(master, totals),
  );
  app.get(
    '/fault-tolerance/circuit-breakers',
    {
      schema: {
        tags,
        summary: 'The circuit breaker of every worker',
        response: { 200: Type.Object({ breakers: Type.Array(Loose) }) },
      },
    },
    async () => ({ breakers: master.workers.breakerViews() }),
  );
  app.get(
    '/fault-tolerance/dashboard',
    {
      schema: {
        tags,
        summary: 'Stats, breakers, workers, dead letters and active jobs in one answer',
        response: { 200: Loose },
      },
    },
    async () => ({
      stats: faultToleranceStats(master, totals),
      circuit_breakers: master.workers.breakerViews(),
      workers: master.workers.views(master.runningByWorker()),
      dead_letter_queue: master.deadLetters({ limit: 20 }).entries,
      jobs: master.list({ limit: 20 }),
    }),
  );
  app.get(
    '/fault-tolerance/dead-letter-queue',
    {
      schema: {
        tags,
        summary: 'Dead-lettered tasks, newest first, with their reason and failing record',
        querystring: DlqQuery,
        response: {
          200: Type.Object({ total: Type.Integer(), entries: Type.Array(Loose), stats: Loose }),
        },
      },
    },
    async (request) => {
      const { job_id, reason, limit, offset } = request.query;
      const page = master.deadLetters({
        ...(job_id === undefined ? {} : { jobId: job_id as JobId }),
        ...(reason === undefined ? {} : { reason }),
        ...(limit === undefined ? {} : { limit }),
        ...(offset === undefined ? {} : { offset }),
      });
      return { total: page.total, entries: page.entries, stats: master.dlqStats() };
    },
  );
  app.post(
    '/fault-tolerance/dead-letter-queue/:task_id/recover',
    {
      schema: {
        tags,
        summary:
          'Take a task out of the dead-letter queue and run it again with a fresh retry budget',
        params: TaskParams,
        response: { 200: Loose, 404: Problem, 409: Problem },
      },
    },
    async (request) => master.recover(request.params.task_id),
  );
}
