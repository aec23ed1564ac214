/**
 * Node-to-node routes: `POST /election` (Bully messages), and the `/internal/*` calls the
 * coordinator, the write path and the repair loop make. They are validated like every route,
 * hidden from nothing (the OpenAPI document lists them under `internal`), and never forward.
 */
import { BadRequestError, NotFoundError } from '../../core/errors.js';
import type { HttpApp } from '../../core/http-server.js';
import type { NodeContext } from './context.js';
import { localDetails, localSearch, localStats, localTermVectors, toStored } from './operations.js';
import {
  DetailsBody,
  DetailsReply,
  DocIdParams,
  DocIdsBody,
  DocsBody,
  ElectionBody,
  HaveReply,
  InternalDocsReply,
  Problem,
  SearchBody,
  SearchLocalReply,
  StatsBody,
  TermVectorsReply,
  WireStats,
} from './schemas.js';
import { OkReply } from './routes.js';

/** Registers the node-to-node routes. */
export function registerInternalRoutes(app: HttpApp, node: () => NodeContext): void {
  const tags = ['internal'];
  const errors = { 400: Problem };

  app.post(
    '/election',
    {
      schema: {
        tags,
        summary: 'A Bully election message',
        body: ElectionBody,
        response: { 200: OkReply, ...errors },
      },
    },
    async (request) => {
      const ctx = node();
      const { type, from, to, url } = request.body;
      if (to !== ctx.self)
        throw new BadRequestError(`message for node ${to} reached node ${ctx.self}`);
      if (from === ctx.self)
        throw new BadRequestError('a node does not send election messages to itself');
      ctx.view.heardFrom(from, url);
      ctx.election.receive({ type, from, to });
      return { status: 'ok' as const };
    },
  );

  app.post(
    '/internal/docs',
    {
      bodyLimit: 256 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Store documents this node owns (durable before the answer)',
        body: DocsBody,
        response: { 200: InternalDocsReply, ...errors },
      },
    },
    async (request) => {
      const { local, repairer } = node();
      const indexed = await local.add(request.body.documents.map(toStored));
      repairer.storedFromPeer(request.body.documents.map((doc) => doc.doc_id));
      return { indexed };
    },
  );

  app.get(
    '/internal/doc/:doc_id',
    { schema: { tags, summary: 'A document held by this node', params: DocIdParams } },
    async (request) => {
      const doc = node().local.get(request.params.doc_id);
      if (doc === undefined)
        throw new NotFoundError(`node ${node().self} holds no document ${request.params.doc_id}`);
      return doc;
    },
  );

  app.delete(
    '/internal/doc/:doc_id',
    { schema: { tags, summary: 'Delete this node’s copy of a document', params: DocIdParams } },
    async (request) => ({ deleted: await node().local.delete(request.params.doc_id) }),
  );

  app.post(
    '/internal/stats',
    {
      schema: {
        tags,
        summary: 'Statistics of the documents this node is primary for',
        body: StatsBody,
        response: { 200: WireStats, ...errors },
      },
    },
    async (request) => localStats(node(), request.body),
  );

  app.post(
    '/internal/search',
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Score this node’s primary documents with the given global statistics',
        body: SearchBody,
        response: { 200: SearchLocalReply, ...errors },
      },
    },
    async (request) => localSearch(node(), request.body),
  );

  app.post(
    '/internal/term-vectors',
    {
      schema: {
        tags,
        summary: 'Term frequencies of held documents (RM3 feedback)',
        body: DocIdsBody,
        response: { 200: TermVectorsReply, ...errors },
      },
    },
    async (request) => localTermVectors(node(), request.body),
  );

  app.post(
    '/internal/details',
    {
      schema: {
        tags,
        summary: 'Metadata and highlighted snippets of held documents (a page of results)',
        body: DetailsBody,
        response: { 200: DetailsReply, ...errors },
      },
    },
    async (request) => localDetails(node(), request.body),
  );

  app.post(
    '/internal/have',
    {
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        tags,
        summary: 'Which of these documents this node lacks (repair)',
        body: DocIdsBody,
        response: { 200: HaveReply, ...errors },
      },
    },
    async (request) => ({ missing: node().local.missing(request.body.doc_ids) }),
  );
}
