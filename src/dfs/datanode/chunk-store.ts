/**
 * The datanode's chunk store (dfs-architecture.md, "Almacenamiento de Chunks" and
 * "Verificación de Integridad"): each chunk is `{chunk_id}.chunk` (its bytes) and
 * `{chunk_id}.checksum` (its SHA-256) in one flat data directory.
 *
 * The `.checksum` file's first line is the chunk's SHA-256 in hex, exactly the seed's file;
 * two more lines hold the size and a CRC-32 per 64 KiB block, so that a byte range can be
 * verified without reading the whole chunk (see `formatChecksumFile`).
 *
 * Guarantees:
 * - Writes stream into `.tmp/`, hashing as they go; the file and its checksum are fsynced, then
 *   renamed into place (checksum first, chunk last: the `.chunk` rename is the commit point),
 *   then the directory is fsynced. A failed or mismatching write leaves nothing behind.
 * - Reads never serve a corrupt chunk as good: a range read checks every block against its
 *   CRC-32 before pushing it; a whole-chunk read checks the SHA-256 and fails the stream before
 *   it ends (and, with `blockChecksOnWholeReads`, the CRCs too); a size mismatch fails the read
 *   before it starts. Failures are `ChunkCorruptError` and call `onCorrupt`.
 * - Memory does not grow with chunk size: one read buffer at a time, streams everywhere.
 * - Only lowercase canonical UUIDs are chunk ids, so no id can name a path outside the store.
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  statfs,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TesseraError } from '../../core/errors.js';
import {
  ChunkDecryptor,
  ChunkEncryptor,
  encryptedSize,
  type KeyRing,
} from '../../security/encryption.js';
import { isValidChunkId, type ChunkId } from '../meta/types.js';
import {
  checkWholeFile,
  formatChecksumFile,
  HashingFileWriter,
  KeyedMutex,
  parseChecksumFile,
  unlessMissing,
  VerifiedChunkReader,
  type ChecksumFile,
} from './chunk-files.js';
import { fsyncDirectory as fsyncDir, writeDurably } from '../../core/durable-files.js';

export { isValidChunkId };
export {
  CHECKSUM_BLOCK_BYTES,
  formatChecksumFile,
  parseChecksumFile,
  type ChecksumFile,
} from './chunk-files.js';

const TMP_DIR = '.tmp';

/** The id is not a lowercase canonical UUID (400). */
export class InvalidChunkIdError extends TesseraError {
  constructor(value: string) {
    super('BAD_REQUEST', `invalid chunk id: ${JSON.stringify(value).slice(0, 80)}`);
  }
}

/** The chunk is not in this store (404). */
export class ChunkNotFoundError extends TesseraError {
  constructor(readonly chunkId: ChunkId) {
    super('NOT_FOUND', `chunk ${chunkId} not found`, { extensions: { chunkId } });
  }
}

/** The stored chunk does not match its checksum: never served, reported to the master. */
export class ChunkCorruptError extends TesseraError {
  constructor(
    readonly chunkId: ChunkId,
    reason: string,
  ) {
    super('INTERNAL', `chunk ${chunkId} is corrupt: ${reason}`, { extensions: { chunkId } });
  }
}

/** The bytes received do not have the SHA-256 the writer announced (422); nothing was stored. */
export class ChecksumMismatchError extends TesseraError {
  constructor(chunkId: ChunkId, expected: string, actual: string) {
    super('UNPROCESSABLE', `chunk ${chunkId}: expected SHA-256 ${expected}, got ${actual}`, {
      extensions: { chunkId, expected, actual },
    });
  }
}

/** The bytes received are not as many as announced (400); nothing was stored. */
export class ChunkSizeMismatchError extends TesseraError {
  constructor(chunkId: ChunkId, expected: number, actual: string) {
    super('BAD_REQUEST', `chunk ${chunkId}: expected ${expected} bytes, got ${actual}`, {
      extensions: { chunkId, expected },
    });
  }
}

/** The chunk is larger than the store accepts (413); nothing was stored. */
export class ChunkTooLargeError extends TesseraError {
  constructor(chunkId: ChunkId, maxBytes: number) {
    super('PAYLOAD_TOO_LARGE', `chunk ${chunkId} exceeds ${maxBytes} bytes`, {
      extensions: { chunkId, maxBytes },
    });
  }
}

/** The chunk is encrypted with a key this datanode was not given (503): a setup problem. */
export class ChunkKeyUnavailableError extends TesseraError {
  constructor(chunkId: ChunkId, keyId: string) {
    super(
      'UNAVAILABLE',
      `chunk ${chunkId} is encrypted with key ${JSON.stringify(keyId)}, which is not in this datanode's --key-file`,
      { extensions: { chunkId, keyId } },
    );
  }
}

