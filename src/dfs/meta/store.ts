import { GroupCommitter, openDatabase, type SqliteDatabase } from '../../core/sqlite.js';
import type { Lease, LeaseHolder } from './leases.js';
import type { ChunkId, FileId, NodeId } from './types.js';

const MIGRATIONS = [
  `CREATE TABLE files (
     file_id TEXT PRIMARY KEY,
     path TEXT NOT NULL,
     size INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'committed', 'deleted', 'aborted')),
     replication_factor INTEGER NOT NULL,
     chunk_size INTEGER NOT NULL,
     overwrite INTEGER NOT NULL DEFAULT 0,
     client_id TEXT NOT NULL,
     created_at_ms REAL NOT NULL,
     modified_at_ms REAL NOT NULL
   );
   CREATE UNIQUE INDEX files_live_path ON files(path) WHERE state = 'committed';
   CREATE TABLE chunks (
     chunk_id TEXT PRIMARY KEY,
     file_id TEXT NOT NULL REFERENCES files(file_id) ON DELETE CASCADE,
     seq_index INTEGER NOT NULL,
     size INTEGER NOT NULL,
     checksum TEXT
   );
   CREATE INDEX chunks_file ON chunks(file_id);
   CREATE TABLE replicas (
     chunk_id TEXT NOT NULL REFERENCES chunks(chunk_id) ON DELETE CASCADE,
     node_id TEXT NOT NULL,
     health TEXT NOT NULL CHECK (health IN ('ok', 'corrupt')),
     PRIMARY KEY (chunk_id, node_id)
   );
   CREATE TABLE leases (
     path TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     acquired_at_ms REAL NOT NULL,
     expires_at_ms REAL NOT NULL,
     timeout_ms REAL NOT NULL
   );
   CREATE TABLE nodes (
     node_id TEXT PRIMARY KEY,
     info TEXT NOT NULL,
     registered_at_ms REAL NOT NULL,
     last_heartbeat_ms REAL NOT NULL
   );`,
  // Per-file ACLs (issue 7, docs/security.md); rows exist only for files written with --auth.
  `CREATE TABLE file_acls (
     file_id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     grp TEXT,
     mode INTEGER NOT NULL CHECK (mode BETWEEN 0 AND 511)
   );`,
];

export type FileState = 'pending' | 'committed' | 'deleted' | 'aborted';

export interface FileRow {
  file_id: FileId;
  path: string;
  size: number;
  state: FileState;
  replication_factor: number;
  chunk_size: number;
  overwrite: number;
  client_id: string;
  created_at_ms: number;
  modified_at_ms: number;
}

export interface ChunkRow {
  chunk_id: ChunkId;
  file_id: FileId;
  seq_index: number;
  size: number;
  checksum: string | null;
}

export interface ReplicaRow {
  chunk_id: ChunkId;
  node_id: NodeId;
  health: 'ok' | 'corrupt';
}

export interface NodeRow {
  node_id: NodeId;
  info: string;
  registered_at_ms: number;
  last_heartbeat_ms: number;
}

/** Everything the master loads at start. */
export interface StoredState {
  files: FileRow[];
  chunks: ChunkRow[];
  replicas: ReplicaRow[];
  leases: Lease[];
  nodes: NodeRow[];
}

/**
 * The master's durable state in SQLite (WAL, synchronous=FULL). Mutations go through `write`,
 * a group commit: the master awaits it before answering, so a 2xx means durable.
 */
