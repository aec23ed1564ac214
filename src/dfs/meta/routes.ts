import { Type } from '@sinclair/typebox';
import type { HttpApp } from '../../core/http-server.js';
import { BadRequestError } from '../../core/errors.js';
import { aclView, type MetaAccess } from './access.js';
import type { MetaMaster } from './master.js';
import { normalizeDirectory } from './namespace.js';
import type { ReplicationManager } from './replication-manager.js';
import { liveReplicaCount } from './views.js';

const Path = Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute DFS path' });
const Id = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});
const NodeIdSchema = Type.String({ minLength: 1, maxLength: 256 });
const Holder = Type.String({ minLength: 1, maxLength: 256 });
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });
const MAX_FILE_BYTES = 2 ** 50;

const UploadInitBody = Type.Object(
  {
    path: Path,
    size: Type.Integer({ minimum: 0, maximum: MAX_FILE_BYTES }),
    replication: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
    chunk_size: Type.Optional(Type.Integer({ minimum: 4096, maximum: 2 ** 30 })),
    overwrite: Type.Optional(Type.Boolean()),
    client_id: Type.Optional(Holder),
    mode: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 0o777, description: 'ACL bits (--auth)' }),
    ),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'ACL group' })),
  },
  { additionalProperties: false },
);
const AclBody = Type.Object(
  {
    path: Path,
    mode: Type.Optional(Type.Integer({ minimum: 0, maximum: 0o777 })),
    group: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()])),
    owner: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
const CommitBody = Type.Object(
  {
    file_id: Id,
    client_id: Type.Optional(Holder),
    chunks: Type.Array(
      Type.Object(
        {
          chunk_id: Id,
          size: Type.Integer({ minimum: 0 }),
          checksum: Sha256,
          replicas: Type.Array(NodeIdSchema, { maxItems: 32 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 1_000_000 },
    ),
  },
  { additionalProperties: false },
);
const HeartbeatBody = Type.Object(
  {
    node_id: NodeIdSchema,
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    rack: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])),
    free_space: Type.Integer({ minimum: 0 }),
    total_space: Type.Integer({ minimum: 0 }),
    chunk_ids: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10_000_000 }),
    corrupt_chunk_ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }))),
    load: Type.Optional(Type.Number({ minimum: 0 })),
    started_at_ms: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