/** The requested byte range starts beyond the chunk (416); `size` is for `Content-Range`. */
export class ChunkRangeError extends TesseraError {
  constructor(
    chunkId: ChunkId,
    readonly size: number,
  ) {
    super('RANGE_NOT_SATISFIABLE', `range outside chunk ${chunkId} of ${size} bytes`, {
      extensions: { chunkId, size },
    });
  }
}

/** Options of `ChunkStore.open`. */
export interface ChunkStoreOptions {
  /** Largest chunk accepted, in bytes. Default 2 GiB. */
  readonly maxChunkBytes?: number;
  /**
   * Whether whole-chunk reads also check each block's CRC-32 before emitting it (corrupt bytes
   * never leave the node) instead of only the SHA-256 at the end (the stream then fails before
   * it ends). Default false: the SHA-256 alone is enough to never serve a corrupt chunk as
   * good, and skipping the CRCs makes whole reads about 1.5x faster here.
   */
  readonly blockChecksOnWholeReads?: boolean;
  /** Called whenever a read finds a chunk corrupt (the datanode reports it to the master). */
  readonly onCorrupt?: (chunkId: ChunkId, reason: string) => void;
  /**
   * Encryption at rest (`--encrypt`, `--key-file`; src/security/encryption.ts): with
   * `encryptWrites`, new chunks are sealed with the ring's newest key; encrypted chunks are read
   * with the key their checksum file names. Default: no keys, nothing encrypted.
   */
  readonly encryption?: { readonly keys: KeyRing; readonly encryptWrites: boolean };
}

/** An open chunk: its file, its checksum file and, when encrypted, its decryptor. */
interface OpenChunk {
  readonly fh: FileHandle;
  readonly sum: ChecksumFile;
  readonly decryptor?: ChunkDecryptor;
}

/** What a write checks before it commits. */
export interface WriteExpectations {
  /** The SHA-256 the writer computed (lowercase hex); a mismatch stores nothing. */
  readonly expectedSha256?: string;
  /** The number of bytes the writer announced (e.g. Content-Length). */
  readonly expectedSize?: number;
}

/** A started read: the stream and what an HTTP answer needs (`end` is inclusive). */
export interface ChunkRead {
  readonly stream: Readable;
  /** Size of the whole chunk. */
  readonly size: number;
  readonly start: number;
  readonly end: number;
  readonly sha256: string;
}

/** The verification outcome of one chunk. */
export type ChunkHealth = 'ok' | 'corrupt' | 'missing';

/** Space used by chunks and space of the filesystem under the data directory, in bytes. */
export interface ChunkStoreStats {
  readonly chunkCount: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/** The chunk files of one data directory; create it with `ChunkStore.open`. */
export class ChunkStore {
  private readonly locks = new KeyedMutex();
  private readonly tmpDir: string;
  private readonly maxChunkBytes: number;

  private constructor(
    readonly dataDir: string,
    private readonly options: ChunkStoreOptions,
  ) {
    this.tmpDir = join(dataDir, TMP_DIR);
    this.maxChunkBytes = options.maxChunkBytes ?? 2 * 1024 ** 3;
  }

  /**
   * Opens (creating if needed) the store in `dataDir`: empties `.tmp/` (torn writes of a previous
   * run) and removes `.checksum` files whose chunk never got committed.
   */
  static async open(dataDir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    const store = new ChunkStore(dataDir, options);
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    const names = new Set(await readdir(dataDir));
    for (const name of names) {
      const id = name.endsWith('.checksum') ? name.slice(0, -'.checksum'.length) : null;
      if (id !== null && isValidChunkId(id) && !names.has(`${id}.chunk`)) {
        await unlessMissing(() => unlink(join(dataDir, name)), undefined);
      }
    }
    await fsyncDir(dataDir);
    return store;
  }

  /**
   * Stores a chunk from a stream and returns its SHA-256 and size once it is durable. Rejects,
   * leaving nothing behind, if the stream fails, the size or checksum differs from what was
   * announced, or the chunk exceeds `maxChunkBytes`. Rewriting a chunk replaces it atomically.
   */
  async writeChunk(
    chunkId: string,
    source: AsyncIterable<Uint8Array> | Readable,
    expect: WriteExpectations = {},
  ): Promise<{ sha256: string; size: number }> {
    const id = checkedId(chunkId);
    const base = join(this.tmpDir, `${id}.${randomUUID()}`);
    const [tmpChunk, tmpSum] = [`${base}.chunk`, `${base}.checksum`];
    try {
      const sum = await this.receive(id, source, tmpChunk, expect);
      await writeDurably(tmpSum, formatChecksumFile(sum), { exclusive: true });
      await this.locks.run(id, () => this.commit(id, tmpChunk, tmpSum, sum.sha256));
      return { sha256: sum.sha256, size: sum.size };
    } catch (error) {
      await rm(tmpChunk, { force: true });
      await rm(tmpSum, { force: true });
      throw error;
    }
  }

