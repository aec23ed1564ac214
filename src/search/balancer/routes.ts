/**
 * The balancer's HTTP API (distrisearch-architecture.md: `GET /locate`, `POST /update_index`;
 * plus the heartbeat, the stats and the snapshots). Mounted on every search node: while the node
 * is not the leader, `getBalancer()` answers undefined and the request goes to `onNotLeader`,
 * which answers 409 with the leader (`throw notLeaderError(...)`) or forwards it.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../core/clock.js';
import { BadRequestError, ConflictError } from '../../core/errors.js';
import type { HttpApp } from '../../core/http-server.js';
import type { DataBalancer, LocatedNode } from './data-balancer.js';
import type { SearchNodeId } from './global-index.js';
import {
  HeartbeatBody,
  HeartbeatReply,
  LocateQuery,
  LocateReply,
  MAX_LOCATE_TERMS,
  MAX_TERM_LENGTH,
  Problem,
  SnapshotListReply,
  SnapshotSaveBody,
  SnapshotSaveReply,
  StatsReply,
  UpdateIndexBody,
  UpdateIndexReply,
  type UpdateIndexBodyType,
} from './schemas.js';
import type { BalancerSnapshotStore } from './snapshots.js';

/**
 * What a non-leader does with a balancer request: throw `notLeaderError(...)` (409), or forward
 * the request to the leader and send its answer on `reply`.
 */
export type NotLeaderHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface BalancerRouteOptions {
  /** Time source for liveness (default: the system clock). */
  readonly clock?: Clock;
  /** When given, `POST /balancer/snapshots` and `GET /balancer/snapshots` are served. */
  readonly snapshots?: BalancerSnapshotStore;
  /** Body limit of `POST /update_index`, which carries FULL reports (default 64 MiB). */
  readonly updateBodyLimitBytes?: number;
}

/** The 409 a non-leader answers: problem+json with `leader_id` and `leader_url` (null: unknown). */
export function notLeaderError(
  leaderId: SearchNodeId | undefined,
  leaderUrl: string | undefined,
): ConflictError {
  const known =
    leaderId === undefined ? 'no leader is known yet' : `the leader is node ${leaderId}`;
  return new ConflictError(`this node is not the leader; ${known}`, {
    leader_id: leaderId ?? null,
    leader_url: leaderUrl ?? null,
  });
}

/** Registers `GET /locate`, `POST /update_index` and the `/balancer/*` routes on `app`. */
export function registerBalancerRoutes(
  app: HttpApp,
  getBalancer: () => DataBalancer | undefined,
  onNotLeader: NotLeaderHandler,
  options: BalancerRouteOptions = {},
): void {
  const clock = options.clock ?? systemClock;
  const tags = ['balancer'];
  const errors = { 400: Problem, 409: Problem };

  app.get(
    '/locate',
    {
      schema: {
        tags,
        summary: 'The active nodes holding each term (OR over ?terms=a,b or ?q=term)',
        querystring: LocateQuery,
        response: { 200: LocateReply, ...errors },
      },
    },
    async (request, reply) => {
      const terms = locateTerms(request.query);
      const balancer = getBalancer();
      if (balancer === undefined) return handOff(onNotLeader, request, reply);
      const located = balancer.locate(terms, clock.nowMs());
      // Copies: the balancer's lists are frozen (shared with its cache), the reply type is not.
      const byTerm = Object.entries(located.terms).map(([term, nodes]): [string, LocatedNode[]] => [
        term,
        [...nodes],
      ]);
      return { terms: Object.fromEntries(byTerm), nodes: [...located.nodes] };
    },
  );

  app.post(
    '/update_index',
    {
      bodyLimit: options.updateBodyLimitBytes ?? 64 * 1024 * 1024,
      schema: {
        tags,
        summary: 'A node reports changed terms, or all of them (full: true); replays are ignored',
        body: UpdateIndexBody,
        response: { 200: UpdateIndexReply, ...errors },
      },
    },
    async (request, reply) => {
      const balancer = getBalancer();
      if (balancer === undefined) return handOff(onNotLeader, request, reply);
      const outcome = balancer.updateNodeIndex(toUpdate(request.body), clock.nowMs());
      return {
        status: 'ok' as const,
        applied: outcome.applied,
        full_required: outcome.fullRequired,
      };
    },
  );

  app.post(
    '/balancer/heartbeat',
    {
      schema: {
        tags,
        summary: 'Heartbeat of a search node with its figures (registers an unknown node)',
        body: HeartbeatBody,
        response: { 200: HeartbeatReply, ...errors },
      },
    },
    async (request, reply) => {
      const balancer = getBalancer();
      if (balancer === undefined) return handOff(onNotLeader, request, reply);
      const { node_id, url, doc_count, term_count, total_length } = request.body;
      const figures = { docCount: doc_count, termCount: term_count, totalLength: total_length };
      const outcome = balancer.heartbeat(node_id, url, figures, clock.nowMs());
      return { status: 'ok' as const, full_required: outcome.fullRequired };
    },
  );

  app.get(
    '/balancer/stats',
    {
      schema: {
        tags,
        summary: 'Nodes, terms, global BM25 statistics, cache and update counters',
        response: { 200: StatsReply, 409: Problem },
      },
    },
    async (request, reply) => {
      const balancer = getBalancer();
      if (balancer === undefined) return handOff(onNotLeader, request, reply);
      const stats = balancer.getStats(clock.nowMs());
      return { ...stats, nodes: [...stats.nodes] };
    },
  );

  if (options.snapshots !== undefined) {
    registerSnapshotRoutes(app, getBalancer, onNotLeader, options.snapshots);
  }
}

