/**
 * The datanode's HTTP API (dfs-architecture.md, DataNode "API REST"; dfs-api.md): PUT, GET and
 * DELETE of `/api/v1/chunks/{chunk_id}`, the HDFS-style `POST .../replicate` (the target pulls
 * the chunk from a source datanode) and `GET /api/v1/health`.
 *
 * Bodies stream both ways: a PUT's request stream goes straight into the chunk store (no body
 * parser buffers it), a GET pipes the store's verifying reader into the socket. A GET never
 * delivers a corrupt chunk as a complete answer: the last piece read is held back until the
 * store has verified the whole range, so a corrupt chunk always ends in a cut connection
 * (fewer bytes than `content-length`) and is reported in the next heartbeat.
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, TesseraError, UnavailableError } from '../../core/errors.js';
import { HttpClientError } from '../../core/errors-http-client.js';
import type { HttpClient } from '../../core/http-client.js';
import type { HttpApp } from '../../core/http-server.js';
import type { Logger } from '../../core/logger.js';
import type { ChunkId } from '../meta/types.js';
import {
  ChunkNotFoundError,
  ChunkRangeError,
  type ChunkRead,
  type ChunkStore,
} from './chunk-store.js';
import { parseRangeHeader, type ByteRange } from './byte-range.js';
import type { DatanodeMetrics } from './metrics.js';
import type { DatanodeState } from './node-state.js';

/** Response header carrying a chunk's whole SHA-256 (lowercase hex); also accepted on PUT. */
export const CHECKSUM_HEADER = 'x-tessera-checksum';
export const OCTET_STREAM = 'application/octet-stream';

/** What the routes work with. */
export interface DatanodeRouteContext {
  readonly store: ChunkStore;
  readonly state: DatanodeState;
  /** For replication pulls (the core client; GETs retry on connection failures). */
  readonly http: HttpClient;
  readonly nodeId: string;
  /** Largest chunk accepted, in bytes (`--max-chunk-size`). */
  readonly maxChunkBytes: number;
  readonly metrics: DatanodeMetrics;
  readonly logger: Logger;
}

