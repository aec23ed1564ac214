import type { Clock } from '../../core/clock.js';
import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  TesseraError,
  UnavailableError,
} from '../../core/errors.js';
import type { Random } from '../../core/random.js';
import {
  acquireLease,
  asLeaseHolder,
  checkLease,
  EMPTY_LEASE_TABLE,
  expireLeases,
  leaseTableOf,
  releaseLease,
  renewLease,
  withoutLease,
  type Lease,
  type LeaseTable,
} from './leases.js';
import { chunkSizes, type ChunkEntry, type FileEntry } from './model.js';
import { listDirectory, pathProblem } from './namespace.js';
import { NodeTable } from './node-table.js';
import { chooseReplacementTarget, placeChunks, type PlacementState } from './placement.js';
import type { MetaStore, MetaWriteOps } from './store.js';
import { asChunkId, type ChunkId, type FileId, type FileMetadata, type NodeId } from './types.js';
import { fileMetadata, fileSummary, type FileSummary } from './views.js';

export interface MasterConfig {
  readonly defaultReplication: number;
  readonly defaultChunkSizeBytes: number;
  /** Confirmed replicas a commit needs (capped by the factor and the live datanodes). */
  readonly minReplicas: number;
  readonly leaseTimeoutMs: number;
}

export interface UploadInitRequest {
  path: string;
  size: number;
  replication?: number;
  chunk_size?: number;
  overwrite?: boolean;
  client_id?: string;
}

export interface CommitRequest {
  file_id: string;
  client_id?: string;
  chunks: { chunk_id: string; size: number; checksum: string; replicas: string[] }[];
}

/** Throws a 409 with the lease's holder when someone else holds the path. */
class LeaseHeldError extends TesseraError {
  constructor(path: string, holder: string, expiresAtMs: number) {
    super(
      'LEASE_HELD',
      `another client (${holder}) is writing ${path}; retry after its lease ends`,
      {
        extensions: { path, holder, expires_at_ms: expiresAtMs },
      },
    );
  }
}

/**
 * The metadata master's state machine over files, uploads, chunks and leases. Every mutation
 * updates memory and awaits its durable write before the caller answers. Datanodes and their
 * replicas are in `NodeTable`; re-replication is driven by `ReplicationManager`.
 */
export class MetaMaster {
  readonly files = new Map<string, FileEntry>();
  readonly uploads = new Map<FileId, FileEntry>();
  readonly chunks = new Map<ChunkId, ChunkEntry>();
  readonly nodes: NodeTable;
  private leases: LeaseTable = EMPTY_LEASE_TABLE;
  private placement: PlacementState = { tick: 0, lastPickedAt: {} };

  constructor(
    private readonly store: MetaStore,
    private readonly config: MasterConfig,
    private readonly clock: Clock,
    private readonly random: Random,
    nodeTimeoutMs: number,
  ) {
    this.nodes = new NodeTable(store, this.chunks, clock, nodeTimeoutMs);
    this.load();
  }

  private load(): void {
    const stored = this.store.load();
    const byId = new Map<FileId, FileEntry>();
    for (const row of stored.files) {
      const entry: FileEntry = { row, chunks: [] };
      byId.set(row.file_id, entry);
      if (row.state === 'committed') this.files.set(row.path, entry);
      else this.uploads.set(row.file_id, entry);
    }
    for (const row of stored.chunks) {
      const file = byId.get(row.file_id);
      if (!file) continue;
      const offset = row.seq_index * file.row.chunk_size;
      const chunk: ChunkEntry = {
        chunkId: row.chunk_id,
        fileId: row.file_id,
        seqIndex: row.seq_index,
        offset,
        size: row.size,
        checksum: row.checksum,
        replicas: new Map(),
        targets: [],
      };
      file.chunks.push(chunk);
      this.chunks.set(chunk.chunkId, chunk);
    }
    const nowMs = this.clock.nowMs();
    for (const replica of stored.replicas) {
      this.chunks
        .get(replica.chunk_id)
        ?.replicas.set(replica.node_id, { health: replica.health, addedAtMs: nowMs });
    }
    this.leases = leaseTableOf(stored.leases);
    this.nodes.load(stored.nodes);
  }