export class MetaStore {
  readonly db: SqliteDatabase;
  private readonly group: GroupCommitter;
  private readonly statements;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    this.group = new GroupCommitter(this.db);
    const db = this.db;
    this.statements = {
      upsertFile: db.prepare(
        `INSERT INTO files VALUES (@file_id, @path, @size, @state, @replication_factor, @chunk_size,
           @overwrite, @client_id, @created_at_ms, @modified_at_ms)
         ON CONFLICT(file_id) DO UPDATE SET path = excluded.path, size = excluded.size,
           state = excluded.state, modified_at_ms = excluded.modified_at_ms`,
      ),
      setFileState: db.prepare('UPDATE files SET state = ?, modified_at_ms = ? WHERE file_id = ?'),
      insertChunk: db.prepare(
        'INSERT INTO chunks VALUES (@chunk_id, @file_id, @seq_index, @size, @checksum)',
      ),
      setChecksum: db.prepare('UPDATE chunks SET checksum = ? WHERE chunk_id = ?'),
      deleteChunksOfFile: db.prepare('DELETE FROM chunks WHERE file_id = ?'),
      upsertReplica: db.prepare(
        `INSERT INTO replicas VALUES (?, ?, ?)
         ON CONFLICT(chunk_id, node_id) DO UPDATE SET health = excluded.health`,
      ),
      deleteReplica: db.prepare('DELETE FROM replicas WHERE chunk_id = ? AND node_id = ?'),
      upsertLease: db.prepare(
        `INSERT INTO leases VALUES (@path, @holder, @acquiredAtMs, @expiresAtMs, @timeoutMs)
         ON CONFLICT(path) DO UPDATE SET holder = excluded.holder,
           acquired_at_ms = excluded.acquired_at_ms, expires_at_ms = excluded.expires_at_ms,
           timeout_ms = excluded.timeout_ms`,
      ),
      deleteLease: db.prepare('DELETE FROM leases WHERE path = ?'),
      upsertNode: db.prepare(
        `INSERT INTO nodes VALUES (?, ?, ?, ?)
         ON CONFLICT(node_id) DO UPDATE SET info = excluded.info,
           last_heartbeat_ms = excluded.last_heartbeat_ms`,
      ),
    };
  }

  load(): StoredState {
    const all = <T>(sql: string): T[] => this.db.prepare(sql).all() as T[];
    const leaseRows = all<{
      path: string;
      holder: string;
      acquired_at_ms: number;
      expires_at_ms: number;
      timeout_ms: number;
    }>('SELECT * FROM leases');
    return {
      files: all<FileRow>("SELECT * FROM files WHERE state IN ('pending', 'committed')"),
      chunks: all<ChunkRow>(
        `SELECT c.* FROM chunks c JOIN files f USING (file_id)
         WHERE f.state IN ('pending', 'committed') ORDER BY c.file_id, c.seq_index`,
      ),
      replicas: all<ReplicaRow>('SELECT * FROM replicas'),
      leases: leaseRows.map((row) => ({
        path: row.path,
        holder: row.holder as LeaseHolder,
        acquiredAtMs: row.acquired_at_ms,
        expiresAtMs: row.expires_at_ms,
        timeoutMs: row.timeout_ms,
      })),
      nodes: all<NodeRow>('SELECT * FROM nodes'),
    };
  }

  /** Queues a durable write; resolves when it is committed. */
  write(mutate: (ops: MetaWriteOps) => void): Promise<void> {
    return this.group.commit(() => mutate(this.ops));
  }

  close(): void {
    this.group.close();
    this.db.close();
  }

  private readonly ops: MetaWriteOps = {
    upsertFile: (row) => void this.statements.upsertFile.run(row),
    setFileState: (fileId, state, atMs) =>
      void this.statements.setFileState.run(state, atMs, fileId),
    insertChunk: (row) => void this.statements.insertChunk.run(row),
    setChecksum: (chunkId, checksum) => void this.statements.setChecksum.run(checksum, chunkId),
    deleteChunksOfFile: (fileId) => void this.statements.deleteChunksOfFile.run(fileId),
    upsertReplica: (chunkId, nodeId, health) =>
      void this.statements.upsertReplica.run(chunkId, nodeId, health),
    deleteReplica: (chunkId, nodeId) => void this.statements.deleteReplica.run(chunkId, nodeId),
    upsertLease: (lease) => void this.statements.upsertLease.run(lease),
    deleteLease: (path) => void this.statements.deleteLease.run(path),
    upsertNode: (row) =>
      void this.statements.upsertNode.run(
        row.node_id,
        row.info,
        row.registered_at_ms,
        row.last_heartbeat_ms,
      ),
  };
}

/** The write operations available inside one durable write. */
export interface MetaWriteOps {
  upsertFile(row: FileRow): void;
  setFileState(fileId: FileId, state: FileState, atMs: number): void;
  insertChunk(row: ChunkRow): void;
  setChecksum(chunkId: ChunkId, checksum: string): void;
  deleteChunksOfFile(fileId: FileId): void;
  upsertReplica(chunkId: ChunkId, nodeId: NodeId, health: 'ok' | 'corrupt'): void;
  deleteReplica(chunkId: ChunkId, nodeId: NodeId): void;
  upsertLease(lease: Lease): void;
  deleteLease(path: string): void;
  upsertNode(row: NodeRow): void;
}
