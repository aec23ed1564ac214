/**
 * The node's operations behind its HTTP routes: writes placed on the owners, reads and deletes
 * of one document, the distributed search, and the node-to-node operations (also delivered as
 * route payloads). Routes validate; these do the work.
 */
import { performance } from 'node:perf_hooks';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  BadRequestError,
  NotFoundError,
  TesseraError,
  UnavailableError,
} from '../../core/errors.js';
import { HttpStatusError } from '../../core/errors-http-client.js';
import { placeDocument } from '../balancer/index.js';
import { binaryId, neighbors } from '../hypercube/index.js';
import { analyzeQuery, parseLanguage, type StoredDocument } from '../index/index.js';
import type { NodeContext } from './context.js';
import { coordinateSearch, type NodeCaller, type RemoteSearch } from './coordinator.js';
import type { HitDetails, RemoteSearchReply } from './local-node.js';
import {
  DetailsBody,
  DocIdsBody,
  SearchBody,
  StatsBody,
  type DetailsBodyType,
  type DocumentBodyType,
  type SearchBodyType,
  type SearchQueryType,
  type StatsBodyType,
  type StatusReplyType,
  type WireStatsType,
} from './schemas.js';
import type { PeerOp } from './transport.js';
import { placeAndStore } from './writer.js';

/** A client document as stored (metadata defaults to {}). */
export function toStored(doc: DocumentBodyType): StoredDocument {
  return { doc_id: doc.doc_id, content: doc.content, metadata: doc.metadata ?? {} };
}

/** What a write answers. */
export interface WriteSummary {
  indexed: number;
  replicated: number;
  nodes: Record<string, number>;
  storedOn: Map<string, number[]>;
}

/** Places documents on their owners and stores them; throws 503 if a document found no node. */
export async function writeDocuments(
  ctx: NodeContext,
  docs: readonly StoredDocument[],
): Promise<WriteSummary> {
  const outcome = await placeAndStore(
    docs,
    ctx.view.liveIds(),
    async (nodeId, batch) => {
      if (nodeId === ctx.self) await ctx.local.add(batch);
      else
        await ctx.transport.post(
          nodeId,
          '/internal/docs',
          { documents: batch },
          ctx.writeTimeoutMs,
        );
    },
    { k: ctx.replicas, chunkDocs: ctx.chunkDocs, onNodeFailed: (id) => ctx.view.suspect(id) },
  );
  if (outcome.underReplicated > 0 || outcome.failedNodes.length > 0) ctx.repairer.markDirty();
  if (outcome.failedDocs.length > 0) {
    throw new UnavailableError(
      `${outcome.failedDocs.length} of ${docs.length} documents could not be stored on any node ` +
        `(failed nodes: ${outcome.failedNodes.join(', ') || 'none'}); retry them`,
    );
  }
  const nodes: Record<string, number> = {};
  let replicated = 0;
  const want = Math.min(ctx.replicas, ctx.view.liveIds().length);
  for (const stored of outcome.storedOn.values()) {
    if (stored.length >= want) replicated += 1;
    for (const nodeId of stored) nodes[nodeId] = (nodes[nodeId] ?? 0) + 1;
  }
  ctx.metrics.documentsWritten.inc(outcome.storedOn.size);
  return { indexed: outcome.storedOn.size, replicated, nodes, storedOn: outcome.storedOn };
}

/** Every live node, in the document's placement order (its owners first). */
function placementOrder(ctx: NodeContext, docId: string): number[] {
  const live = ctx.view.liveIds();
  return placeDocument(docId, live, live.length);
}

/** Reads a document from its owners (then from any live node). */
export async function readDocument(
  ctx: NodeContext,
  docId: string,
): Promise<StoredDocument & { node_id: number }> {
  let unavailable = 0;
  for (const nodeId of placementOrder(ctx, docId)) {
    if (nodeId === ctx.self) {
      const doc = ctx.local.get(docId);
      if (doc !== undefined) return { ...doc, node_id: ctx.self };
      continue;
    }
    try {
      const doc = await ctx.transport.get<StoredDocument>(
        nodeId,
        `/internal/doc/${encodeURIComponent(docId)}`,
      );
      return { ...doc, node_id: nodeId };
    } catch (error) {
      if (!(error instanceof HttpStatusError && error.status === 404)) unavailable += 1;
    }
  }
  if (unavailable > 0)
    throw new UnavailableError(
      `document ${docId} not found; ${unavailable} node(s) did not answer`,
    );
  throw new NotFoundError(`no document with id ${docId}`);
}