  /**
   * Opens a chunk for reading, whole or the inclusive byte range [start, end] (end is clamped
   * to the last byte, as HTTP does). The stream fails with `ChunkCorruptError` before it would
   * emit a block that does not match its checksum.
   */
  async readChunk(
    chunkId: string,
    range: { start?: number; end?: number } = {},
  ): Promise<ChunkRead> {
    const id = checkedId(chunkId);
    const { fh, sum, decryptor } = await this.openVerified(id);
    const start = range.start ?? 0;
    const end = Math.min(range.end ?? sum.size - 1, sum.size - 1);
    const rangeGiven = range.start !== undefined || range.end !== undefined;
    const valid = Number.isSafeInteger(start) && start >= 0 && Number.isSafeInteger(end);
    if (!valid || (rangeGiven && (start >= sum.size || end < start))) {
      await fh.close();
      throw new ChunkRangeError(id, sum.size);
    }
    const corrupt = (reason: string): Error => this.corrupt(id, reason);
    const mode = this.options.blockChecksOnWholeReads === true ? 'both' : 'sha256';
    const stream = new VerifiedChunkReader(fh, sum, start, end, corrupt, mode, decryptor);
    return { stream, size: sum.size, start, end, sha256: sum.sha256 };
  }

  /** Reads a whole chunk and checks it; `onRead` is awaited after each read (rate limiting). */
  async verifyChunk(
    chunkId: string,
    options: { onRead?: (bytes: number) => Promise<void> } = {},
  ): Promise<ChunkHealth> {
    const id = checkedId(chunkId);
    let opened: OpenChunk;
    try {
      opened = await this.openVerified(id, false);
    } catch (error) {
      if (error instanceof ChunkNotFoundError) return 'missing';
      if (error instanceof ChunkCorruptError) return 'corrupt';
      throw error;
    }
    const { fh, sum, decryptor } = opened;
    try {
      return (await checkWholeFile(fh, sum, options.onRead, decryptor)) ? 'ok' : 'corrupt';
    } finally {
      await fh.close();
    }
  }

  /** Deletes a chunk; false if it was not there. */
  async deleteChunk(chunkId: string): Promise<boolean> {
    const id = checkedId(chunkId);
    return this.locks.run(id, async () => {
      const existed = await unlessMissing(
        async () => (await unlink(this.chunkPath(id)), true),
        false,
      );
      await unlessMissing(() => unlink(this.checksumPath(id)), undefined);
      await fsyncDir(this.dataDir);
      return existed;
    });
  }

  /** Every committed chunk and its size on disk. */
  async listChunks(): Promise<{ chunkId: ChunkId; size: number }[]> {
    const ids = (await readdir(this.dataDir))
      .filter((name) => name.endsWith('.chunk'))
      .map((name) => name.slice(0, -'.chunk'.length))
      .filter(isValidChunkId);
    const found: { chunkId: ChunkId; size: number }[] = [];
    for (let i = 0; i < ids.length; i += 64) {
      const batch = ids.slice(i, i + 64).map(async (chunkId) => {
        const info = await unlessMissing(() => stat(this.chunkPath(chunkId)), null);
        if (info !== null) found.push({ chunkId, size: info.size });
      });
      await Promise.all(batch);
    }
    return found;
  }

  /** Chunk count and bytes used, and the free and total bytes of the filesystem (`statfs`). */
  async stats(): Promise<ChunkStoreStats> {
    const chunks = await this.listChunks();
    const fsInfo = await statfs(this.dataDir);
    return {
      chunkCount: chunks.length,
      usedBytes: chunks.reduce((sum, c) => sum + c.size, 0),
      freeBytes: fsInfo.bavail * fsInfo.bsize,
      totalBytes: fsInfo.blocks * fsInfo.bsize,
    };
  }

  /** The size of a stored chunk's bytes (plaintext, as its checksum file says), or null. */
  async chunkSize(chunkId: string): Promise<number | null> {
    return (await this.readChecksum(checkedId(chunkId)))?.size ?? null;
  }

