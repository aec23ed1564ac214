import { Type } from '@sinclair/typebox';
import { parseDurationMs } from '../core/config.js';
import { BadRequestError, NotFoundError } from '../core/errors.js';
import { TESSERA_VERSION, type HttpApp } from '../core/http-server.js';
import type { Registry } from './registry.js';
import {
  HeartbeatBodySchema,
  RegisterBodySchema,
  RoleSchema,
  ServerIdSchema,
  ServerListSchema,
  ServerRecordSchema,
  type ServerRecord,
} from './types.js';

/** Response header carrying the registry's change index (as Consul's `X-Consul-Index`). */
export const INDEX_HEADER = 'x-tessera-index';
const MAX_WAIT_MS = 10 * 60_000;

const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String() },
  { additionalProperties: true },
);
const ListQuery = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive')])),
  },
  { additionalProperties: false },
);
const ActiveQuery = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    index: Type.Optional(Type.Integer({ minimum: 0, description: 'Last index seen.' })),
    wait: Type.Optional(
      Type.String({ maxLength: 16, description: 'Longest hold, e.g. `30s` (default 5m).' }),
    ),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ server_id: ServerIdSchema });

export interface RegistryRouteOptions {
  readonly heartbeatTimeoutMs: number;
  readonly cleanupIntervalMs: number;
}

/** The registry's HTTP API: exactly the seed's endpoints, plus blocking queries. */
export function registerRegistryRoutes(
  app: HttpApp,
  registry: Registry,
  options: RegistryRouteOptions,
): void {
  const tags = ['registry'];
  app.get('/', { schema: { tags, summary: 'Registry status and counts' } }, async () => {
    const counts = registry.counts();
    return {
      service: 'tessera-registry',
      status: 'running',
      version: TESSERA_VERSION,
      total_servers: counts.total,
      active_servers: counts.active,
      inactive_servers: counts.inactive,
      roles: counts.byRole,
      heartbeat_timeout_s: options.heartbeatTimeoutMs / 1000,
      cleanup_interval_s: options.cleanupIntervalMs / 1000,
      index: registry.index,
    };
  });

  app.post(
    '/register',
    {
      schema: {
        tags,
        summary: 'Register a server (or refresh its registration)',
        body: RegisterBodySchema,
        response: { 200: ServerRecordSchema, 201: ServerRecordSchema, 400: Problem },
      },
    },
    async (request, reply) => {
      const { record, created } = await registry.register(request.body);
      return reply
        .code(created ? 201 : 200)
        .header(INDEX_HEADER, registry.index)
        .send(record);
    },
  );

  app.post(
    '/heartbeat',
    {
      schema: {
        tags,
        summary: 'Heartbeat of a registered server; 404 means: register again',
        body: HeartbeatBodySchema,
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            server_id: Type.String(),
            recovered: Type.Boolean(),
          }),
          404: Problem,
        },
      },
    },
    async (request) => {
      const outcome = await registry.heartbeat(request.body.server_id, request.body.metadata);
      if (!outcome) {
        throw new NotFoundError(
          `server ${request.body.server_id} is not registered; register it again`,
          { server_id: request.body.server_id },
        );
      }
      return {
        status: 'ok' as const,
        server_id: request.body.server_id,
        recovered: outcome.recovered,
      };
    },
  );

  app.get(
    '/servers',
    {
      schema: {
        tags,
        summary: 'Every known server',
        querystring: ListQuery,
        response: { 200: ServerListSchema },
      },
    },
    async (request, reply) => {
      const servers = registry.list(request.query);
      return reply.header(INDEX_HEADER, registry.index).send(listBody(servers, registry.index));
    },
  );

  app.get(
    '/servers/active',
    {
      schema: {
        tags,
        summary: 'Active servers; with `index` and `wait`, a blocking query',
        querystring: ActiveQuery,
        response: { 200: ServerListSchema, 400: Problem },
      },
    },
    async (request, reply) => {
      const { role, index, wait } = request.query;
      const waitMs = parseWait(wait); // validated even without `index`: bad input is a 400
      if (index !== undefined) {
        const aborted = new AbortController();
        request.raw.once('close', () => aborted.abort());
        await registry.waitForChange(index, waitMs, aborted.signal);
      }
      const servers = registry.list({ ...(role ? { role } : {}), status: 'active' });
      return reply.header(INDEX_HEADER, registry.index).send(listBody(servers, registry.index));
    },
  );

  app.get(
    '/servers/:server_id',
    {
      schema: {
        tags,
        summary: 'One server',
        params: IdParams,
        response: { 200: ServerRecordSchema, 404: Problem },
      },
    },
    async (request) => {
      const record = registry.get(request.params.server_id);
      if (!record) throw new NotFoundError(`no server with id ${request.params.server_id}`);
      return record;
    },
  );

  app.delete(
    '/servers/:server_id',
    {
      schema: {
        tags,
        summary: 'Remove a server from the registry (deregistration)',
        params: IdParams,
        response: {
          200: Type.Object({ status: Type.Literal('removed'), server_id: Type.String() }),
          404: Problem,
        },
      },
    },
    async (request) => {
      if (!(await registry.remove(request.params.server_id))) {
        throw new NotFoundError(`no server with id ${request.params.server_id}`);
      }
      return { status: 'removed' as const, server_id: request.params.server_id };
    },
  );
}

function listBody(servers: ServerRecord[], index: number) {
  return { servers, count: servers.length, index };
}

function parseWait(wait: string | undefined): number {
  if (wait === undefined) return 5 * 60_000;
  try {
    return Math.min(parseDurationMs(wait), MAX_WAIT_MS);
  } catch {
    throw new BadRequestError(
      `wait must be a duration such as 30s or 500ms, not ${JSON.stringify(wait)}`,
    );
  }
}