/** Deletes a document on every live node that holds a copy. */
export async function deleteDocument(ctx: NodeContext, docId: string): Promise<number[]> {
  const results = await Promise.all(
    ctx.view.liveIds().map(async (nodeId): Promise<[number, boolean | undefined]> => {
      try {
        if (nodeId === ctx.self) return [nodeId, await ctx.local.delete(docId)];
        const reply = await ctx.transport.delete<{ deleted: boolean }>(
          nodeId,
          `/internal/doc/${encodeURIComponent(docId)}`,
        );
        return [nodeId, reply.deleted];
      } catch {
        ctx.view.suspect(nodeId);
        return [nodeId, undefined];
      }
    }),
  );
  const deleted = results.filter(([, done]) => done === true).map(([nodeId]) => nodeId);
  if (deleted.length > 0) return deleted;
  if (results.some(([, done]) => done === undefined)) {
    throw new UnavailableError(
      `document ${docId} was not found on the nodes that answered; some did not`,
    );
  }
  throw new NotFoundError(`no document with id ${docId}`);
}

/** The answer of `GET /search`. */
export interface SearchAnswer {
  query: string;
  total: number;
  took_ms: number;
  nodes_queried: number[];
  partial: boolean;
  results: {
    doc_id: string;
    score: number;
    node_id: number;
    snippet: string;
    metadata: Record<string, unknown>;
  }[];
}

/** Reaches the nodes for the coordinator, locally or through the transport. */
function nodeCaller(ctx: NodeContext): NodeCaller {
  return {
    stats: (nodeId, terms, live) =>
      ctx.transport.call<WireStatsType>(nodeId, 'stats', { terms, live }),
    search: async (nodeId, body: RemoteSearch) =>
      ctx.transport.call<RemoteSearchReply>(nodeId, 'search', { ...body }),
    termVectors: async (nodeId, docIds) =>
      (
        await ctx.transport.call<{ vectors: Record<string, Record<string, number>> }>(
          nodeId,
          'term_vectors',
          {
            doc_ids: docIds,
          },
        )
      ).vectors,
    details: async (nodeId, docIds, terms, snippets) =>
      (
        await ctx.transport.call<{ details: Record<string, HitDetails> }>(nodeId, 'details', {
          doc_ids: docIds,
          terms,
          snippets,
        })
      ).details,
  };
}

/** The distributed search of `GET /search` (see coordinator.ts). */
export async function search(ctx: NodeContext, query: SearchQueryType): Promise<SearchAnswer> {
  const started = performance.now();
  const language = parseLanguage(query.lang ?? 'en');
  if (language === undefined)
    throw new BadRequestError(`unknown language ${JSON.stringify(query.lang)}; use en or es`);
  const live = ctx.view.liveIds();
  const terms = analyzeQuery(query.q, language).map((term) => term.term);
  // Locate only matters when a node this one knows of is not live: it may hold query terms.
  const missingKnown = ctx.view.knownIds().some((id) => !live.includes(id));
  const locating = missingKnown ? ctx.balancer.locate(terms) : undefined;
  const outcome = await coordinateSearch(
    nodeCaller(ctx),
    live,
    {
      text: query.q,
      k: query.k,
      offset: query.offset,
      language,
      feedback: query.feedback ?? true,
      snippets: query.snippets ?? true,
      search: {
        ...(query.scoring === undefined ? {} : { scoring: query.scoring }),
        ...(query.proximity === undefined ? {} : { proximity: query.proximity }),
      },
    },
    {
      onNodeFailed: (nodeId) => ctx.view.suspect(nodeId),
      statsCache: ctx.statsCache,
      feedbackCache: ctx.feedbackCache,
    },
  );
  const located =
    (await locating) ?? (outcome.failed.length > 0 ? await ctx.balancer.locate(terms) : undefined);
  // Documents may be missing when k nodes that hold query terms are down (or a node failed in
  // the last attempt): fewer than k down holders always leave a copy of every document.
  const down = new Set(outcome.failed);
  for (const nodeId of located?.nodes ?? []) if (!live.includes(nodeId)) down.add(nodeId);
  // And when k peers left at once and no repair could cover them (departures.ts): documents
  // whose every copy left with them are missing although every live node answered.
  const partial =
    outcome.incomplete || down.size >= ctx.replicas || ctx.departures.mayMissDocuments();
  const tookMs = performance.now() - started;
  ctx.metrics.searches.inc({ outcome: partial ? 'partial' : 'complete' });
  ctx.metrics.searchSeconds.observe(tookMs / 1000);
  ctx.metrics.searchRounds.inc({ kind: 'scoring' }, outcome.rounds.scoring);
  if (outcome.rounds.stats > 0)
    ctx.metrics.searchRounds.inc({ kind: 'stats' }, outcome.rounds.stats);
  return {
    query: query.q,
    total: outcome.hits.length,
    took_ms: Math.round(tookMs * 1000) / 1000,
    nodes_queried: outcome.queried,
    partial,
    results: outcome.hits.map((hit) => ({
      doc_id: hit.doc_id,
      score: hit.score,
      node_id: hit.node_id,
      snippet: hit.snippet ?? '',
      metadata: hit.metadata ?? {},
    })),
  };
}

