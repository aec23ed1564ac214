/**
 * What a datanode knows about itself between two looks at its disk: which chunks it holds (and
 * their sizes), which of them it found corrupt, the free and total space of its filesystem
 * (capped by `--capacity`), and how many transfers are in flight. The heartbeat, the registry
 * metadata and `/health` read it synchronously; the routes update it on every write and delete,
 * and `refresh()` re-reads the disk (once per heartbeat) so that it never drifts for long.
 */
import { statfs } from 'node:fs/promises';
import type { ChunkId } from '../meta/types.js';
import type { ChunkStore } from './chunk-store.js';

/** Space figures as the master and the registry want them, in bytes. */
export interface SpaceSnapshot {
  readonly chunkCount: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/** The datanode's view of its chunks and disk; see the module comment. */
export class DatanodeState {
  private sizes = new Map<ChunkId, number>();
  /** Sum of `sizes`, kept up to date by every change. */
  private usedBytes = 0;
  private readonly corrupt = new Set<ChunkId>();
  /** Ids written or deleted while a refresh lists the disk; their in-memory state wins. */
  private touchedDuringRefresh: Set<ChunkId> | null = null;
  private fsFreeBytes = 0;
  private fsTotalBytes = 0;
  private transfers = 0;

  constructor(
    private readonly store: ChunkStore,
    /** Cap on the advertised total space (`--capacity`), or undefined for the whole disk. */
    private readonly capacityBytes: number | undefined,
  ) {}

  /** Re-reads the chunk list and the filesystem's space; returns the chunk ids held. */
  async refresh(): Promise<ChunkId[]> {
    const touched = new Set<ChunkId>();
    this.touchedDuringRefresh = touched;
    try {
      const listed = await this.store.listChunks();
      await this.refreshSpace();
      const next = new Map(listed.map(({ chunkId, size }) => [chunkId, size] as const));
      for (const id of touched) {
        const size = this.sizes.get(id);
        if (size === undefined) next.delete(id);
        else next.set(id, size);
      }
      this.sizes = next;
      this.usedBytes = [...next.values()].reduce((sum, size) => sum + size, 0);
      for (const id of this.corrupt) if (!next.has(id)) this.corrupt.delete(id);
      return [...next.keys()].sort();
    } finally {
      this.touchedDuringRefresh = null;
    }
  }

  /** Re-reads only the filesystem's free and total space. */
  async refreshSpace(): Promise<void> {
    const info = await statfs(this.store.dataDir);
    this.fsFreeBytes = info.bavail * info.bsize;
    this.fsTotalBytes = info.blocks * info.bsize;
  }

  /** A chunk was stored (or rewritten): it is held and, being fresh, not corrupt. */
  recordWrite(chunkId: ChunkId, size: number): void {
    this.touchedDuringRefresh?.add(chunkId);
    this.usedBytes += size - (this.sizes.get(chunkId) ?? 0);
    this.sizes.set(chunkId, size);
    this.corrupt.delete(chunkId);
  }

  /** A chunk was deleted. */
  recordDelete(chunkId: ChunkId): void {
    this.touchedDuringRefresh?.add(chunkId);
    this.usedBytes -= this.sizes.get(chunkId) ?? 0;
    this.sizes.delete(chunkId);
    this.corrupt.delete(chunkId);
  }

  /** A read or the scrubber found the chunk corrupt; reported in every heartbeat until it goes. */
  markCorrupt(chunkId: ChunkId): boolean {
    const fresh = !this.corrupt.has(chunkId);
    this.corrupt.add(chunkId);
    return fresh;
  }

  isCorrupt(chunkId: ChunkId): boolean {
    return this.corrupt.has(chunkId);
  }

  /** Corrupt chunks still on disk, sorted. */
  corruptChunkIds(): ChunkId[] {
    return [...this.corrupt].filter((id) => this.sizes.has(id)).sort();
  }

  /** Chunk ids held, sorted (as of the last write, delete or refresh). */
  chunkIds(): ChunkId[] {
    return [...this.sizes.keys()].sort();
  }

  /** Counts, used space and the space advertised (capped by `--capacity`). */
  space(): SpaceSnapshot {
    const usedBytes = this.usedBytes;
    const cap = this.capacityBytes;
    const totalBytes = cap === undefined ? this.fsTotalBytes : Math.min(cap, this.fsTotalBytes);
    const freeBytes =
      cap === undefined
        ? this.fsFreeBytes
        : Math.min(this.fsFreeBytes, Math.max(0, cap - usedBytes));
    return { chunkCount: this.sizes.size, usedBytes, freeBytes, totalBytes };
  }

  /** Whether `bytes` more fit in the advertised space. */
  hasRoomFor(bytes: number): boolean {
    return bytes <= this.space().freeBytes;
  }

  /** Runs a transfer, counting it in `load()` while it lasts. */
  async track<T>(transfer: () => Promise<T>): Promise<T> {
    this.transfers += 1;
    try {
      return await transfer();
    } finally {
      this.transfers -= 1;
    }
  }

  beginTransfer(): () => void {
    this.transfers += 1;
    let ended = false;
    return () => {
      if (!ended) this.transfers -= 1;
      ended = true;
    };
  }

  /** Transfers (PUT, GET, replicate) in flight now. */
  load(): number {
    return this.transfers;
  }
}
