import { createHash, type Hash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { HttpClient } from '../../core/http-client.js';
import type { ReplicaInfo } from '../meta/types.js';

/** The header carrying the master's chunk token to a datanode (clusters with --auth). */
export const CHUNK_TOKEN_HEADER = 'x-tessera-chunk-token';

/** The chunk token header, when the master gave a token. */
function tokenHeader(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { [CHUNK_TOKEN_HEADER]: token };
}

/** One upload target's outcome. */
export interface TargetResult {
  readonly nodeId: string;
  readonly url: string;
  readonly ok: boolean;
  readonly checksum?: string;
  readonly error?: unknown;
}

/**
 * How long a target may take no bytes at all while the upload waits for it. A crashed datanode
 * refuses or resets the connection at once; one behind a network partition (packets dropped)
 * just stops reading, and without this limit it would hold the whole chunk until the request
 * timeout. A healthy but slow disk still takes some bytes within this time.
 */
export const TARGET_STALL_MS = 15_000;

/**
 * Streams one chunk from `source` to every target at once (one read, fanned out), computing
 * the SHA-256 on the way. A target that fails is dropped without stopping the others; the
 * source is paused while any live target is full (backpressure), so memory stays bounded. A
 * target that takes nothing for `stallMs` is dropped as failed (the caller replaces it).
 */
export async function uploadChunkToTargets(
  http: HttpClient,
  chunkId: string,
  size: number,
  source: Readable,
  targets: readonly { node_id: string; url: string }[],
  onBytes: (bytes: number) => void,
  token?: string,
  stallMs = TARGET_STALL_MS,
): Promise<{ checksum: string; results: TargetResult[] }> {
  const hash = createHash('sha256');
  const pipes = targets.map(() => new PassThrough({ highWaterMark: 1024 * 1024 }));
  const alive = new Set(pipes);
  const sends = targets.map((target, index) =>
    sendToTarget(http, chunkId, size, target, pipes[index] as PassThrough, token).finally(() =>
      alive.delete(pipes[index] as PassThrough),
    ),
  );
  const fanOut = fanOutSource(source, hash, alive, onBytes, stallMs);
  const [results] = await Promise.all([Promise.all(sends), fanOut]);
  const checksum = hash.digest('hex');
  return {
    checksum,
    results: results.map((result) =>
      result.ok && result.checksum !== checksum
        ? { ...result, ok: false, error: new Error('the datanode stored a different checksum') }
        : result,
    ),
  };
}

async function fanOutSource(
  source: Readable,
  hash: Hash,
  alive: Set<PassThrough>,
  onBytes: (bytes: number) => void,
  stallMs: number,
): Promise<void> {
  try {
    for await (const piece of source) {
      const buffer = piece as Buffer;
      hash.update(buffer);
      onBytes(buffer.length);
      const waits: Promise<void>[] = [];
      for (const pipe of alive) {
        // A target's pipe is destroyed when its request fails or stalls; it leaves `alive`
        // only once its request settles, and a destroyed pipe never drains.
        if (pipe.destroyed) alive.delete(pipe);
        else if (!pipe.write(buffer)) waits.push(drainOrClose(pipe, stallMs));
      }
      if (waits.length > 0) await Promise.all(waits);
    }
  } finally {
    for (const pipe of alive) pipe.end();
  }
}

/**
 * Resolves when the pipe drains or closes. The pipe's reader (the request to the target) takes
 * bytes as the target acknowledges them; if it takes none for `stallMs`, the pipe is destroyed,
 * which fails that target's request and lets the others go on.
 */
function drainOrClose(pipe: PassThrough, stallMs: number): Promise<void> {
  return new Promise((resolve) => {
    let buffered = pipe.readableLength;
    const check = setInterval(() => {
      if (pipe.readableLength < buffered) buffered = pipe.readableLength;
      else pipe.destroy(new Error(`the datanode took no bytes for ${stallMs / 1000} s`));
    }, stallMs);
    const done = (): void => {
      clearInterval(check);
      pipe.off('drain', done);
      pipe.off('close', done);
      resolve();
    };
    pipe.once('drain', done);
    pipe.once('close', done);
  });
}

async function sendToTarget(
  http: HttpClient,
  chunkId: string,
  size: number,
  target: { node_id: string; url: string },
  body: PassThrough,
  token: string | undefined,
): Promise<TargetResult> {
  try {
    const response = await http.request(`${target.url}/api/v1/chunks/${chunkId}`, {
      method: 'PUT',
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        ...tokenHeader(token),
      },
      timeoutMs: 120_000,
    });
    const text = await response.body.text();
    if (response.status !== 200 && response.status !== 201) {
      body.destroy();
      return {
        nodeId: target.node_id,
        url: target.url,
        ok: false,
        error: new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`),
      };
    }
    const answer = JSON.parse(text) as { checksum: string };
    return { nodeId: target.node_id, url: target.url, ok: true, checksum: answer.checksum };
  } catch (error) {
    body.destroy();
    return { nodeId: target.node_id, url: target.url, ok: false, error };
  }
}

/** Orders replicas for a read: live ones first, in random order to spread the load. */
export function readOrder(replicas: readonly ReplicaInfo[], random: () => number): ReplicaInfo[] {
  const rank = (replica: ReplicaInfo): number =>
    replica.state === 'active'
      ? 0
      : replica.state === 'inactive'
        ? 1
        : replica.state === 'corrupt'
          ? 3
          : 2;
  return replicas
    .map((replica) => ({ replica, key: rank(replica) + random() * 0.5 }))
    .sort((a, b) => a.key - b.key)
    .map((entry) => entry.replica);
}

/**
 * Reads one chunk (or its range `[start, end)`), verified, handing pieces to `sink` in order.
 * When a replica fails mid-way, the read resumes from the next replica at the same byte
 * (a Range request), keeping the running hash, so no byte is emitted twice. For whole-chunk
 * reads the SHA-256 is checked at the end; a mismatch throws `ChunkChecksumError`.
 */
export async function readChunkVerified(
  http: HttpClient,
  chunk: {
    chunk_id: string;
    size: number;
    checksum: string;
    replicas: readonly ReplicaInfo[];
    /** The master's read token for this chunk (clusters with --auth). */
    token?: string;
  },
  sink: (piece: Buffer) => Promise<void> | void,
  options: { start?: number; end?: number; random?: () => number } = {},
): Promise<void> {
  const start = options.start ?? 0;
  const end = options.end ?? chunk.size;
  const whole = start === 0 && end === chunk.size;
  const hash = whole ? createHash('sha256') : undefined;
  let position = start;
  const errors: string[] = [];
  for (const replica of readOrder(chunk.replicas, options.random ?? Math.random)) {
    if (position >= end) break;
    try {
      const range =
        position === 0 && end === chunk.size ? undefined : `bytes=${position}-${end - 1}`;
      const response = await http.request(`${replica.url}/api/v1/chunks/${chunk.chunk_id}`, {
        headers: { ...(range ? { range } : {}), ...tokenHeader(chunk.token) },
        timeoutMs: 60_000,
        maxRetries: 1,
      });
      if (response.status !== 200 && response.status !== 206) {
        await response.body.dump();
        throw new Error(`HTTP ${response.status}`);
      }
      for await (const piece of response.body) {
        const buffer = piece as Buffer;
        const take = buffer.subarray(0, Math.max(0, end - position));
        hash?.update(take);
        position += take.length;
        if (take.length > 0) await sink(take);
      }
    } catch (error) {
      errors.push(`${replica.node_id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (position < end) {
    throw new Error(
      `chunk ${chunk.chunk_id}: no replica could serve it (${errors.join('; ') || 'no replicas'})`,
    );
  }
  if (hash && chunk.size > 0) {
    const actual = hash.digest('hex');
    if (actual !== chunk.checksum)
      throw new ChunkChecksumError(chunk.chunk_id, chunk.checksum, actual);
  }
}

export class ChunkChecksumError extends Error {
  override readonly name = 'ChunkChecksumError';
  constructor(
    readonly chunkId: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`chunk ${chunkId} read back with SHA-256 ${actual}, expected ${expected}`);
  }
}