const LeaseBody = Type.Object(
  {
    path: Path,
    holder: Holder,
    timeout_s: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400 })),
  },
  { additionalProperties: false },
);
const LeaseRef = Type.Object({ path: Path, holder: Holder }, { additionalProperties: false });
const ListQuery = Type.Object(
  {
    prefix: Type.Optional(Type.String({ maxLength: 4096 })),
    dir: Type.Optional(Type.String({ maxLength: 4096 })),
    after: Type.Optional(Type.String({ maxLength: 4096 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
const WildcardParams = Type.Object({ '*': Type.String({ maxLength: 4096 }) });

export interface MetaRouteOptions {
  readonly heartbeatIntervalMs: number;
  /** File ACLs and chunk tokens (docs/security.md); without it nothing is checked. */
  readonly access?: MetaAccess;
}

/** The master's REST API under /api/v1 (the seed's endpoints, plus allocate, abort, rename, renew, stats). */
export function registerMetaRoutes(
  app: HttpApp,
  master: MetaMaster,
  replication: ReplicationManager,
  options: MetaRouteOptions,
): void {
  const tags = ['dfs'];
  const v1 = '/api/v1';
  app.post(
    `${v1}/files/upload-init`,
    {
      schema: {
        tags,
        summary: 'Start an upload: lease, chunk plan and targets',
        body: UploadInitBody,
      },
    },
    async (request, reply) => {
      const { access } = options;
      const { principal, body } = request;
      if (access === undefined || principal === null) {
        return reply.code(201).send(await master.uploadInit(body));
      }
      access.checkUpload(principal, body.path, body);
      const plan = await master.uploadInit(body);
      await access.recordUpload(principal, plan.path, plan.file_id, body);
      const chunks = await access.withChunkTokens(plan.chunks, 'write', principal);
      return reply.code(201).send({ ...plan, chunks });
    },
  );
  app.post(
    `${v1}/files/allocate`,
    {
      schema: {
        tags,
        summary: 'A replacement target for a failed upload target',
        body: Type.Object(
          { file_id: Id, chunk_id: Id, exclude: Type.Array(NodeIdSchema, { maxItems: 64 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      options.access?.checkUploader(request.principal, request.body.file_id);
      return master.allocate(request.body);
    },
  );
  app.post(
    `${v1}/files/commit`,
    { schema: { tags, summary: 'Commit an upload: the file appears whole', body: CommitBody } },
    async (request) => {
      options.access?.checkUploader(request.principal, request.body.file_id);
      return master.commit(request.body);
    },
  );
  app.post(
    `${v1}/files/abort`,
    {
      schema: {
        tags,
        summary: 'Give up an upload',
        body: Type.Object({ file_id: Id }, { additionalProperties: false }),
      },
    },
    async (request) => {
      options.access?.checkUploader(request.principal, request.body.file_id);
      await master.abort(request.body.file_id);
      return { status: 'aborted' };
    },
  );
  app.post(
    `${v1}/files/rename`,
    {
      schema: {
        tags,
        summary: 'Rename (move) a file',
        body: Type.Object(
          { from: Path, to: Path, overwrite: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      options.access?.check(request.principal, request.body.from, 'write');
      if (request.body.overwrite)
        options.access?.check(request.principal, request.body.to, 'write');
      return master.rename(request.body);
    },
  );
  app.get(
    `${v1}/files`,
    { schema: { tags, summary: 'List files by prefix, or one directory', querystring: ListQuery } },
    async (request) => {
      const { dir, ...rest } = request.query;
      const listed = (() => {
        if (dir === undefined) return master.list(rest);
        const normalized = normalizeDirectory(dir);
        if (normalized === null)
          throw new BadRequestError(`invalid directory ${JSON.stringify(dir)}`);
        return master.list({ ...rest, dir: normalized });
      })();
      const { access } = options;
      const { principal } = request;
      if (access === undefined || principal === null) return listed;
      // Files the caller may not read are left out (a page may come out shorter).
      return { ...listed, files: listed.files.filter((f) => access.mayRead(principal, f.file_id)) };
    },
  );
  app.get(
    `${v1}/files/*`,
    {
      schema: { tags, summary: 'Metadata of a file: chunks and replicas', params: WildcardParams },
    },
    async (request) => {
      const metadata = master.stat(`/${request.params['*']}`);
      const { access } = options;
      if (access === undefined || request.principal === null) return metadata;
      access.check(request.principal, metadata.path, 'read');
      return access.fileAnswer(metadata, request.principal);
    },
  );
  app.delete(
    `${v1}/files/*`,
    {
      schema: { tags, summary: 'Delete a file (its chunks are collected)', params: WildcardParams },
    },
    async (request) => {
      const path = `/${request.params['*']}`;
      options.access?.check(request.principal, path, 'write');
      await master.delete(path);
      return { status: 'deleted', path };
    },
  );
  app.post(
    `${v1}/leases/acquire`,
    { schema: { tags, summary: 'Acquire an exclusive write lease', body: LeaseBody } },
    async (request) => {
      options.access?.check(request.principal, request.body.path, 'write');
      return leaseView(await master.acquire(request.body));
    },
  );
  app.post(
    `${v1}/files/acl`,
    {
      schema: {
        tags,
        summary: 'Change the owner (admin), group or mode of a file',
        body: AclBody,
      },
    },
    async (request) => {
      const { path, ...change } = request.body;
      if (options.access === undefined || request.principal === null) {
        throw new BadRequestError('file ACLs apply only when the master runs with --auth');
      }
      const acl = await options.access.changeAcl(request.principal, path, change);
      return { path, acl: aclView(acl) };
    },
  );
  app.post(
    `${v1}/leases/renew`,
    { schema: { tags, summary: 'Renew a lease', body: LeaseRef } },
    async (request) => leaseView(await master.renew(request.body)),
  );
  app.post(
    `${v1}/leases/release`,
    { schema: { tags, summary: 'Release a lease', body: LeaseRef } },
    async (request) => {
      await master.release(request.body);
      return { status: 'released' };
    },
  );
  app.get(`${v1}/nodes`, { schema: { tags, summary: 'Every datanode' } }, async () => ({
    nodes: master.nodes.infos(),
  }));
  app.post(
    `${v1}/nodes/heartbeat`,
    {
      bodyLimit: 512 * 1024 * 1024,
      schema: { tags, summary: 'Heartbeat of a datanode with its chunk list', body: HeartbeatBody },
    },
    async (request) => master.nodes.heartbeat(request.body, options.heartbeatIntervalMs),
  );
  app.get(`${v1}/health`, { schema: { tags, summary: 'Health of the master' } }, async () => ({
    status: 'ok',
    ...counts(master),
  }));
  app.get(`${v1}/stats`, { schema: { tags, summary: 'Cluster storage figures' } }, async () => ({
    ...counts(master),
    replication: replication.stats,
  }));
}

function leaseView(lease: { path: string; holder: string; expiresAtMs: number }) {
  return { path: lease.path, holder: lease.holder, expires_at_ms: lease.expiresAtMs };
}

/** Storage figures for the dashboard and `GET /stats`. */
export function counts(master: MetaMaster) {
  let chunks = 0;
  let bytes = 0;
  let replicaSum = 0;
  let underReplicated = 0;
  for (const file of master.files.values()) {
    bytes += file.row.size;
    for (const chunk of file.chunks) {
      chunks += 1;
      const live = liveReplicaCount(chunk, master.nodes);
      replicaSum += live;
      if (live < file.row.replication_factor) underReplicated += 1;
    }
  }
  const nodes = master.nodes.infos();
  const active = nodes.filter((node) => node.state === 'active');
  return {
    files: master.files.size,
    uploads_in_progress: master.uploads.size,
    chunks,
    bytes,
    avg_replication: chunks === 0 ? 0 : replicaSum / chunks,
    under_replicated_chunks: underReplicated,
    nodes_active: active.length,
    nodes_dead: nodes.length - active.length,
    used_bytes: active.reduce((sum, node) => sum + node.total_space - node.free_space, 0),
    free_bytes: active.reduce((sum, node) => sum + node.free_space, 0),
  };
}
