/**
 * The search node's public HTTP API (the seed's `POST /doc`, `GET /search`, `POST /route`,
 * `GET /status`, plus `POST /docs`, `GET|DELETE /doc/{doc_id}` and `POST /join`). Any node
 * answers any request. Schemas first: bad input is a 400 problem+json, never a 500.
 */
import { Type } from '@sinclair/typebox';
import type { HttpApp } from '../../core/http-server.js';
import { notLeaderError } from '../balancer/index.js';
import { binaryId, type RouteMessage } from '../hypercube/index.js';
import type { NodeContext } from './context.js';
import {
  asTesseraError,
  deleteDocument,
  readDocument,
  search,
  status,
  toStored,
  writeDocuments,
} from './operations.js';
import {
  DeleteReply,
  DocIdParams,
  DocReply,
  DocsBody,
  DocumentBody,
  ForgetDeparturesBody,
  ForgetDeparturesReply,
  JoinBody,
  JoinReply,
  Problem,
  RouteBody,
  RouteReply,
  SearchQuery,
  SearchReply,
  StatusReply,
  StoredDocReply,
  WriteReply,
} from './schemas.js';

const errors = { 400: Problem, 404: Problem, 409: Problem, 503: Problem };

/** Registers the public routes. */
export function registerPublicRoutes(app: HttpApp, node: () => NodeContext): void {
  const tags = ['search'];
  app.post(
    '/doc',
    {
      schema: {
        tags,
        summary: 'Index one document on its k owners (durable before the answer)',
        body: DocumentBody,
        response: { 201: DocReply, ...errors },
      },
    },
    async (request, reply) => {
      const summary = await writeDocuments(node(), [toStored(request.body)]);
      const nodes = summary.storedOn.get(request.body.doc_id) ?? [];
      return reply.code(201).send({ status: 'ok' as const, doc_id: request.body.doc_id, nodes });
    },
  );

  app.post(
    '/docs',
    {
      bodyLimit: 256 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Index a batch of documents (bulk indexing)',
        body: DocsBody,
        response: { 201: WriteReply, ...errors },
      },
    },
    async (request, reply) => {
      const summary = await writeDocuments(node(), request.body.documents.map(toStored));
      return reply.code(201).send({
        status: 'ok' as const,
        indexed: summary.indexed,
        replicated: summary.replicated,
        nodes: summary.nodes,
      });
    },
  );

  app.get(
    '/doc/:doc_id',
    {
      schema: {
        tags,
        summary: 'A document, from one of its owners',
        params: DocIdParams,
        response: { 200: StoredDocReply, ...errors },
      },
    },
    async (request) => readDocument(node(), request.params.doc_id),
  );

  app.delete(
    '/doc/:doc_id',
    {
      schema: {
        tags,
        summary: 'Delete a document from every node holding a copy',
        params: DocIdParams,
        response: { 200: DeleteReply, ...errors },
      },
    },
    async (request) => ({
      status: 'deleted' as const,
      doc_id: request.params.doc_id,
      nodes: await deleteDocument(node(), request.params.doc_id),
    }),
  );

  app.get(
    '/search',
    {
      schema: {
        tags,
        summary: 'Distributed search: BM25 with global statistics, proximity and RM3',
        querystring: SearchQuery,
        response: { 200: SearchReply, ...errors },
      },
    },
    async (request) => search(node(), request.query),
  );

  app.post(
    '/route',
    {
      schema: {
        tags,
        summary: 'Route a message through the hypercube (XOR routing); the destination answers',
        body: RouteBody,
        response: { 200: RouteReply, 400: Problem, 502: Problem },
      },
    },
    async (request) => node().router.route(request.body as RouteMessage),
  );

  app.get(
    '/status',
    {
      schema: {
        tags,
        summary: 'This node: ids, neighbours, leader, documents and terms',
        response: { 200: StatusReply },
      },
    },
    async () => status(node()),
  );

  app.post(
    '/departures/forget',
    {
      schema: {
        tags,
        summary:
          'Stop counting departed peers (their sole copies are lost for good): answers stop being partial',
        body: ForgetDeparturesBody,
        response: { 200: ForgetDeparturesReply, ...errors },
      },
    },
    async (request) => {
      const ctx = node();
      const forgotten = ctx.departures.forget(request.body.node_ids);
      if (forgotten.length > 0) {
        ctx.logger.warn({ node_ids: forgotten }, 'departed peers forgotten by an operator');
      }
      return {
        forgotten,
        departed_uncovered: ctx.departures.uncoveredIds(),
        documents_may_be_missing: ctx.departures.mayMissDocuments(),
      };
    },
  );

  app.post(
    '/join',
    {
      schema: {
        tags,
        summary: 'A new node asks the leader for the lowest free id',
        body: JoinBody,
        response: { 200: JoinReply, ...errors },
      },
    },
    async (request) => {
      const ctx = node();
      const leaderId = ctx.election.leaderId;
      if (leaderId === ctx.self) {
        const nodeId = ctx.joins.allocate(request.body.url, ctx.view.liveIds(), ctx.clock.nowMs());
        ctx.logger.info({ node_id: nodeId, url: request.body.url }, 'handed out a node id');
        return { node_id: nodeId, binary_id: binaryId(nodeId, ctx.dimensions) };
      }
      const leaderUrl = leaderId === null ? undefined : ctx.view.urlOf(leaderId);
      if (leaderUrl === undefined) throw notLeaderError(leaderId ?? undefined, undefined);
      try {
        return await ctx.http.postJson(`${leaderUrl}/join`, request.body, {
          maxRetries: 0,
          timeoutMs: 5_000,
        });
      } catch (error) {
        throw asTesseraError(error);
      }
    },
  );
}

/** A tiny OK body, for routes that answer nothing else. */
export const OkReply = Type.Object({ status: Type.Literal('ok') });
