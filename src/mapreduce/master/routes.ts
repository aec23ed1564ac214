/**
 * The master's HTTP API (schema-first, DESIGN.md rule 6): jobs (`POST /jobs`, `GET /jobs`,
 * `GET /jobs/{id}`, `DELETE /jobs/{id}`, `GET /jobs/{id}/tasks`) and `GET /workers`. Invalid
 * input answers 400 with a problem+json body; every answer about a job carries `id`.
 */
import { Type } from '@sinclair/typebox';
import type { HttpApp } from '../../core/http-server.js';
import { JobSpecSchema, normalizeJobSpec } from './job-spec.js';
import type { MapReduceMaster } from './master.js';

/** The problem+json body of an error answer. */
export const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String() },
  { additionalProperties: true },
);

const Phase = Type.Object({ done: Type.Integer(), total: Type.Integer(), fraction: Type.Number() });

/** A job as the API answers it. */
export const JobReply = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    state: Type.Union(
      ['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)),
    ),
    phase: Type.String(),
    output: Type.String(),
    progress: Type.Object({ map: Phase, reduce: Phase }),
    counters: Type.Record(Type.String(), Type.Number()),
    error: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: true },
);

const JobIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
});

const ListQuery = Type.Object(
  {
    state: Type.Optional(
      Type.Union(
        ['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => Type.Literal(s)),
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

const TaskReply = Type.Object(
  { task_id: Type.String(), phase: Type.String(), state: Type.String() },
  { additionalProperties: true },
);

const errors = { 400: Problem, 404: Problem, 409: Problem, 502: Problem, 503: Problem };

/** Registers the job and worker routes. */
export function registerJobRoutes(app: HttpApp, master: MapReduceMaster): void {
  const tags = ['jobs'];
  app.post(
    '/jobs',
    {
      bodyLimit: 8 * 1024 * 1024,
      schema: {
        tags,
        summary:
          'Submit a job (a builtin, or a mapper and reducer: JS modules or streaming commands)',
        body: JobSpecSchema,
        response: { 201: JobReply, ...errors },
      },
    },
    async (request, reply) => {
      const view = await master.submitSpec(normalizeJobSpec(request.body));
      return reply.code(201).header('location', `/jobs/${view.id}`).send(view);
    },
  );
  app.get(
    '/jobs',
    {
      schema: {
        tags,
        summary: 'Jobs, newest first',
        querystring: ListQuery,
        response: { 200: Type.Object({ jobs: Type.Array(JobReply) }), ...errors },
      },
    },
    async (request) => ({ jobs: master.list(request.query) }),
  );
  app.get(
    '/jobs/:id',
    {
      schema: {
        tags,
        summary: 'A job: state, progress per phase, counters, output',
        params: JobIdParams,
        response: { 200: JobReply, ...errors },
      },
    },
    async (request) => master.get(request.params.id),
  );
  app.delete(
    '/jobs/:id',
    {
      schema: {
        tags,
        summary: 'Cancel a job',
        params: JobIdParams,
        response: { 200: JobReply, ...errors },
      },
    },
    async (request) => master.cancel(request.params.id),
  );
  app.get(
    '/jobs/:id/tasks',
    {
      schema: {
        tags,
        summary: 'The tasks of a job, with their attempts, worker, progress and last failure',
        params: JobIdParams,
        response: {
          200: Type.Object({ id: Type.String(), tasks: Type.Array(TaskReply) }),
          ...errors,
        },
      },
    },
    async (request) => ({ id: request.params.id, tasks: master.tasks(request.params.id) }),
  );
  app.get(
    '/workers',
    {
      schema: {
        tags: ['workers'],
        summary: 'Workers with their figures, health and circuit breaker',
        response: {
          200: Type.Object({
            workers: Type.Array(
              Type.Object(
                { worker_id: Type.String(), status: Type.String() },
                { additionalProperties: true },
              ),
            ),
          }),
        },
      },
    },
    async () => ({ workers: master.workers.views(master.runningByWorker()) }),
  );
}