/** This node's statistics for a coordinator (body of `/internal/stats`). */
export function localStats(ctx: NodeContext, body: StatsBodyType): WireStatsType {
  return ctx.local.stats(body.terms, body.live);
}

/** This node's local search for a coordinator (body of `/internal/search`). */
export function localSearch(ctx: NodeContext, body: SearchBodyType): RemoteSearchReply {
  return ctx.local.search(body);
}

/** Term vectors of held documents (body of `/internal/term-vectors`). */
export function localTermVectors(
  ctx: NodeContext,
  body: { doc_ids: string[] },
): { vectors: Record<string, Record<string, number>> } {
  return { vectors: ctx.local.termVectors(body.doc_ids) };
}

/** Metadata and snippets of held documents (body of `/internal/details`). */
export function localDetails(
  ctx: NodeContext,
  body: DetailsBodyType,
): { details: Record<string, HitDetails> } {
  return { details: ctx.local.details(body.doc_ids, body.terms, body.snippets) };
}

/** Runs a node-to-node query operation on this node (body already validated). */
export async function runLocalOp(
  ctx: NodeContext,
  op: PeerOp,
  body: Record<string, unknown>,
): Promise<unknown> {
  switch (op) {
    case 'stats':
      return localStats(ctx, body as unknown as StatsBodyType);
    case 'search':
      return localSearch(ctx, body as unknown as SearchBodyType);
    case 'term_vectors':
      return localTermVectors(ctx, body as unknown as { doc_ids: string[] });
    case 'details':
      return localDetails(ctx, body as unknown as DetailsBodyType);
  }
}

const payloadCheckers = {
  stats: TypeCompiler.Compile(StatsBody),
  search: TypeCompiler.Compile(SearchBody),
  term_vectors: TypeCompiler.Compile(DocIdsBody),
  details: TypeCompiler.Compile(DetailsBody),
};

/** Handles a route payload delivered to this node: `ping`, or a query operation. */
export async function deliverPayload(ctx: NodeContext, payload: unknown): Promise<unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new BadRequestError('payload must be an object with a type');
  }
  const { type, ...body } = payload as Record<string, unknown>;
  if (type === 'ping')
    return { type: 'pong', node_id: ctx.self, sender_id: body['sender_id'] ?? null };
  if (type === 'stats' || type === 'search' || type === 'term_vectors' || type === 'details') {
    const checker = payloadCheckers[type];
    if (!checker.Check(body)) {
      const first = [...checker.Errors(body)][0];
      throw new BadRequestError(
        `invalid ${type} payload: ${first?.path ?? ''} ${first?.message ?? ''}`.trim(),
      );
    }
    return runLocalOp(ctx, type, body);
  }
  throw new BadRequestError(
    `unknown payload type ${JSON.stringify(type)}; use ping, stats, search, term_vectors or details`,
  );
}

/** `GET /status`. */
export function status(ctx: NodeContext): StatusReplyType {
  const live = ctx.view.liveIds();
  const figures = ctx.local.figures(live);
  const leaderId = ctx.election.leaderId;
  return {
    node_id: ctx.self,
    binary_id: binaryId(ctx.self, ctx.dimensions),
    url: ctx.url,
    dimensions: ctx.dimensions,
    replicas: ctx.replicas,
    neighbors: neighbors(ctx.self, ctx.dimensions).map((id) => ({
      node_id: id,
      binary_id: binaryId(id, ctx.dimensions),
      alive: live.includes(id),
      url: ctx.view.urlOf(id) ?? null,
    })),
    live_nodes: live,
    leader_id: leaderId,
    leader_url: leaderId === null ? null : (ctx.view.urlOf(leaderId) ?? null),
    is_leader: ctx.election.isLeader,
    election_role: ctx.election.role,
    elections_started: ctx.election.electionsStarted,
    doc_count: figures.docCount,
    term_count: figures.termCount,
    total_length: figures.totalLength,
    primary_doc_count: figures.primaryDocCount,
    repair: { ...ctx.repairer.stats },
    departed_uncovered: ctx.departures.uncoveredIds(),
    documents_may_be_missing: ctx.departures.mayMissDocuments(),
  };
}

/** Re-throws a peer's answer as our own error (for forwarding to the leader). */
export function asTesseraError(error: unknown): unknown {
  if (error instanceof HttpStatusError && error.status === 409) {
    const problem = error.problem ?? {};
    return new TesseraError('CONFLICT', String(problem.detail ?? error.message), {
      extensions: {
        leader_id: problem['leader_id'] ?? null,
        leader_url: problem['leader_url'] ?? null,
      },
    });
  }
  return error;
}