  /** Starts an upload: takes the path's lease, plans chunks and their targets. */
  async uploadInit(request: UploadInitRequest) {
    const path = validPath(request.path);
    const factor = request.replication ?? this.config.defaultReplication;
    const chunkSize = request.chunk_size ?? this.config.defaultChunkSizeBytes;
    if (this.files.has(path) && !request.overwrite) {
      throw new ConflictError(`${path} exists; delete it first or upload with overwrite`, { path });
    }
    const nowMs = this.clock.nowMs();
    const holder = request.client_id ?? `client-${this.random.uuid()}`;
    const sizes = chunkSizes(request.size, chunkSize);
    const live = this.nodes.placementNodes();
    if (sizes.length > 0 && !live.some((node) => node.state === 'active')) {
      throw new UnavailableError('no live datanode: start datanodes (tessera up starts three)');
    }
    const lease = this.takeLease(path, holder, nowMs);
    const placed = placeChunks(live, { chunkSizesBytes: sizes, factor }, this.placement);
    this.placement = placed.state;
    const fileId = this.random.uuid() as FileId;
    const entry: FileEntry = {
      row: {
        file_id: fileId,
        path,
        size: request.size,
        state: 'pending',
        replication_factor: factor,
        chunk_size: chunkSize,
        overwrite: request.overwrite ? 1 : 0,
        client_id: holder,
        created_at_ms: nowMs,
        modified_at_ms: nowMs,
      },
      chunks: sizes.map((size, seqIndex) => ({
        chunkId: asChunkId(this.random.uuid()),
        fileId,
        seqIndex,
        offset: seqIndex * chunkSize,
        size,
        checksum: null,
        replicas: new Map(),
        targets: placed.targets[seqIndex] ?? [],
      })),
    };
    this.uploads.set(fileId, entry);
    for (const chunk of entry.chunks) this.chunks.set(chunk.chunkId, chunk);
    await this.store.write((ops) => {
      ops.upsertLease(lease);
      ops.upsertFile(entry.row);
      for (const chunk of entry.chunks) ops.insertChunk(chunkRow(chunk));
    });
    return {
      file_id: fileId,
      path,
      size: request.size,
      replication_factor: factor,
      chunk_size: chunkSize,
      min_replicas: this.minReplicasFor(factor),
      lease: { holder, expires_at_ms: lease.expiresAtMs },
      chunks: entry.chunks.map((chunk) => ({
        chunk_id: chunk.chunkId,
        seq_index: chunk.seqIndex,
        offset: chunk.offset,
        size: chunk.size,
        targets: chunk.targets.map((nodeId) => this.nodes.target(nodeId)),
      })),
    };
  }

  /** A replacement target for a chunk whose upload to a target failed. */
  allocate(request: { file_id: string; chunk_id: string; exclude: string[] }) {
    const upload = this.pendingUpload(request.file_id);
    const chunk = upload.chunks.find((c) => c.chunkId === request.chunk_id);
    if (!chunk)
      throw new NotFoundError(`chunk ${request.chunk_id} is not part of upload ${request.file_id}`);
    const excluded = request.exclude as NodeId[];
    for (const nodeId of excluded) this.nodes.reportUnreachable(nodeId);
    const result = chooseReplacementTarget(
      this.nodes.placementNodes(),
      {
        chunkSizeBytes: chunk.size,
        existing: chunk.targets.filter((t) => !excluded.includes(t)),
        excluded,
      },
      this.placement,
    );
    this.placement = result.state;
    if (result.target === null)
      throw new UnavailableError('no other live datanode can take this chunk');
    chunk.targets.push(result.target);
    return this.nodes.target(result.target);
  }

  /** Commits an upload: every chunk confirmed on enough replicas, then the file appears whole. */
  async commit(request: CommitRequest): Promise<FileMetadata> {
    const upload = this.pendingUpload(request.file_id);
    const nowMs = this.clock.nowMs();
    const leaseCheck = checkLease(this.leases, {
      path: upload.row.path,
      holder: asLeaseHolder(upload.row.client_id),
      nowMs,
    });
    if (!leaseCheck.ok) {
      throw new ConflictError(
        `the write lease on ${upload.row.path} expired; upload the file again`,
      );
    }
    const confirmed = this.validateCommit(upload, request);
    const replaced = this.files.get(upload.row.path);
    if (replaced && !upload.row.overwrite) {
      throw new ConflictError(`${upload.row.path} was created meanwhile; upload with overwrite`);
    }
    upload.row = { ...upload.row, state: 'committed', modified_at_ms: nowMs };
    for (const [chunk, replicas, checksum] of confirmed) {
      chunk.checksum = checksum;
      chunk.targets = [];
      for (const nodeId of replicas) chunk.replicas.set(nodeId, { health: 'ok', addedAtMs: nowMs });
    }
    this.uploads.delete(upload.row.file_id);
    if (replaced) this.forgetFile(replaced);
    this.files.set(upload.row.path, upload);
    this.leases = withoutLease(this.leases, upload.row.path);
    await this.store.write((ops) => {
      if (replaced) this.writeDeletion(ops, replaced, nowMs);
      ops.upsertFile(upload.row);
      for (const [chunk, replicas, checksum] of confirmed) {
        ops.setChecksum(chunk.chunkId, checksum);
        for (const nodeId of replicas) ops.upsertReplica(chunk.chunkId, nodeId, 'ok');
      }
      ops.deleteLease(upload.row.path);
    });
    return this.metadataOf(upload);
  }

