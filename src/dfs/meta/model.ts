import type { FileRow } from './store.js';
import type { ChunkId, FileId, NodeId } from './types.js';

/** One replica as the master tracks it in memory. */
export interface ReplicaEntry {
  health: 'ok' | 'corrupt';
  /** When the master learned of it; a replica younger than a heartbeat is not yet expected in reports. */
  addedAtMs: number;
}

/** A chunk of a committed file or of an upload in progress. */
export interface ChunkEntry {
  readonly chunkId: ChunkId;
  readonly fileId: FileId;
  readonly seqIndex: number;
  readonly offset: number;
  readonly size: number;
  checksum: string | null;
  readonly replicas: Map<NodeId, ReplicaEntry>;
  /** Upload targets handed out (pending uploads only). */
  targets: NodeId[];
}

/** A file (committed) or an upload (pending), with its chunks in order. */
export interface FileEntry {
  row: FileRow;
  readonly chunks: ChunkEntry[];
}

/** What the master keeps of each datanode, in the core membership table's payload. */
export interface DatanodePayload {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly rack: string | null;
  readonly freeBytes: number;
  readonly totalBytes: number;
  readonly chunkCount: number;
  readonly load: number;
  /** When the datanode process started (a new value: it restarted); absent from old nodes. */
  readonly startedAtMs?: number;
}

/** Splits a size into chunk sizes: full chunks and an odd tail; none for an empty file. */
export function chunkSizes(sizeBytes: number, chunkSizeBytes: number): number[] {
  const sizes: number[] = [];
  for (let offset = 0; offset < sizeBytes; offset += chunkSizeBytes) {
    sizes.push(Math.min(chunkSizeBytes, sizeBytes - offset));
  }
  return sizes;
}
