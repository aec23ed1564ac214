/**
 * The on-disk format and streaming pieces of the chunk store (see chunk-store.ts): the
 * `.checksum` file, block/SHA-256 verification, the hashing writer, the verifying reader, and
 * small durable-I/O helpers.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  formatEncryptionLine,
  parseEncryptionLine,
  SegmentAuthError,
  type ChunkDecryptor,
  type ChunkEncryption,
  type ChunkEncryptor,
} from '../../security/encryption.js';

/** Bytes covered by one CRC-32 in the `.checksum` file of new chunks. */
export const CHECKSUM_BLOCK_BYTES = 64 * 1024;
/** Bytes per disk read when streaming or verifying a chunk (four checksum blocks). */
export const READ_BYTES = 4 * CHECKSUM_BLOCK_BYTES;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Parsed `.checksum` file. */
export interface ChecksumFile {
  readonly sha256: string;
  readonly size: number;
  readonly blockBytes: number;
  /** CRC-32 of each block, in order. */
  readonly blockCrcs: readonly number[];
  /** How the `.chunk` file is encrypted (`--encrypt`); absent for a plaintext chunk. */
  readonly encryption?: ChunkEncryption;
}

/**
 * The `.checksum` file: line 1 the SHA-256 (the seed's whole file), line 2
 * `tessera-chunk v1 size=<bytes> block=<bytes>`, line 3 `crc32` and one 8-digit hex CRC per block,
 * and for an encrypted chunk line 4 `aes-256-gcm key=<id> salt=<hex> segment=<bytes>`. Sizes and
 * checksums are of the plaintext.
 */
export function formatChecksumFile(sum: ChecksumFile): string {
  const crcs = sum.blockCrcs.map((c) => ` ${c.toString(16).padStart(8, '0')}`).join('');
  const encryption = sum.encryption ? `${formatEncryptionLine(sum.encryption)}\n` : '';
  return `${sum.sha256}\ntessera-chunk v1 size=${sum.size} block=${sum.blockBytes}\ncrc32${crcs}\n${encryption}`;
}

/** Parses a `.checksum` file; null if it is malformed or inconsistent. */
export function parseChecksumFile(text: string): ChecksumFile | null {
  const [shaLine, header, crcLine, ...more] = text.split('\n');
  const head = /^tessera-chunk v1 size=(\d+) block=(\d+)$/.exec(header ?? '');
  if (shaLine === undefined || !SHA256_PATTERN.test(shaLine) || head === null) return null;
  const encryption = more.length === 2 ? parseEncryptionLine(more[0] ?? '') : undefined;
  if (more.at(-1) !== '' || more.length > 2 || encryption === null) return null;
  if (crcLine === undefined) return null;
  const size = Number(head[1]);
  const blockBytes = Number(head[2]);
  const tokens = crcLine.split(' ');
  if (tokens.shift() !== 'crc32' || blockBytes <= 0 || !Number.isSafeInteger(size)) return null;
  if (tokens.length !== Math.ceil(size / blockBytes)) return null;
  if (!tokens.every((t) => /^[0-9a-f]{8}$/.test(t))) return null;
  const blockCrcs = tokens.map((t) => parseInt(t, 16));
  return { sha256: shaLine, size, blockBytes, blockCrcs, ...(encryption ? { encryption } : {}) };
}

/** What a read checks: block CRCs (ranges), the SHA-256 (whole chunks), or both (scrubbing). */
export type VerifyMode = 'blocks' | 'sha256' | 'both';

/** Checks consecutive whole blocks of a chunk against their CRCs and/or the chunk's SHA-256. */
export class BlockVerifier {
  private block: number;
  private readonly hash: Hash | null;
  private readonly checkBlocks: boolean;

  constructor(
    private readonly sum: ChecksumFile,
    firstBlock: number,
    mode: VerifyMode,
  ) {
    this.block = firstBlock;
    this.hash = mode === 'blocks' ? null : createHash('sha256');
    this.checkBlocks = mode !== 'sha256';
  }