  private validateCommit(
    upload: FileEntry,
    request: CommitRequest,
  ): [ChunkEntry, NodeId[], string][] {
    if (request.chunks.length !== upload.chunks.length) {
      throw new BadRequestError(
        `the upload has ${upload.chunks.length} chunks; the commit lists ${request.chunks.length}`,
      );
    }
    const needed = this.minReplicasFor(upload.row.replication_factor);
    return upload.chunks.map((chunk, index) => {
      const reported = request.chunks[index];
      if (!reported || reported.chunk_id !== chunk.chunkId) {
        throw new BadRequestError(`chunk ${index} of the commit should be ${chunk.chunkId}`);
      }
      if (reported.size !== chunk.size) {
        throw new BadRequestError(
          `chunk ${chunk.chunkId} has ${chunk.size} bytes, not ${reported.size}`,
        );
      }
      const replicas = [...new Set(reported.replicas)] as NodeId[];
      if (replicas.length < needed) {
        throw new BadRequestError(
          `chunk ${chunk.chunkId} reached ${replicas.length} replicas; at least ${needed} are needed`,
        );
      }
      return [chunk, replicas, reported.checksum.toLowerCase()];
    });
  }

  /** Gives up an upload: its lease is released and its chunks become garbage. */
  async abort(fileId: string): Promise<void> {
    const upload = this.pendingUpload(fileId);
    await this.abortUpload(upload);
  }

  private async abortUpload(upload: FileEntry): Promise<void> {
    const nowMs = this.clock.nowMs();
    this.uploads.delete(upload.row.file_id);
    for (const chunk of upload.chunks) this.chunks.delete(chunk.chunkId);
    const current = this.leases.get(upload.row.path);
    const ownsLease = current?.holder === upload.row.client_id;
    if (ownsLease) this.leases = withoutLease(this.leases, upload.row.path);
    await this.store.write((ops) => {
      ops.setFileState(upload.row.file_id, 'aborted', nowMs);
      ops.deleteChunksOfFile(upload.row.file_id);
      if (ownsLease) ops.deleteLease(upload.row.path);
    });
  }

  stat(path: string): FileMetadata {
    const file = this.files.get(validPath(path));
    if (!file) throw new NotFoundError(`no file at ${path}`);
    return this.metadataOf(file);
  }

  list(query: { prefix?: string; dir?: string; limit?: number; after?: string }): {
    files: FileSummary[];
    directories: string[];
    next_after: string | null;
  } {
    const limit = query.limit ?? 10_000;
    let paths: string[];
    let directories: string[] = [];
    if (query.dir !== undefined) {
      const listed = listDirectory(query.dir, this.files.keys());
      paths = listed.files;
      directories = listed.directories;
    } else {
      const prefix = query.prefix ?? '/';
      paths = [...this.files.keys()].filter((path) => path.startsWith(prefix)).sort();
    }
    if (query.after !== undefined) {
      const after = query.after;
      paths = paths.filter((path) => path > after);
    }
    const page = paths.slice(0, limit);
    const summaries = page.map((path) => {
      const file = this.files.get(path);
      if (!file) throw new Error('listed path vanished');
      return fileSummary(file, this.nodes);
    });
    return {
      files: summaries,
      directories,
      next_after: paths.length > limit ? (page.at(-1) ?? null) : null,
    };
  }

  async delete(path: string): Promise<void> {
    const valid = validPath(path);
    const file = this.files.get(valid);
    if (!file) throw new NotFoundError(`no file at ${path}`);
    this.assertNoForeignLease(valid);
    const nowMs = this.clock.nowMs();
    this.forgetFile(file);
    await this.store.write((ops) => this.writeDeletion(ops, file, nowMs));
  }

  async rename(request: { from: string; to: string; overwrite?: boolean }): Promise<FileMetadata> {
    const from = validPath(request.from);
    const to = validPath(request.to);
    const file = this.files.get(from);
    if (!file) throw new NotFoundError(`no file at ${from}`);
    if (from === to) return this.metadataOf(file);
    const existing = this.files.get(to);
    if (existing && !request.overwrite)
      throw new ConflictError(`${to} exists; pass overwrite to replace it`);
    this.assertNoForeignLease(from);
    this.assertNoForeignLease(to);
    const nowMs = this.clock.nowMs();
    if (existing) this.forgetFile(existing);
    this.files.delete(from);
    file.row = { ...file.row, path: to, modified_at_ms: nowMs };
    this.files.set(to, file);
    await this.store.write((ops) => {
      if (existing) this.writeDeletion(ops, existing, nowMs);
      ops.upsertFile(file.row);
    });
    return this.metadataOf(file);
  }