const CHUNK_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const ChunkParams = Type.Object({
  chunk_id: Type.String({
    pattern: CHUNK_ID_PATTERN,
    maxLength: 36,
    description: 'Chunk id: a lowercase canonical UUID.',
  }),
});
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256, hex.' });
const ChunkWritten = Type.Object({
  chunk_id: Type.String(),
  size: Type.Integer(),
  checksum: Type.String(),
});
const Problem = Type.Object(
  { type: Type.String(), title: Type.String(), status: Type.Integer(), detail: Type.String() },
  { additionalProperties: true },
);
const PutHeaders = Type.Object({ [CHECKSUM_HEADER]: Type.Optional(Sha256) });
const GetHeaders = Type.Object({
  range: Type.Optional(Type.String({ maxLength: 200, description: '`bytes=a-b`, one range.' })),
});
const ReplicateBody = Type.Object(
  {
    source_url: Type.String({
      pattern: '^https?://[^\\s/?#]+(/[^\\s?#]*)?$',
      maxLength: 2048,
      description: 'Base URL of the datanode to copy from.',
    }),
    checksum: Sha256,
    size: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** Registers the chunk routes and `/api/v1/health` on a datanode's server. */
export function registerDatanodeRoutes(app: HttpApp, ctx: DatanodeRouteContext): void {
  installOctetStreamParser(app);
  registerPut(app, ctx);
  registerGet(app, ctx);
  registerDelete(app, ctx);
  registerReplicate(app, ctx);
  app.get(
    '/api/v1/health',
    { schema: { tags: ['datanode'], summary: 'Health and space of this datanode' } },
    async () => {
      await ctx.state.refreshSpace();
      return { status: 'ok', ...healthFigures(ctx) };
    },
  );
}

/** The figures of `/health` and `/api/v1/health` (dfs-api.md), plus corruption, load and RSS. */
export function healthFigures(ctx: Pick<DatanodeRouteContext, 'state' | 'nodeId'>) {
  const space = ctx.state.space();
  return {
    node_id: ctx.nodeId,
    chunks: space.chunkCount,
    used_bytes: space.usedBytes,
    free_bytes: space.freeBytes,
    total_bytes: space.totalBytes,
    corrupt_chunks: ctx.state.corruptChunkIds().length,
    load: ctx.state.load(),
    rss_bytes: process.memoryUsage().rss,
  };
}

/**
 * `application/octet-stream` bodies are handed to the handler as the raw request stream. The
 * route's `bodyLimit` is checked against `content-length` up front (the store enforces it while
 * streaming, for bodies sent without a length).
 */
function installOctetStreamParser(app: HttpApp): void {
  app.addContentTypeParser(OCTET_STREAM, (request, payload, done) => {
    const length = declaredLength(request);
    const limit = request.routeOptions.bodyLimit ?? Infinity;
    if (length !== undefined && length > limit) {
      done(new TesseraError('PAYLOAD_TOO_LARGE', `body of ${length} bytes exceeds ${limit}`));
      return;
    }
    done(null, payload);
  });
}

function registerPut(app: HttpApp, ctx: DatanodeRouteContext): void {
  app.put(
    '/api/v1/chunks/:chunk_id',
    {
      bodyLimit: ctx.maxChunkBytes,
      // With --auth: a service (admin) token, or the master's chunk token for this write.
      config: { access: { role: 'admin', chunkAccess: 'write' } },
      schema: {
        tags: ['datanode'],
        summary: 'Store a chunk (raw bytes, streamed); fsynced before the answer',
        params: ChunkParams,
        headers: PutHeaders,
        response: { 200: ChunkWritten, 201: ChunkWritten, '4xx': Problem, '5xx': Problem },
      },
      preParsing: async (request, reply) => {
        if (!isOctetStream(request.headers['content-type'])) {
          void reply.header('connection', 'close');
          throw new TesseraError('UNSUPPORTED_MEDIA_TYPE', `a chunk is sent as ${OCTET_STREAM}`);
        }
      },
      onError: closeIfBodyUnread,
    },
    async (request, reply) => {
      const id = request.params.chunk_id as ChunkId;
      const body = request.body;
      if (!(body instanceof Readable)) throw new TesseraError('UNSUPPORTED_MEDIA_TYPE', 'no body');
      const expectedSize = declaredLength(request);
      if (expectedSize !== undefined && !ctx.state.hasRoomFor(expectedSize)) {
        throw new UnavailableError(`not enough space for ${expectedSize} bytes`);
      }
      const expectedSha256 = request.headers[CHECKSUM_HEADER]?.toLowerCase();
      const previous = await storedChecksum(ctx.store, id);
      const written = await ctx.state
        .track(() =>
          ctx.store.writeChunk(id, body, {
            ...(expectedSha256 === undefined ? {} : { expectedSha256 }),
            ...(expectedSize === undefined ? {} : { expectedSize }),
          }),
        )
        .catch((error: unknown) => {
          throw writeFailure(error, request.raw.aborted || request.raw.destroyed);
        });
      ctx.state.recordWrite(id, written.size);
      ctx.metrics.bytesWritten.inc(written.size);
      return reply
        .code(previous === written.sha256 ? 200 : 201)
        .header(CHECKSUM_HEADER, written.sha256)
        .send({ chunk_id: id, size: written.size, checksum: written.sha256 });
    },
  );
}

function registerGet(app: HttpApp, ctx: DatanodeRouteContext): void {
  const schema = {
    tags: ['datanode'],
    params: ChunkParams,
    headers: GetHeaders,
  };
  app.get(
    '/api/v1/chunks/:chunk_id',
    {
      exposeHeadRoute: false,
      config: { access: { role: 'admin', chunkAccess: 'read' } },
      schema: { ...schema, summary: 'Read a chunk (streamed, verified); `Range` gives a 206' },
      onError: dropChunkHeaders,
    },
    async (request, reply) => {
      const { chunk_id: id } = request.params;
      const read = await openForReply(ctx.store, id, request.headers.range, reply);
      const done = ctx.state.beginTransfer();
      const stream = holdBackLast(read.stream, (bytes) => ctx.metrics.bytesRead.inc(bytes));
      stream.once('close', done);
      return reply.send(stream);
    },
  );
  app.head(
    '/api/v1/chunks/:chunk_id',
    {
      config: { access: { role: 'admin', chunkAccess: 'read' } },
      schema: { ...schema, summary: 'Size and checksum of a chunk, without its bytes' },
    },
    async (request, reply) => {
      const { chunk_id: id } = request.params;
      const read = await openForReply(ctx.store, id, request.headers.range, reply);
      read.stream.destroy();
      return reply.send();
    },
  );
}

function registerDelete(app: HttpApp, ctx: DatanodeRouteContext): void {
  app.delete(
    '/api/v1/chunks/:chunk_id',
    {
      schema: {
        tags: ['datanode'],
        summary: 'Delete a chunk',
        params: ChunkParams,
        response: { 200: Type.Object({ status: Type.Literal('deleted') }), '4xx': Problem },
      },
    },
    async (request) => {
      const id = request.params.chunk_id as ChunkId;
      const existed = await ctx.store.deleteChunk(id);
      ctx.state.recordDelete(id);
      if (!existed) throw new ChunkNotFoundError(id);
      return { status: 'deleted' as const };
    },
  );
}

function registerReplicate(app: HttpApp, ctx: DatanodeRouteContext): void {
  app.post(
    '/api/v1/chunks/:chunk_id/replicate',
    {
      schema: {
        tags: ['datanode'],
        summary: 'Pull a chunk from another datanode and store it (HDFS style: the target pulls)',
        params: ChunkParams,
        body: ReplicateBody,
        response: { 200: ChunkWritten, 201: ChunkWritten, '4xx': Problem, '5xx': Problem },
      },
    },
    async (request, reply) => {
      const id = request.params.chunk_id as ChunkId;
      const { source_url: sourceUrl, size } = request.body;
      const checksum = request.body.checksum.toLowerCase();
      // The pattern admits hosts no URL parser accepts (`http://$`): a 400, not a failed pull.
      if (!URL.canParse(sourceUrl))
        throw new BadRequestError(`source_url ${sourceUrl} is not a URL`);
      if (size > ctx.maxChunkBytes) {
        throw new TesseraError(
          'PAYLOAD_TOO_LARGE',
          `chunk of ${size} bytes exceeds ${ctx.maxChunkBytes}`,
        );
      }
      if (!ctx.state.hasRoomFor(size))
        throw new UnavailableError(`not enough space for ${size} bytes`);
      const previous = await storedChecksum(ctx.store, id);
      if (previous === checksum && !ctx.state.isCorrupt(id)) {
        return reply.code(200).send({ chunk_id: id, size, checksum });
      }
      const written = await ctx.state.track(() => pullChunk(ctx, id, sourceUrl, checksum, size));
      ctx.state.recordWrite(id, written.size);
      ctx.metrics.bytesWritten.inc(written.size);
      ctx.logger.info({ chunk_id: id, source: sourceUrl, size }, 'chunk replicated');
      return reply.code(201).send({ chunk_id: id, size: written.size, checksum: written.sha256 });
    },
  );
}

/** Streams `GET {source}/api/v1/chunks/{id}` into the store, checking size and SHA-256. */
async function pullChunk(
  ctx: DatanodeRouteContext,
  id: ChunkId,
  sourceUrl: string,
  checksum: string,
  size: number,
): Promise<{ sha256: string; size: number }> {
  const url = `${sourceUrl.replace(/\/+$/, '')}/api/v1/chunks/${id}`;
  const response = await ctx.http.request(url).catch((error: unknown) => {
    throw sourceFailure(`cannot read the chunk from ${url}`, error);
  });
  try {
    if (response.status !== 200) {
      throw new TesseraError('BAD_GATEWAY', `the source answered ${response.status} for ${url}`);
    }
    const announced = response.headers[CHECKSUM_HEADER];
    if (typeof announced === 'string' && announced.toLowerCase() !== checksum) {
      throw new TesseraError(
        'BAD_GATEWAY',
        `the source holds checksum ${announced}, not ${checksum}`,
      );
    }
    return await ctx.store
      .writeChunk(id, response.body, { expectedSha256: checksum, expectedSize: size })
      .catch((error: unknown) => {
        if (isNoSpace(error)) throw writeFailure(error, false);
        throw sourceFailure(`copying from ${url} failed`, error);
      });
  } finally {
    if (!response.body.readableEnded && !response.body.destroyed) {
      // undici fails an unfinished body it is told to drop; nobody reads that error.
      response.body.on('error', () => undefined);
      response.body.destroy();
    }
  }
}

function sourceFailure(detail: string, error: unknown): TesseraError {
  const reason = error instanceof Error ? error.message : String(error);
  const code =
    error instanceof HttpClientError && error.httpStatus === 504 ? 'TIMEOUT' : 'BAD_GATEWAY';
  return new TesseraError(code, `${detail}: ${reason}`, { cause: error });
}

/** Opens the read a GET or HEAD asks for and sets the answer's status and headers. */
async function openForReply(
  store: ChunkStore,
  chunkId: string,
  rangeHeader: string | undefined,
  reply: FastifyReply,
): Promise<ChunkRead> {
  const id = chunkId as ChunkId;
  const range = parseRangeHeader(rangeHeader);
  if (range.kind === 'invalid') {
    throw new BadRequestError(`malformed Range header: ${range.reason}`);
  }
  let read: ChunkRead;
  try {
    read = await store.readChunk(id, await absoluteRange(store, id, range));
  } catch (error) {
    if (error instanceof ChunkRangeError)
      void reply.header('content-range', `bytes */${error.size}`);
    throw error;
  }
  void reply
    .header('content-type', OCTET_STREAM)
    .header('accept-ranges', 'bytes')
    .header(CHECKSUM_HEADER, read.sha256)
    .header('content-length', String(read.end - read.start + 1));
  if (range.kind !== 'none') {
    void reply.code(206).header('content-range', `bytes ${read.start}-${read.end}/${read.size}`);
  }
  return read;
}

/** Turns a parsed range into the store's inclusive [start, end]; a suffix needs the size. */
async function absoluteRange(
  store: ChunkStore,
  id: ChunkId,
  range: Exclude<ByteRange, { kind: 'invalid' }>,
): Promise<{ start?: number; end?: number }> {
  switch (range.kind) {
    case 'none':
      return {};
    case 'from':
      return range.end === undefined
        ? { start: range.start }
        : { start: range.start, end: range.end };
    case 'suffix': {
      // The checksum file's size: the file on disk is larger when the chunk is encrypted.
      const size = await store.chunkSize(id).catch(() => null);
      if (size === null) {
        const exists = await stat(store.chunkPath(id)).then(
          () => true,
          () => false,
        );
        if (!exists) throw new ChunkNotFoundError(id);
        return {}; // no readable checksum file: the read reports the chunk corrupt
      }
      if (range.length === 0 || size === 0) throw new ChunkRangeError(id, size);
      return { start: Math.max(0, size - range.length), end: size - 1 };
    }
  }
}

/**
 * Re-emits `source` one piece late: each piece goes out only once the next has been read, and
 * the last only when `source` ended cleanly. A source that fails (the store's verifier found the
 * chunk corrupt) therefore never delivers its last piece, and the answer is cut short.
 */
export function holdBackLast(source: Readable, onBytes: (bytes: number) => void): Readable {
  async function* delayed(): AsyncGenerator<Buffer> {
    let held: Buffer | undefined;
    for await (const piece of source) {
      if (held !== undefined) {
        onBytes(held.length);
        yield held;
      }
      held = piece as Buffer;
    }
    if (held !== undefined) {
      onBytes(held.length);
      yield held;
    }
  }
  return Readable.from(delayed(), { objectMode: false, highWaterMark: 256 * 1024 });
}

/** The SHA-256 of the chunk stored under `id` (first line of its `.checksum`), or null. */
async function storedChecksum(store: ChunkStore, id: ChunkId): Promise<string | null> {
  try {
    const read = await store.readChunk(id);
    read.stream.destroy();
    return read.sha256;
  } catch {
    return null;
  }
}

/** Maps a failed write: store errors as they are, a full disk to 503, a lost client to 400. */
function writeFailure(error: unknown, clientGone: boolean): unknown {
  if (error instanceof TesseraError) return error;
  if (isNoSpace(error)) return new UnavailableError('the datanode’s disk is full', error);
  if (clientGone) return new BadRequestError('the client closed the upload before its end');
  return error;
}

function isNoSpace(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

function isOctetStream(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === OCTET_STREAM;
}

function declaredLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  if (raw === undefined) return undefined;
  const length = Number(raw);
  return Number.isSafeInteger(length) ? length : undefined;
}

/** A read that failed before its first byte answers a problem, without the chunk's headers. */
function dropChunkHeaders(
  _request: FastifyRequest,
  reply: FastifyReply,
  error: Error,
  done: () => void,
): void {
  const names = [CHECKSUM_HEADER, 'accept-ranges'];
  if (!(error instanceof ChunkRangeError)) names.push('content-range');
  for (const name of names) {
    void reply.removeHeader(name);
    if (!reply.raw.headersSent) reply.raw.removeHeader(name);
  }
  done();
}

/** A PUT refused before its body was read: close the connection rather than read it all. */
function closeIfBodyUnread(
  request: FastifyRequest,
  reply: FastifyReply,
  _error: Error,
  done: () => void,
): void {
  if (!request.raw.complete) void reply.header('connection', 'close');
  done();
}