  /** Verifies `buf`, which starts on a block boundary; a reason string if it fails. */
  check(buf: Buffer): string | null {
    this.hash?.update(buf);
    if (!this.checkBlocks) return null;
    for (let offset = 0; offset < buf.length; offset += this.sum.blockBytes) {
      const piece = buf.subarray(offset, offset + this.sum.blockBytes);
      if (crc32(piece) !== this.sum.blockCrcs[this.block])
        return `block ${this.block} CRC-32 mismatch`;
      this.block += 1;
    }
    return null;
  }

  /** After the last block of a whole-chunk read: whether the SHA-256 matches. */
  finish(): string | null {
    if (this.hash === null) return null;
    const actual = this.hash.digest('hex');
    return actual === this.sum.sha256 ? null : 'SHA-256 mismatch';
  }
}

/** Hashes as it writes: SHA-256 of the whole and CRC-32 per block; enforces the size limit. */
export class HashingFileWriter extends Writable {
  size = 0;
  private readonly sha = createHash('sha256');
  private readonly crcs: number[] = [];
  private blockCrc = 0;
  private blockFill = 0;

  /** `encryptor` seals what is written (`--encrypt`); the hashes stay over the plaintext. */
  constructor(
    private readonly fh: FileHandle,
    private readonly sizeLimit: number,
    private readonly tooLarge: () => Error,
    private readonly encryptor?: ChunkEncryptor,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    try {
      for (const buf of buffers) this.absorb(buf);
    } catch (error) {
      callback(error as Error);
      return;
    }
    const out = this.encryptor ? this.encryptor.push(buffers) : buffers;
    writeAll(this.fh, out).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const tail = this.encryptor?.finish() ?? [];
    writeAll(this.fh, tail)
      .then(() => this.fh.sync())
      .then(() => callback(), callback);
  }

  /** The checksum file contents of everything written. */
  summary(): ChecksumFile {
    const blockCrcs = this.blockFill > 0 ? [...this.crcs, this.blockCrc] : [...this.crcs];
    const sha256 = this.sha.digest('hex');
    const encryption = this.encryptor?.info;
    const sum = { sha256, size: this.size, blockBytes: CHECKSUM_BLOCK_BYTES, blockCrcs };
    return encryption === undefined ? sum : { ...sum, encryption };
  }

  private absorb(buf: Buffer): void {
    this.size += buf.length;
    if (this.size > this.sizeLimit) throw this.tooLarge();
    this.sha.update(buf);
    let offset = 0;
    while (offset < buf.length) {
      const take = Math.min(CHECKSUM_BLOCK_BYTES - this.blockFill, buf.length - offset);
      this.blockCrc = crc32(buf.subarray(offset, offset + take), this.blockCrc);
      this.blockFill += take;
      offset += take;
      if (this.blockFill === CHECKSUM_BLOCK_BYTES) {
        this.crcs.push(this.blockCrc);
        this.blockCrc = 0;
        this.blockFill = 0;
      }
    }
  }
}