  async acquire(request: { path: string; holder: string; timeout_s?: number }): Promise<Lease> {
    const path = validPath(request.path);
    const lease = this.takeLease(path, request.holder, this.clock.nowMs(), request.timeout_s);
    await this.store.write((ops) => ops.upsertLease(lease));
    return lease;
  }

  async renew(request: { path: string; holder: string }): Promise<Lease> {
    const path = validPath(request.path);
    const result = renewLease(this.leases, {
      path,
      holder: asLeaseHolder(request.holder),
      nowMs: this.clock.nowMs(),
    });
    if (!result.ok) {
      if (result.reason === 'held')
        throw new LeaseHeldError(path, result.holder, result.expiresAtMs);
      throw new ConflictError(`${request.holder} holds no lease on ${path}; acquire it again`);
    }
    this.leases = result.table;
    await this.store.write((ops) => ops.upsertLease(result.lease));
    return result.lease;
  }

  async release(request: { path: string; holder: string }): Promise<void> {
    const path = validPath(request.path);
    const result = releaseLease(this.leases, {
      path,
      holder: asLeaseHolder(request.holder),
      nowMs: this.clock.nowMs(),
    });
    if (!result.ok) throw new LeaseHeldError(path, result.holder, result.expiresAtMs);
    this.leases = result.table;
    await this.store.write((ops) => ops.deleteLease(path));
  }

  /** Expires leases; uploads guarded by an expired lease are aborted (their chunks collected). */
  async expireLeases(): Promise<number> {
    const { table, expired } = expireLeases(this.leases, this.clock.nowMs());
    if (expired.length === 0) return 0;
    this.leases = table;
    const expiredPaths = new Set(expired.map((lease) => `${lease.path}\u0000${lease.holder}`));
    const torn = [...this.uploads.values()].filter((upload) =>
      expiredPaths.has(`${upload.row.path}\u0000${upload.row.client_id}`),
    );
    await this.store.write((ops) => expired.forEach((lease) => ops.deleteLease(lease.path)));
    for (const upload of torn) await this.abortUpload(upload);
    return torn.length;
  }

  /** Whether a chunk id belongs to a live file or an open upload. */
  isLiveChunk(chunkId: ChunkId): boolean {
    return this.chunks.has(chunkId);
  }

  metadataOf(file: FileEntry): FileMetadata {
    return fileMetadata(file, this.nodes);
  }

  minReplicasFor(factor: number): number {
    return Math.max(1, Math.min(this.config.minReplicas, factor, this.nodes.activeCount()));
  }

  private takeLease(path: string, holder: string, nowMs: number, timeoutS?: number): Lease {
    const result = acquireLease(this.leases, {
      path,
      holder: asLeaseHolder(holder),
      nowMs,
      timeoutMs: timeoutS === undefined ? this.config.leaseTimeoutMs : timeoutS * 1000,
    });
    if (!result.ok) throw new LeaseHeldError(path, result.holder, result.expiresAtMs);
    this.leases = result.table;
    return result.lease;
  }

  private assertNoForeignLease(path: string): void {
    const lease = this.leases.get(path);
    if (lease && lease.expiresAtMs > this.clock.nowMs()) {
      throw new LeaseHeldError(path, lease.holder, lease.expiresAtMs);
    }
  }

  private pendingUpload(fileId: string): FileEntry {
    const upload = this.uploads.get(fileId as FileId);
    if (upload) return upload;
    const committed = [...this.files.values()].some((file) => file.row.file_id === fileId);
    if (committed) throw new ConflictError(`upload ${fileId} is already committed`);
    throw new ConflictError(
      `upload ${fileId} is unknown or was aborted (its lease expired); upload again`,
    );
  }

  /** Drops a committed file from memory; its chunks become garbage on the datanodes. */
  private forgetFile(file: FileEntry): void {
    this.files.delete(file.row.path);
    for (const chunk of file.chunks) this.chunks.delete(chunk.chunkId);
  }

  private writeDeletion(ops: MetaWriteOps, file: FileEntry, nowMs: number): void {
    ops.setFileState(file.row.file_id, 'deleted', nowMs);
    ops.deleteChunksOfFile(file.row.file_id);
  }
}

function validPath(path: string): string {
  const problem = pathProblem(path);
  if (problem) throw new BadRequestError(`invalid path ${JSON.stringify(path)}: ${problem}`);
  return path;
}

function chunkRow(chunk: ChunkEntry) {
  return {
    chunk_id: chunk.chunkId,
    file_id: chunk.fileId,
    seq_index: chunk.seqIndex,
    size: chunk.size,
    checksum: chunk.checksum,
  };
}