function registerSnapshotRoutes(
  app: HttpApp,
  getBalancer: () => DataBalancer | undefined,
  onNotLeader: NotLeaderHandler,
  store: BalancerSnapshotStore,
): void {
  const tags = ['balancer'];
  app.post(
    '/balancer/snapshots',
    {
      // An empty POST is a snapshot with a generated name.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: {
        tags,
        summary: 'Save a snapshot of the balancer now',
        body: SnapshotSaveBody,
        response: { 200: SnapshotSaveReply, 400: Problem, 409: Problem },
      },
    },
    async (request, reply) => {
      const balancer = getBalancer();
      if (balancer === undefined) return handOff(onNotLeader, request, reply);
      return store.save(balancer, request.body.name);
    },
  );

  app.get(
    '/balancer/snapshots',
    {
      schema: {
        tags,
        summary: 'The balancer snapshots in this node’s data dir, newest first',
        response: { 200: SnapshotListReply },
      },
    },
    async () => ({ snapshots: await store.list() }),
  );
}

/** Lets the non-leader handler answer; it must throw or send (else: a 409 without a leader). */
async function handOff<R extends FastifyReply>(
  onNotLeader: NotLeaderHandler,
  request: FastifyRequest,
  reply: R,
): Promise<R> {
  await onNotLeader(request, reply);
  if (!reply.sent) throw notLeaderError(undefined, undefined);
  return reply;
}

/** The terms of a locate query: `q` plus the comma-separated `terms`, without duplicates. */
function locateTerms(query: { q?: string; terms?: string }): string[] {
  const terms = new Set<string>();
  if (query.q !== undefined) terms.add(query.q);
  for (const term of (query.terms ?? '').split(',')) {
    const trimmed = term.trim();
    if (trimmed.length > MAX_TERM_LENGTH) {
      throw new BadRequestError(`a term has at most ${MAX_TERM_LENGTH} characters`);
    }
    if (trimmed !== '') terms.add(trimmed);
  }
  if (terms.size === 0) throw new BadRequestError('give a term as ?q=term or terms as ?terms=a,b');
  if (terms.size > MAX_LOCATE_TERMS) {
    throw new BadRequestError(`at most ${MAX_LOCATE_TERMS} terms per locate, got ${terms.size}`);
  }
  return [...terms];
}

function toUpdate(body: UpdateIndexBodyType): Parameters<DataBalancer['updateNodeIndex']>[0] {
  const added = Array.isArray(body.terms_added)
    ? Object.fromEntries(body.terms_added.map((term) => [term, 1]))
    : (body.terms_added ?? {});
  return {
    nodeId: body.node_id,
    seq: body.seq,
    added,
    removed: body.terms_removed ?? [],
    full: body.full === true,
    ...(body.url === undefined ? {} : { url: body.url }),
  };
}
