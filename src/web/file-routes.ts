import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { BadRequestError } from '../core/errors.js';
import type { HttpApp } from '../core/http-server.js';
import type { DfsClient } from '../dfs/index.js';
import type { DirectoryListing, WireFileMetadata } from './api-types.js';
import { passPeerError } from './peer-errors.js';

const Path = Type.String({
  minLength: 2,
  maxLength: 4096,
  pattern: '^/',
  description: 'Absolute DFS path, e.g. `/data/a.txt`',
});
const PathQuery = Type.Object({ path: Path }, { additionalProperties: false });
const ListQuery = Type.Object(
  {
    dir: Type.Optional(Type.String({ maxLength: 4096, pattern: '^/', default: '/' })),
    after: Type.Optional(Type.String({ maxLength: 4096 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5_000, default: 1_000 })),
  },
  { additionalProperties: false },
);
const UploadQuery = Type.Object(
  {
    path: Path,
    overwrite: Type.Optional(Type.Boolean({ default: false })),
    replication: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
  },
  { additionalProperties: false },
);
const RenameBody = Type.Object(
  { from: Path, to: Path, overwrite: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

const tags = ['web-files'];

/**
 * The Files page's API over the DFS client: listing by directory, metadata, delete, rename,
 * upload streamed from the browser into `DfsClient.putStream` (the size is the request's
 * `content-length`, which a browser sends for a `File`), and download streamed out of
 * `DfsClient.getStream` (verified chunk by chunk; a corrupt replica is never served).
 */
export async function registerFileRoutes(app: HttpApp, dfs: DfsClient): Promise<void> {
  app.get(
    '/api/files',
    {
      schema: { tags, summary: 'One directory: files and subdirectories', querystring: ListQuery },
    },
    async (request) => {
      const dir = request.query.dir ?? '/';
      const { after, limit } = request.query;
      const listing = await dfs
        .list({
          dir,
          ...(after === undefined ? {} : { after }),
          ...(limit === undefined ? {} : { limit }),
        })
        .catch(passPeerError);
      const view: DirectoryListing = { dir, ...listing };
      return view;
    },
  );

  app.get(
    '/api/files/stat',
    { schema: { tags, summary: 'A file with its chunks and replicas', querystring: PathQuery } },
    async (request) => {
      const metadata: WireFileMetadata = await dfs.stat(request.query.path).catch(passPeerError);
      return metadata;
    },
  );

  app.delete(
    '/api/files',
    { schema: { tags, summary: 'Delete a file', querystring: PathQuery } },
    async (request) => {
      await dfs.delete(request.query.path).catch(passPeerError);
      return { status: 'deleted', path: request.query.path };
    },
  );

  app.post(
    '/api/files/rename',
    { schema: { tags, summary: 'Rename (move) a file', body: RenameBody } },
    async (request) => {
      const { from, to, overwrite } = request.body;
      const metadata: WireFileMetadata = await dfs
        .rename(from, to, overwrite ?? false)
        .catch(passPeerError);
      return metadata;
    },
  );

  app.get(
    '/api/files/content',
    { schema: { tags, summary: 'Download a file', querystring: PathQuery } },
    async (request, reply) => {
      const path = request.query.path;
      const metadata = await dfs.stat(path).catch(passPeerError);
      return reply
        .type('application/octet-stream')
        .header('content-length', String(metadata.size))
        .header('content-disposition', attachment(path))
        .header('cache-control', 'no-store')
        .send(dfs.getStream(path));
    },
  );

  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    // The body is the file: read by the DFS client as it arrives, never buffered whole.
    scope.addContentTypeParser('application/octet-stream', (_request, _payload, done) =>
      done(null, undefined),
    );
    scope.put(
      '/api/files/content',
      {
        schema: { tags, summary: 'Upload a file (raw bytes, streamed)', querystring: UploadQuery },
      },
      async (request, reply) => {
        const size = Number(request.headers['content-length']);
        if (!request.headers['content-length'] || !Number.isSafeInteger(size) || size < 0) {
          throw new BadRequestError('an upload needs a content-length header with the file size');
        }
        if (!request.headers['content-type']?.startsWith('application/octet-stream')) {
          throw new BadRequestError('send the file as application/octet-stream');
        }
        const { path, overwrite, replication } = request.query;
        const body: Readable = request.raw;
        const metadata: WireFileMetadata = await dfs
          .putStream(body, size, path, {
            overwrite: overwrite ?? false,
            ...(replication === undefined ? {} : { replication }),
          })
          .catch(passPeerError);
        return reply.code(201).send(metadata);
      },
    );
  });
}

/** `attachment; filename=...` with the path's last segment, ASCII-safe and RFC 6266 encoded. */
export function attachment(path: string): string {
  const name = path.split('/').filter(Boolean).pop() ?? 'download';
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