/** Writes every byte of `buffers` at the file's current position (partial writes resumed). */
export async function writeAll(fh: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    const rest: Buffer[] = [];
    for (const buf of pending) {
      if (bytesWritten >= buf.length) bytesWritten -= buf.length;
      else {
        rest.push(buf.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/**
 * Streams a verified byte range [start, end] of an open chunk, block by block. The next read is
 * issued before the current one is verified, so disk reads overlap hashing (two buffers at most).
 */
export class VerifiedChunkReader extends Readable {
  private position: number;
  private prefetched: Promise<Buffer> | null = null;
  private readonly verifier: BlockVerifier;
  private readonly stopAt: number;

  constructor(
    private readonly fh: FileHandle,
    private readonly sum: ChecksumFile,
    private readonly start: number,
    private readonly end: number,
    private readonly corrupt: (reason: string) => Error,
    wholeChunkMode: VerifyMode,
    private readonly decryptor?: ChunkDecryptor,
  ) {
    super({ highWaterMark: READ_BYTES });
    // Reads start on a block boundary; on a segment boundary for an encrypted chunk, so that
    // each read decrypts whole segments once (segments are whole numbers of blocks).
    const segment = sum.encryption?.segmentBytes ?? sum.blockBytes;
    const align = segment % sum.blockBytes === 0 ? segment : sum.blockBytes;
    this.position = Math.floor(start / align) * align;
    const firstBlock = this.position / sum.blockBytes;
    const lastBlock = Math.floor(end / sum.blockBytes);
    this.stopAt = Math.min(sum.size, (lastBlock + 1) * sum.blockBytes);
    const whole = start === 0 && end === sum.size - 1;
    this.verifier = new BlockVerifier(sum, firstBlock, whole ? wholeChunkMode : 'blocks');
  }

  override _read(): void {
    this.readNext().catch((error: unknown) => this.destroy(error as Error));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // FileHandle.close waits for a prefetch still in flight.
    this.fh.close().then(
      () => callback(error),
      () => callback(error),
    );
  }

  private async readNext(): Promise<void> {
    if (this.position >= this.stopAt) {
      const failure = this.verifier.finish();
      if (failure !== null) throw this.corrupt(failure);
      this.push(null);
      return;
    }
    const current = this.prefetched ?? this.fetch(this.position);
    const buf = await current;
    const next = this.position + buf.length;
    this.prefetched = next < this.stopAt ? this.fetch(next) : null;
    const failure = this.verifier.check(buf);
    if (failure !== null) throw this.corrupt(failure);
    const from = Math.max(0, this.start - this.position);
    const to = Math.min(buf.length, this.end + 1 - this.position);
    this.position = next;
    this.push(buf.subarray(from, to));
  }

  /** Reads one segment at `position`; a short read means the file shrank (corrupt). */
  private fetch(position: number): Promise<Buffer> {
    const length = Math.min(READ_BYTES, this.stopAt - position);
    const read = readPlain(this.fh, position, length, this.decryptor).catch((error: unknown) => {
      throw error instanceof SegmentAuthError ? this.corrupt(error.message) : error;
    });
    read.catch(() => undefined); // a prefetch abandoned by destroy() must not be unhandled
    return read;
  }
}

/** Runs async sections one at a time per key (a chunk's commit, delete and open). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, section: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await section();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** Whether an fs error is "no such file or directory". */
export const isMissing = (error: unknown): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Calls `action`, turning "no such file" into `fallback`. */
export async function unlessMissing<T>(action: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (isMissing(error)) return fallback;
    throw error;
  }
}

/**
 * Plaintext bytes [position, position + length) of a chunk file, decrypting with `decryptor`
 * when the chunk is encrypted. Throws when the file is shorter or a segment fails its tag.
 */
export async function readPlain(
  fh: FileHandle,
  position: number,
  length: number,
  decryptor?: ChunkDecryptor,
  scratch?: Buffer,
): Promise<Buffer> {
  if (decryptor) return decryptor.read(fh, position, length);
  const buf = scratch ? scratch.subarray(0, length) : Buffer.allocUnsafe(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new SegmentAuthError('file shorter than its checksum says');
  return buf;
}

/** Reads the whole file block-aligned, checking CRCs and the SHA-256; true if all match. */
export async function checkWholeFile(
  fh: FileHandle,
  sum: ChecksumFile,
  onRead?: (bytes: number) => Promise<void>,
  decryptor?: ChunkDecryptor,
): Promise<boolean> {
  const verifier = new BlockVerifier(sum, 0, 'both');
  const scratch = decryptor ? undefined : Buffer.allocUnsafe(READ_BYTES);
  for (let position = 0; position < sum.size; position += READ_BYTES) {
    const length = Math.min(READ_BYTES, sum.size - position);
    const buf = await readPlain(fh, position, length, decryptor, scratch).catch(
      (error: unknown) => {
        if (error instanceof SegmentAuthError) return null;
        throw error;
      },
    );
    if (buf === null || verifier.check(buf) !== null) return false;
    await onRead?.(length);
  }
  return verifier.finish() === null;
}
