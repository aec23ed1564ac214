import type { FileEntry } from './model.js';
import type { NodeTable } from './node-table.js';
import type { FileMetadata } from './types.js';

/** One line of a listing. */
export interface FileSummary {
  file_id: string;
  path: string;
  size: number;
  chunk_count: number;
  replication_factor: number;
  /** The fewest good replicas on live nodes over the file's chunks. */
  min_live_replicas: number;
  under_replicated: boolean;
  created_at: string;
  modified_at: string;
  is_deleted: boolean;
}

/** Good replicas of a chunk on live nodes. */
export function liveReplicaCount(chunk: FileEntry['chunks'][number], nodes: NodeTable): number {
  let count = 0;
  for (const [nodeId, replica] of chunk.replicas) {
    if (nodes.replicaState(nodeId, replica.health) === 'active') count += 1;
  }
  return count;
}

/** The seed's FileMetadata of a file, with each replica's current state. */
export function fileMetadata(file: FileEntry, nodes: NodeTable): FileMetadata {
  return {
    file_id: file.row.file_id,
    path: file.row.path,
    size: file.row.size,
    created_at: new Date(file.row.created_at_ms).toISOString(),
    modified_at: new Date(file.row.modified_at_ms).toISOString(),
    is_deleted: file.row.state === 'deleted',
    replication_factor: file.row.replication_factor,
    chunk_size: file.row.chunk_size,
    chunks: file.chunks.map((chunk) => ({
      chunk_id: chunk.chunkId,
      seq_index: chunk.seqIndex,
      size: chunk.size,
      checksum: chunk.checksum ?? '',
      replicas: [...chunk.replicas].map(([nodeId, replica]) => ({
        node_id: nodeId,
        url: nodes.urlOf(nodeId) ?? '',
        state: nodes.replicaState(nodeId, replica.health),
        last_heartbeat: nodes.lastHeartbeatIso(nodeId),
        checksum_verified: replica.health === 'ok',
      })),
    })),
  };
}

export function fileSummary(file: FileEntry, nodes: NodeTable): FileSummary {
  const live = file.chunks.map((chunk) => liveReplicaCount(chunk, nodes));
  const minLive = live.length === 0 ? file.row.replication_factor : Math.min(...live);
  return {
    file_id: file.row.file_id,
    path: file.row.path,
    size: file.row.size,
    chunk_count: file.chunks.length,
    replication_factor: file.row.replication_factor,
    min_live_replicas: minLive,
    under_replicated: minLive < file.row.replication_factor,
    created_at: new Date(file.row.created_at_ms).toISOString(),
    modified_at: new Date(file.row.modified_at_ms).toISOString(),
    is_deleted: file.row.state === 'deleted',
  };
}
