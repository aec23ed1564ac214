import { createReadStream } from 'node:fs';
import { open, stat as statFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { HttpStatusError } from '../../core/errors-http-client.js';
import { HttpClient } from '../../core/http-client.js';
import type { DiscoveryClient } from '../../registry/index.js';
import type { FileAclView, FileMetadata } from '../meta/types.js';
import type { FileSummary } from '../meta/views.js';
import {
  ChunkChecksumError,
  readChunkVerified,
  uploadChunkToTargets,
  type TargetResult,
} from './chunk-transfer.js';

export interface DfsClientOptions {
  /** The master's base URL; when absent it is found in the registry (role `dfs-meta`). */
  readonly metaUrl?: string;
  readonly discovery?: DiscoveryClient;
  readonly http?: HttpClient;
  /** Chunks uploaded or downloaded at once. Default 4. */
  readonly parallelChunks?: number;
  /** Identifies this client's leases. Default: a random id per upload. */
  readonly clientId?: string;
}

export interface PutOptions {
  readonly replication?: number;
  readonly chunkSize?: number;
  readonly overwrite?: boolean;
  /** Called with the number of new bytes sent (once per byte of the file, not per replica). */
  readonly onProgress?: (bytes: number) => void;
  /** ACL mode bits of the new file, e.g. 0o600 (clusters with --auth; default 0o644). */
  readonly mode?: number;
  /** ACL group of the new file (default: the uploader's first group). */
  readonly group?: string;
}

export interface GetOptions {
  readonly onProgress?: (bytes: number) => void;
}

interface UploadPlan {
  file_id: string;
  size: number;
  replication_factor: number;
  min_replicas: number;
  chunks: {
    chunk_id: string;
    seq_index: number;
    offset: number;
    size: number;
    targets: { node_id: string; url: string }[];
    /** The master's write token for this chunk (clusters with --auth). */
    token?: string;
  }[];
}

/** A source of chunk bytes: re-readable (a local file) or not (a stream). */
type ChunkSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'stream'; readonly stream: Readable };

/** What `getStream` reads: bytes `[start, end)`, and the file id the path must still name. */
export interface StreamRange {
  readonly start?: number;
  readonly end?: number;
  readonly fileId?: string;
}

/** The path names another file than the one expected (overwritten, or deleted and re-created). */
export class FileChangedError extends Error {
  constructor(
    readonly path: string,
    readonly expectedFileId: string,
    readonly actualFileId: string,
  ) {
    super(`${path} changed: it is now file ${actualFileId}, not ${expectedFileId}`);
    this.name = 'FileChangedError';
  }
}

/**
 * The DFS client library (dfs-architecture.md, "Cliente"): uploads as upload-init, chunks
 * streamed to all their targets in parallel from one read, commit; downloads chunk by chunk
 * from the best replica, verified, failing over to the next replica. Used by the CLI, the
 * dashboard, MapReduce and search.
 */
export class DfsClient {
  readonly http: HttpClient;
  private readonly ownsHttp: boolean;

  constructor(private readonly options: DfsClientOptions = {}) {
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpClient({ timeoutMs: 60_000, connectionsPerOrigin: 16 });
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }

  /** The master's URL (explicit, or the registry's `dfs-meta` server). */
  async metaUrl(): Promise<string> {
    if (this.options.metaUrl) return this.options.metaUrl;
    if (!this.options.discovery) throw new Error('DfsClient needs metaUrl or a discovery client');
    return (await this.options.discovery.select('dfs-meta', 'first')).url;
  }

  /** Uploads a local file. */
  async putFile(
    localPath: string,
    remotePath: string,
    options: PutOptions = {},
  ): Promise<FileMetadata> {
    const { size } = await statFile(localPath);
    return this.upload({ kind: 'file', path: localPath }, size, remotePath, options);
  }

  /** Uploads bytes from a stream of known size (chunks that fail cannot be re-sent). */
  async putStream(
    stream: Readable,
    size: number,
    remotePath: string,
    options: PutOptions = {},
  ): Promise<FileMetadata> {
    return this.upload({ kind: 'stream', stream }, size, remotePath, options);
  }