  /** Path of a chunk's data file (for tests and manual recovery). */
  chunkPath(chunkId: ChunkId): string {
    return join(this.dataDir, `${checkedId(chunkId)}.chunk`);
  }

  /** Path of a chunk's checksum file. */
  checksumPath(chunkId: ChunkId): string {
    return join(this.dataDir, `${checkedId(chunkId)}.checksum`);
  }

  private async receive(
    id: ChunkId,
    source: AsyncIterable<Uint8Array> | Readable,
    tmpChunk: string,
    expect: WriteExpectations,
  ): Promise<ChecksumFile> {
    const limit = Math.min(this.maxChunkBytes, expect.expectedSize ?? Infinity);
    const fh = await open(tmpChunk, 'wx');
    try {
      const tooLarge = (): Error =>
        expect.expectedSize !== undefined && expect.expectedSize < this.maxChunkBytes
          ? new ChunkSizeMismatchError(id, expect.expectedSize, 'more')
          : new ChunkTooLargeError(id, this.maxChunkBytes);
      const encryption = this.options.encryption;
      const encryptor = encryption?.encryptWrites
        ? new ChunkEncryptor(encryption.keys.newest(), id)
        : undefined;
      const writer = new HashingFileWriter(fh, limit, tooLarge, encryptor);
      await pipeline(source, writer);
      const sum = writer.summary();
      if (expect.expectedSize !== undefined && sum.size !== expect.expectedSize) {
        throw new ChunkSizeMismatchError(id, expect.expectedSize, String(sum.size));
      }
      const wanted = expect.expectedSha256?.toLowerCase();
      if (wanted !== undefined && wanted !== sum.sha256) {
        throw new ChecksumMismatchError(id, wanted, sum.sha256);
      }
      return sum;
    } finally {
      await fh.close();
    }
  }

  /** Moves a received chunk into place; the `.chunk` rename is the commit point. */
  private async commit(
    id: ChunkId,
    tmpChunk: string,
    tmpSum: string,
    sha256: string,
  ): Promise<void> {
    const current = await this.readChecksum(id);
    if (current?.sha256 !== sha256) {
      // Different (or unknown) bytes under this id: never pair the new checksum with old bytes.
      await unlessMissing(() => unlink(this.chunkPath(id)), undefined);
    }
    await rename(tmpSum, this.checksumPath(id));
    await rename(tmpChunk, this.chunkPath(id));
    await fsyncDir(this.dataDir);
  }

  private async readChecksum(id: ChunkId): Promise<ChecksumFile | null> {
    const text = await unlessMissing(() => readFile(this.checksumPath(id), 'utf8'), null);
    return text === null ? null : parseChecksumFile(text);
  }

  /** Opens the chunk and its checksum together (under the chunk's lock) and checks the size. */
  private async openVerified(id: ChunkId, report = true): Promise<OpenChunk> {
    const opened = await this.locks.run(id, async () => {
      const fh = await unlessMissing(() => open(this.chunkPath(id), fsConstants.O_RDONLY), null);
      if (fh === null) return null;
      return { fh, sum: await this.readChecksum(id).catch(() => null) };
    });
    if (opened === null) throw new ChunkNotFoundError(id);
    const { fh, sum } = opened;
    const failure =
      sum === null ? 'missing or malformed checksum file' : await sizeFailure(fh, sum);
    if (failure !== null || sum === null) {
      await fh.close();
      throw report ? this.corrupt(id, failure ?? '') : new ChunkCorruptError(id, failure ?? '');
    }
    if (sum.encryption === undefined) return { fh, sum };
    const key = this.options.encryption?.keys.get(sum.encryption.keyId);
    if (key === undefined) {
      await fh.close();
      throw new ChunkKeyUnavailableError(id, sum.encryption.keyId);
    }
    return { fh, sum, decryptor: new ChunkDecryptor(key, id, sum.encryption, sum.size) };
  }

  private corrupt(id: ChunkId, reason: string): ChunkCorruptError {
    this.options.onCorrupt?.(id, reason);
    return new ChunkCorruptError(id, reason);
  }
}

function checkedId(value: string): ChunkId {
  if (!isValidChunkId(value)) throw new InvalidChunkIdError(value);
  return value;
}

async function sizeFailure(fh: FileHandle, sum: ChecksumFile): Promise<string | null> {
  const { size } = await fh.stat();
  if (sum.encryption === undefined) {
    return size === sum.size ? null : `size ${size} on disk, ${sum.size} in checksum file`;
  }
  const expected = encryptedSize(sum.size, sum.encryption.segmentBytes);
  return size === expected ? null : `size ${size} on disk, ${expected} for ${sum.size} encrypted`;
}
