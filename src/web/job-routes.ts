import { Type } from '@sinclair/typebox';
import { BadRequestError } from '../core/errors.js';
import type { HttpClient } from '../core/http-client.js';
import type { HttpApp } from '../core/http-server.js';
import { MASTER_ROLE, type JobView, type TaskView } from '../mapreduce/index.js';
import type {
  FaultToleranceView,
  JobDetails,
  JobList,
  JobsSummary,
  WireBreaker,
  WireDeadLetter,
  WireFaultToleranceStats,
  WireJob,
  WireTask,
  WireWorker,
} from './api-types.js';
import type { RoleCaller, RoleSpec } from './service-calls.js';

/** The MapReduce master, as the messages name it. */
export const MAPREDUCE_MASTER: RoleSpec = { role: MASTER_ROLE, label: 'MapReduce master' };

export interface JobRouteDeps {
  readonly caller: RoleCaller;
  readonly http: HttpClient;
}

const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const ListQuery = Type.Object(
  {
    state: Type.Optional(Type.Union(JOB_STATES.map((state) => Type.Literal(state)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
const JobParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
});
const TaskParams = Type.Object({
  task_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
});
/** The master validates the spec itself (its 400 reaches the browser with its words). */
const JobSpecBody = Type.Object({}, { additionalProperties: true });

const tags = ['web-jobs'];

/** Far deeper than any job spec (the deepest is `mapper.command[i]`), far below the stack. */
const MAX_SPEC_DEPTH = 32;

/** Whether a parsed JSON value nests deeper than `limit` (iterative: no stack to overflow). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= limit) return true;
    for (const child of Object.values(item.value))
      pending.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

/** Reads fail fast: a stuck master shows as failing, the page does not hang. */
const quick = { timeoutMs: 3_000, maxRetries: 0 } as const;
/** Submitting plans the job's splits (a DFS listing and stats), which may take longer. */
const slow = { timeoutMs: 30_000, maxRetries: 0 } as const;

/**
 * The Jobs page's API over the MapReduce master found in the registry (role
 * `mapreduce-master`): jobs (list, submit, details with tasks, cancel), the fault-tolerance
 * figures (workers, circuit breakers, retries, dead-letter queue) and recovering a
 * dead-lettered task. The master's own 4xx answers pass through; no master answering is a 503
 * that names why.
 */
export function registerJobRoutes(app: HttpApp, deps: JobRouteDeps): void {
  const master = <T>(
    path: string,
    call: (url: string) => Promise<T>,
    idempotent = true,
  ): Promise<{ url: string; value: T }> =>
    deps.caller
      .call(MAPREDUCE_MASTER, (server) => call(`${server.url}${path}`), { idempotent })
      .then(({ value, answeredBy }) => ({ url: answeredBy.url, value }));

  app.get(
    '/api/jobs',
    { schema: { tags, summary: 'Jobs, newest first', querystring: ListQuery } },
    async (request) => {
      const query = new URLSearchParams();
      if (request.query.state) query.set('state', request.query.state);
      if (request.query.limit) query.set('limit', String(request.query.limit));
      const { url, value } = await master(`/jobs?${query.toString()}`, (target) =>
        deps.http.getJson<{ jobs: JobView[] }>(target, quick),
      );
      const list: JobList = { master_url: url, jobs: value.jobs satisfies WireJob[] };
      return list;
    },
  );

  app.post(
    '/api/jobs',
    { bodyLimit: 8 * 1024 * 1024, schema: { tags, summary: 'Submit a job', body: JobSpecBody } },
    async (request, reply) => {
      // The master validates the spec; a value nested too deep to serialize never gets there.
      if (nestsDeeperThan(request.body, MAX_SPEC_DEPTH))
        throw new BadRequestError(`a job spec nests at most ${MAX_SPEC_DEPTH} levels deep`);
      const { value } = await master(
        '/jobs',
        (target) => deps.http.postJson<JobView>(target, request.body, slow),
        false,
      );
      const job: WireJob = value;
      return reply.code(201).send(job);
    },
  );

  app.get(
    '/api/jobs/:id',
    { schema: { tags, summary: 'A job with its tasks', params: JobParams } },
    async (request) => {
      const id = encodeURIComponent(request.params.id);
      const { url, value } = await master(`/jobs/${id}`, (target) =>
        Promise.all([
          deps.http.getJson<JobView>(target, quick),
          deps.http.getJson<{ tasks: TaskView[] }>(`${target}/tasks`, quick),
        ]),
      );
      const [job, { tasks }] = value;
      const details: JobDetails = { master_url: url, job, tasks: tasks satisfies WireTask[] };
      return details;
    },
  );

  app.delete(
    '/api/jobs/:id',
    { schema: { tags, summary: 'Cancel a job', params: JobParams } },
    async (request) => {
      const id = encodeURIComponent(request.params.id);
      const { value } = await master(`/jobs/${id}`, (target) =>
        deps.http.deleteJson<JobView>(target, quick),
      );
      const job: WireJob = value;
      return job;
    },
  );

  app.get(
    '/api/mapreduce/fault-tolerance',
    { schema: { tags, summary: 'Workers, circuit breakers, retries and the dead-letter queue' } },
    async () => {
      const { url, value } = await master('', (base) => readFaultTolerance(deps.http, base));
      const view: FaultToleranceView = { master_url: url, ...value };
      return view;
    },
  );

  app.post(
    '/api/mapreduce/dead-letter-queue/:task_id/recover',
    { schema: { tags, summary: 'Run a dead-lettered task again', params: TaskParams } },
    async (request) => {
      const taskId = encodeURIComponent(request.params.task_id);
      const path = `/fault-tolerance/dead-letter-queue/${taskId}/recover`;
      const { value } = await master(
        path,
        (target) => deps.http.postJson<Record<string, unknown>>(target, {}, quick),
        false,
      );
      return value;
    },
  );
}

async function readFaultTolerance(
  http: HttpClient,
  base: string,
): Promise<Omit<FaultToleranceView, 'master_url'>> {
  const [stats, workers, breakers, dlq] = await Promise.all([
    http.getJson<WireFaultToleranceStats>(`${base}/fault-tolerance/stats`, quick),
    http.getJson<{ workers: WireWorker[] }>(`${base}/workers`, quick),
    http.getJson<{ breakers: WireBreaker[] }>(`${base}/fault-tolerance/circuit-breakers`, quick),
    http.getJson<{ total: number; entries: WireDeadLetter[] }>(
      `${base}/fault-tolerance/dead-letter-queue?limit=100`,
      quick,
    ),
  ]);
  return {
    stats,
    workers: workers.workers,
    breakers: breakers.breakers,
    dead_letters: { total: dlq.total, entries: dlq.entries },
  };
}

/** The Overview's job figures: running and queued counts and the newest jobs. */
export async function readJobsSummary(deps: JobRouteDeps): Promise<JobsSummary> {
  const { value, answeredBy } = await deps.caller.call(MAPREDUCE_MASTER, (server) =>
    Promise.all(
      ['?state=running&limit=1000', '?state=queued&limit=1000', '?limit=5'].map((query) =>
        deps.http.getJson<{ jobs: JobView[] }>(`${server.url}/jobs${query}`, quick),
      ),
    ),
  );
  const [running, queued, recent] = value;
  return {
    master_url: answeredBy.url,
    running: running?.jobs.length ?? 0,
    queued: queued?.jobs.length ?? 0,
    recent: recent?.jobs ?? [],
  };
}