  async putBuffer(
    data: Buffer | string,
    remotePath: string,
    options: PutOptions = {},
  ): Promise<FileMetadata> {
    const buffer = typeof data === 'string' ? Buffer.from(data) : data;
    return this.putStream(Readable.from([buffer]), buffer.length, remotePath, options);
  }

  private async upload(
    source: ChunkSource,
    size: number,
    remotePath: string,
    options: PutOptions,
  ): Promise<FileMetadata> {
    const meta = await this.metaUrl();
    const plan = await this.http.postJson<UploadPlan>(`${meta}/api/v1/files/upload-init`, {
      path: remotePath,
      size,
      ...(options.replication === undefined ? {} : { replication: options.replication }),
      ...(options.chunkSize === undefined ? {} : { chunk_size: options.chunkSize }),
      ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
      ...(this.options.clientId === undefined ? {} : { client_id: this.options.clientId }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
      ...(options.group === undefined ? {} : { group: options.group }),
    });
    try {
      const confirmed = await this.uploadChunks(
        meta,
        plan,
        source,
        options.onProgress ?? (() => {}),
      );
      return await this.http.postJson<FileMetadata>(
        `${meta}/api/v1/files/commit`,
        {
          file_id: plan.file_id,
          chunks: confirmed,
        },
        { idempotent: true },
      );
    } catch (error) {
      await this.http
        .postJson(`${meta}/api/v1/files/abort`, { file_id: plan.file_id })
        .catch(() => undefined);
      throw error;
    }
  }

  private async uploadChunks(
    meta: string,
    plan: UploadPlan,
    source: ChunkSource,
    onProgress: (bytes: number) => void,
  ) {
    const results: { chunk_id: string; size: number; checksum: string; replicas: string[] }[] = [];
    if (source.kind === 'stream') {
      // One stream can only be read in order: chunks go one after the other.
      const reader = chunkReader(source.stream);
      for (const chunk of plan.chunks) {
        results.push(
          await this.uploadOne(meta, plan, chunk, () => reader.next(chunk.size), false, onProgress),
        );
      }
      return results;
    }
    const parallel = Math.max(1, this.options.parallelChunks ?? 4);
    let next = 0;
    const workers = Array.from({ length: Math.min(parallel, plan.chunks.length) }, async () => {
      while (next < plan.chunks.length) {
        const chunk = plan.chunks[next++];
        if (!chunk) break;
        const open = (): Readable =>
          createReadStream(source.path, {
            start: chunk.offset,
            end: chunk.offset + chunk.size - 1,
            highWaterMark: 1024 * 1024,
          });
        results[chunk.seq_index] = await this.uploadOne(meta, plan, chunk, open, true, onProgress);
      }
    });
    await Promise.all(workers);
    return results;
  }

  /** Uploads one chunk to its targets; on failures, asks for replacements and re-sends (files only). */
  private async uploadOne(
    meta: string,
    plan: UploadPlan,
    chunk: UploadPlan['chunks'][number],
    open: () => Readable,
    rereadable: boolean,
    onProgress: (bytes: number) => void,
  ) {
    const wanted = chunk.targets.length;
    const good: TargetResult[] = [];
    const failed: string[] = [];
    let targets = chunk.targets;
    let checksum = '';
    let reported = false;
    for (let round = 0; round < 4 && targets.length > 0; round += 1) {
      const sent = await uploadChunkToTargets(
        this.http,
        chunk.chunk_id,
        chunk.size,
        open(),
        targets,
        (bytes) => {
          if (!reported) onProgress(bytes);
        },
        chunk.token,
      );
      reported = true;
      checksum = sent.checksum;
      good.push(...sent.results.filter((result) => result.ok));
      failed.push(...sent.results.filter((result) => !result.ok).map((result) => result.nodeId));
      if (good.length >= wanted || !rereadable) break;
      targets = await this.replacements(
        meta,
        plan.file_id,
        chunk.chunk_id,
        wanted - good.length,
        failed,
      );
    }
    if (good.length < plan.min_replicas) {
      throw new Error(
        `chunk ${chunk.seq_index} reached ${good.length} of ${plan.min_replicas} required replicas; are enough datanodes up? (tessera nodes --role datanode)`,
      );
    }
    return {
      chunk_id: chunk.chunk_id,
      size: chunk.size,
      checksum,
      replicas: good.map((result) => result.nodeId),
    };
  }

  private async replacements(
    meta: string,
    fileId: string,
    chunkId: string,
    count: number,
    exclude: string[],
  ) {
    const targets: { node_id: string; url: string }[] = [];
    for (let index = 0; index < count; index += 1) {
      try {
        const target = await this.http.postJson<{ node_id: string; url: string }>(
          `${meta}/api/v1/files/allocate`,
          {
            file_id: fileId,
            chunk_id: chunkId,
            exclude: [...exclude, ...targets.map((t) => t.node_id)],
          },
        );
        targets.push(target);
      } catch (error) {
        if (error instanceof HttpStatusError && error.status === 503) break;
        throw error;
      }
    }
    return targets;
  }

  /** Downloads a file to a local path: chunks in parallel, each verified, written at its offset. */
  async getFile(
    remotePath: string,
    localPath: string,
    options: GetOptions = {},
  ): Promise<FileMetadata> {
    const metadata = await this.stat(remotePath);
    const handle = await open(localPath, 'w');
    try {
      await handle.truncate(metadata.size);
      const parallel = Math.max(1, this.options.parallelChunks ?? 4);
      let next = 0;
      const workers = Array.from(
        { length: Math.min(parallel, metadata.chunks.length) },
        async () => {
          while (next < metadata.chunks.length) {
            const chunk = metadata.chunks[next++];
            if (!chunk) break;
            const offset = metadata.chunks
              .slice(0, chunk.seq_index)
              .reduce((sum, c) => sum + c.size, 0);
            await this.readChunkInto(
              chunk,
              async (piece, at) => {
                await handle.write(piece, 0, piece.length, offset + at);
              },
              options.onProgress,
            );
          }
        },
      );
      await Promise.all(workers);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return metadata;
  }

  /** Reads a chunk into positional writes; a checksum failure re-reads it from other replicas. */
  private async readChunkInto(
    chunk: FileMetadata['chunks'][number],
    write: (piece: Buffer, at: number) => Promise<void>,
    onProgress?: (bytes: number) => void,
  ): Promise<void> {
    let replicas = chunk.replicas;
    for (let attempt = 0; attempt < Math.max(1, chunk.replicas.length); attempt += 1) {
      let at = 0;
      try {
        await readChunkVerified(this.http, { ...chunk, replicas }, async (piece) => {
          await write(piece, at);
          at += piece.length;
          if (attempt === 0) onProgress?.(piece.length);
        });
        return;
      } catch (error) {
        if (!(error instanceof ChunkChecksumError)) throw error;
        replicas = [...replicas.slice(1), ...replicas.slice(0, 1)];
      }
    }
    throw new Error(`chunk ${chunk.chunk_id}: every replica failed its checksum`);
  }

  /**
   * A verified stream of a file (or of `[start, end)`), chunk after chunk. With `fileId`, the
   * path must still name that file (files are immutable; an overwrite makes a new file id):
   * otherwise the stream fails with a `FileChangedError`.
   */
  getStream(remotePath: string, range: StreamRange = {}): Readable {
    return Readable.from(this.streamPieces(remotePath, range), { objectMode: false });
  }

  private async *streamPieces(remotePath: string, range: StreamRange): AsyncGenerator<Buffer> {
    const metadata = await this.stat(remotePath);
    if (range.fileId !== undefined && metadata.file_id !== range.fileId) {
      throw new FileChangedError(remotePath, range.fileId, metadata.file_id);
    }
    const start = range.start ?? 0;
    const end = Math.min(range.end ?? metadata.size, metadata.size);
    let offset = 0;
    for (const chunk of metadata.chunks) {
      const chunkStart = offset;
      offset += chunk.size;
      if (offset <= start || chunkStart >= end) continue;
      yield* this.chunkPieces(
        chunk,
        Math.max(0, start - chunkStart),
        Math.min(chunk.size, end - chunkStart),
      );
    }
  }

  /** One chunk's verified pieces, handed from the reader to the consumer as they arrive. */
  private async *chunkPieces(
    chunk: FileMetadata['chunks'][number],
    start: number,
    end: number,
  ): AsyncGenerator<Buffer> {
    const pieces: Buffer[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let failure: Error | undefined;
    const reading = readChunkVerified(
      this.http,
      chunk,
      (piece) => {
        pieces.push(piece);
        wake?.();
      },
      { start, end },
    )
      .catch((error: unknown) => {
        failure = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        done = true;
        wake?.();
      });
    while (!done || pieces.length > 0) {
      const piece = pieces.shift();
      if (piece) yield piece;
      else await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
    await reading;
    if (failure) throw failure;
  }

  async getBuffer(remotePath: string): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for await (const piece of this.getStream(remotePath)) pieces.push(piece as Buffer);
    return Buffer.concat(pieces);
  }

  async stat(remotePath: string): Promise<FileMetadata> {
    const meta = await this.metaUrl();
    return this.http.getJson<FileMetadata>(`${meta}/api/v1/files${encodePath(remotePath)}`);
  }

  async list(
    query: { prefix?: string; dir?: string; limit?: number; after?: string } = {},
  ): Promise<{
    files: FileSummary[];
    directories: string[];
    next_after: string | null;
  }> {
    const meta = await this.metaUrl();
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) params.set(key, String(value));
    return this.http.getJson(`${meta}/api/v1/files?${params.toString()}`);
  }

  async delete(remotePath: string): Promise<void> {
    const meta = await this.metaUrl();
    await this.http.deleteJson(`${meta}/api/v1/files${encodePath(remotePath)}`);
  }

  /**
   * Changes a file's ACL (clusters with --auth): the owner may change its group and mode, an
   * admin also its owner. Answers the file's ACL as it now is.
   */
  async setAcl(
    remotePath: string,
    change: { mode?: number; group?: string | null; owner?: string },
  ): Promise<{ path: string; acl: FileAclView }> {
    const meta = await this.metaUrl();
    return this.http.postJson(
      `${meta}/api/v1/files/acl`,
      { path: remotePath, ...change },
      { idempotent: true },
    );
  }

  async rename(from: string, to: string, overwrite = false): Promise<FileMetadata> {
    const meta = await this.metaUrl();
    return this.http.postJson(
      `${meta}/api/v1/files/rename`,
      { from, to, overwrite },
      { idempotent: true },
    );
  }
}

/** Encodes each segment of an absolute DFS path for a URL. */
export function encodePath(path: string): string {
  const absolute = path.startsWith('/') ? path : `/${path}`;
  return absolute.split('/').map(encodeURIComponent).join('/');
}

/** Cuts a stream into consecutive chunk streams of given sizes, without buffering whole chunks. */
function chunkReader(stream: Readable): { next(size: number): Readable } {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let leftover: Buffer | undefined;
  return {
    next(size: number): Readable {
      let remaining = size;
      return Readable.from(
        (async function* () {
          while (remaining > 0) {
            let piece = leftover;
            leftover = undefined;
            if (!piece) {
              const item = await iterator.next();
              if (item.done) throw new Error('the stream ended before its declared size');
              piece = Buffer.isBuffer(item.value) ? item.value : Buffer.from(item.value);
            }
            if (piece.length > remaining) {
              leftover = piece.subarray(remaining);
              piece = piece.subarray(0, remaining);
            }
            remaining -= piece.length;
            yield piece;
          }
        })(),
      );
    },
  };
}
