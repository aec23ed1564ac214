// Rule (dfs-architecture.md, "Almacenamiento de Chunks", "Verificación de Integridad"; issue 3):
// a chunk is `{chunk_id}.chunk` plus `{chunk_id}.checksum` (its SHA-256); the SHA-256 is computed
// while writing and checked while reading, so a corrupt chunk is never served as good; writes
// are durable and all-or-nothing; chunk ids are validated (no path traversal); memory does not
// grow with chunk size.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CHECKSUM_BLOCK_BYTES,
  ChecksumMismatchError,
  ChunkCorruptError,
  ChunkNotFoundError,
  ChunkRangeError,
  ChunkSizeMismatchError,
  ChunkStore,
  ChunkTooLargeError,
  formatChecksumFile,
  InvalidChunkIdError,
  isValidChunkId,
  parseChecksumFile,
  type ChunkStoreOptions,
} from '../../src/dfs/datanode/chunk-store.js';
import type { ChunkId } from '../../src/dfs/meta/types.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-chunk-store-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshStore(options: ChunkStoreOptions = {}): Promise<ChunkStore> {
  return ChunkStore.open(await mkdtemp(join(root, 'dn-')), options);
}

const newId = (): ChunkId => randomUUID() as ChunkId;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Streams `data` in pieces of odd sizes, as a network would. */
function piecesOf(data: Buffer, pieceBytes = 10_007): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += pieceBytes) yield data.subarray(i, i + pieceBytes);
    })(),
  );
}

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function readAll(store: ChunkStore, id: string, range?: { start?: number; end?: number }) {
  return collect((await store.readChunk(id, range)).stream);
}

/** Leftovers of failed writes: the data directory holds only `.tmp` (empty). */
async function assertNothingLeft(store: ChunkStore): Promise<void> {
  assert.deepEqual(await readdir(store.dataDir), ['.tmp']);
  assert.deepEqual(await readdir(join(store.dataDir, '.tmp')), []);
}

async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, offset);
  one[0] = (one[0] ?? 0) ^ 0x01;
  await fh.write(one, 0, 1, offset);
  await fh.close();
}

describe('chunk ids', () => {
  test('only lowercase canonical UUIDs are valid', () => {
    assert.ok(isValidChunkId('0f8fad5b-d9cb-469f-a165-70867728950e'));
    for (const bad of [
      '',
      '../etc/passwd',
      '0F8FAD5B-D9CB-469F-A165-70867728950E',
      '0f8fad5b-d9cb-469f-a165-70867728950e.chunk',
      '0f8fad5b-d9cb-469f-a165-70867728950e/..',
      '0f8fad5bd9cb469fa16570867728950e',
      '../0f8fad5b-d9cb-469f-a165-70867728950e',
    ]) {
      assert.equal(isValidChunkId(bad), false, bad);
    }
  });

  test('every operation rejects a bad id before touching the disk', async () => {
    const store = await freshStore();
    const bad = '../../escape';
    await assert.rejects(store.writeChunk(bad, piecesOf(Buffer.from('x'))), InvalidChunkIdError);
    await assert.rejects(store.readChunk(bad), InvalidChunkIdError);
    await assert.rejects(store.deleteChunk(bad), InvalidChunkIdError);
    await assert.rejects(store.verifyChunk(bad), InvalidChunkIdError);
    await assertNothingLeft(store);
    assert.equal(existsSync(join(store.dataDir, '..', '..', 'escape.chunk')), false);
  });
});

describe('writeChunk and readChunk', () => {
  test('round trip: SHA-256 and size returned, seed file layout on disk', async () => {
    const store = await freshStore();
    const id = newId();
    const data = randomBytes(5 * CHECKSUM_BLOCK_BYTES + 123);
    const written = await store.writeChunk(id, piecesOf(data), { expectedSha256: sha256(data) });
    assert.deepEqual(written, { sha256: sha256(data), size: data.length });
    assert.deepEqual((await readdir(store.dataDir)).sort(), [
      '.tmp',
      `${id}.checksum`,
      `${id}.chunk`,
    ]);
    const checksum = await readFile(join(store.dataDir, `${id}.checksum`), 'utf8');
    assert.equal(checksum.split('\n')[0], sha256(data));
    const read = await store.readChunk(id);
    assert.equal(read.size, data.length);
    assert.equal(read.sha256, sha256(data));
    assert.deepEqual(await collect(read.stream), data);
  });

  test('an empty chunk round-trips', async () => {
    const store = await freshStore();
    const id = newId();
    assert.deepEqual(await store.writeChunk(id, piecesOf(Buffer.alloc(0)), { expectedSize: 0 }), {
      sha256: sha256(Buffer.alloc(0)),
      size: 0,
    });
    assert.equal((await readAll(store, id)).length, 0);
    assert.equal(await store.verifyChunk(id), 'ok');
    await assert.rejects(store.readChunk(id, { start: 0 }), ChunkRangeError);
  });

  test('checksum mismatch: rejected, nothing left behind', async () => {
    const store = await freshStore();
    const data = randomBytes(1000);
    const wrong = sha256(Buffer.from('something else'));
    await assert.rejects(
      store.writeChunk(newId(), piecesOf(data), { expectedSha256: wrong }),
      ChecksumMismatchError,
    );
    await assertNothingLeft(store);
  });

  test('size mismatch, either way: rejected, nothing left behind', async () => {
    const store = await freshStore();
    const data = randomBytes(1000);
    await assert.rejects(
      store.writeChunk(newId(), piecesOf(data), { expectedSize: 999 }),
      ChunkSizeMismatchError,
    );
    await assert.rejects(
      store.writeChunk(newId(), piecesOf(data), { expectedSize: 1001 }),
      ChunkSizeMismatchError,
    );
    await assertNothingLeft(store);
  });

  test('a chunk over maxChunkBytes is refused while streaming', async () => {
    const store = await freshStore({ maxChunkBytes: 4096 });
    let produced = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          produced += 1024;
          yield Buffer.alloc(1024);
        }
      })(),
    );
    await assert.rejects(store.writeChunk(newId(), endless), ChunkTooLargeError);
    assert.ok(produced < 4 * 1024 * 1024, `read ${produced} bytes before refusing`); // one buffer
    await assertNothingLeft(store);
  });

  test('a source that fails mid-way: rejected, nothing left behind', async () => {
    const store = await freshStore();
    const failing = Readable.from(
      (function* () {
        yield Buffer.alloc(70_000, 1);
        throw new Error('connection reset');
      })(),
    );
    await assert.rejects(store.writeChunk(newId(), failing), /connection reset/);
    await assertNothingLeft(store);
  });

  test('rewriting a chunk: same bytes are idempotent, new bytes replace the old', async () => {
    const store = await freshStore();
    const id = newId();
    const first = randomBytes(3000);
    await store.writeChunk(id, piecesOf(first));
    await store.writeChunk(id, piecesOf(first));
    assert.deepEqual(await readAll(store, id), first);
    const second = randomBytes(7000);
    await store.writeChunk(id, piecesOf(second));
    assert.deepEqual(await readAll(store, id), second);
    assert.equal(await store.verifyChunk(id), 'ok');
  });

  test('concurrent writes of the same chunk leave one consistent copy', async () => {
    const store = await freshStore();
    const id = newId();
    const data = randomBytes(200_000);
    await Promise.all([1, 2, 3].map(() => store.writeChunk(id, piecesOf(data, 4096))));
    assert.equal(await store.verifyChunk(id), 'ok');
    assert.deepEqual(await readAll(store, id), data);
  });

  test('a missing chunk is ChunkNotFoundError', async () => {
    const store = await freshStore();
    await assert.rejects(store.readChunk(newId()), ChunkNotFoundError);
  });
});

describe('range reads', () => {
  test('any range returns exactly those bytes (end inclusive, clamped to the chunk)', async () => {
    const store = await freshStore();
    const id = newId();
    const data = randomBytes(3 * CHECKSUM_BLOCK_BYTES + 777);
    await store.writeChunk(id, piecesOf(data));
    await fc.assert(
      fc.asyncProperty(
        fc.nat(data.length - 1),
        fc.nat(data.length + 100),
        async (start, length) => {
          const end = start + length;
          const read = await store.readChunk(id, { start, end });
          assert.equal(read.end, Math.min(end, data.length - 1));
          assert.deepEqual(await collect(read.stream), data.subarray(start, end + 1));
        },
      ),
      { numRuns: 60 },
    );
    assert.deepEqual(await readAll(store, id, { start: 10 }), data.subarray(10));
    assert.deepEqual(await readAll(store, id, { end: 9 }), data.subarray(0, 10));
  });

  test('a range starting past the end, or reversed, is ChunkRangeError with the size', async () => {
    const store = await freshStore();
    const id = newId();
    await store.writeChunk(id, piecesOf(Buffer.alloc(100)));
    await assert.rejects(
      store.readChunk(id, { start: 100 }),
      (e: unknown) => e instanceof ChunkRangeError && e.size === 100,
    );
    await assert.rejects(store.readChunk(id, { start: 50, end: 10 }), ChunkRangeError);
    await assert.rejects(store.readChunk(id, { start: -1 }), ChunkRangeError);
  });
});

describe('corruption is never served as good', () => {
  async function corruptedStore(options: ChunkStoreOptions = {}) {
    const reported: string[] = [];
    const store = await freshStore({
      ...options,
      onCorrupt: (id, reason) => reported.push(`${id}: ${reason}`),
    });
    const id = newId();
    const data = randomBytes(4 * CHECKSUM_BLOCK_BYTES);
    await store.writeChunk(id, piecesOf(data));
    await flipByte(store.chunkPath(id), 2 * CHECKSUM_BLOCK_BYTES + 5); // in block 2
    return { store, id, data, reported };
  }

  test('a whole read fails with ChunkCorruptError and the corruption is reported', async () => {
    const { store, id, reported } = await corruptedStore();
    await assert.rejects(readAll(store, id), ChunkCorruptError);
    assert.equal(reported.length, 1);
    assert.match(reported[0] ?? '', new RegExp(id));
  });

  test('with blockChecksOnWholeReads, no byte of the bad block leaves the store', async () => {
    const { store, id, data } = await corruptedStore({ blockChecksOnWholeReads: true });
    const { stream } = await store.readChunk(id);
    const received: Buffer[] = [];
    await assert.rejects(
      (async () => {
        for await (const part of stream) received.push(part as Buffer);
      })(),
      ChunkCorruptError,
    );
    const got = Buffer.concat(received);
    assert.ok(got.length <= 2 * CHECKSUM_BLOCK_BYTES, `${got.length} bytes served`);
    assert.deepEqual(got, data.subarray(0, got.length));
  });

  test('ranges over the bad block fail; ranges elsewhere are served', async () => {
    const { store, id, data } = await corruptedStore();
    const bad = { start: 2 * CHECKSUM_BLOCK_BYTES + 1, end: 2 * CHECKSUM_BLOCK_BYTES + 10 };
    await assert.rejects(readAll(store, id, bad), ChunkCorruptError);
    const good = { start: 100, end: 2 * CHECKSUM_BLOCK_BYTES - 1 };
    assert.deepEqual(await readAll(store, id, good), data.subarray(100, 2 * CHECKSUM_BLOCK_BYTES));
  });

  test('verifyChunk says corrupt; a truncated chunk fails before any byte is read', async () => {
    const { store, id } = await corruptedStore();
    assert.equal(await store.verifyChunk(id), 'corrupt');
    await truncate(store.chunkPath(id), 1000);
    await assert.rejects(store.readChunk(id), ChunkCorruptError);
    assert.equal(await store.verifyChunk(id), 'corrupt');
  });

  test('a missing or damaged checksum file makes the chunk corrupt', async () => {
    const store = await freshStore();
    const id = newId();
    await store.writeChunk(id, piecesOf(randomBytes(100)));
    await writeFile(store.checksumPath(id), 'not a checksum\n');
    assert.equal(await store.verifyChunk(id), 'corrupt');
    await rm(store.checksumPath(id));
    await assert.rejects(store.readChunk(id), ChunkCorruptError);
    assert.equal(await store.verifyChunk(newId()), 'missing');
  });
});

describe('delete, list, stats, open', () => {
  test('deleteChunk removes both files; a second delete says false', async () => {
    const store = await freshStore();
    const id = newId();
    await store.writeChunk(id, piecesOf(Buffer.alloc(10)));
    assert.equal(await store.deleteChunk(id), true);
    assert.equal(await store.deleteChunk(id), false);
    await assertNothingLeft(store);
  });

  test('listChunks and stats see committed chunks only', async () => {
    const store = await freshStore();
    const [a, b] = [newId(), newId()];
    await store.writeChunk(a, piecesOf(Buffer.alloc(10)));
    await store.writeChunk(b, piecesOf(Buffer.alloc(2000)));
    await writeFile(join(store.dataDir, 'junk.chunk'), 'x');
    await writeFile(join(store.dataDir, '.tmp', `${newId()}.x.chunk`), 'torn');
    const listed = (await store.listChunks()).sort((x, y) => x.size - y.size);
    assert.deepEqual(listed, [
      { chunkId: a, size: 10 },
      { chunkId: b, size: 2000 },
    ]);
    const stats = await store.stats();
    assert.equal(stats.chunkCount, 2);
    assert.equal(stats.usedBytes, 2010);
    assert.ok(stats.freeBytes > 0 && stats.totalBytes >= stats.freeBytes);
  });

  test('open() clears torn writes and orphan checksum files, keeps committed chunks', async () => {
    const store = await freshStore();
    const kept = newId();
    await store.writeChunk(kept, piecesOf(Buffer.alloc(10)));
    const orphan = newId();
    await writeFile(join(store.dataDir, `${orphan}.checksum`), 'x');
    await writeFile(join(store.dataDir, '.tmp', `${newId()}.abc.chunk`), 'torn');
    const reopened = await ChunkStore.open(store.dataDir);
    assert.deepEqual((await readdir(reopened.dataDir)).sort(), [
      '.tmp',
      `${kept}.checksum`,
      `${kept}.chunk`,
    ]);
    assert.deepEqual(await readdir(join(reopened.dataDir, '.tmp')), []);
    assert.equal(await reopened.verifyChunk(kept), 'ok');
  });
});

describe('the checksum file format', () => {
  test('format and parse are inverse; malformed files parse to null', () => {
    const sum = {
      sha256: 'a'.repeat(64),
      size: 70_000,
      blockBytes: 65_536,
      blockCrcs: [1, 0xffffffff],
    };
    assert.deepEqual(parseChecksumFile(formatChecksumFile(sum)), sum);
    assert.equal(parseChecksumFile(`${'a'.repeat(64)}\n`), null);
    assert.equal(parseChecksumFile(formatChecksumFile({ ...sum, blockCrcs: [1] })), null);
    assert.equal(parseChecksumFile(formatChecksumFile(sum).replace('crc32', 'crc33')), null);
  });
});

describe('memory', () => {
  test('a 128 MiB chunk is written and read with bounded memory', async () => {
    const store = await freshStore();
    const id = newId();
    const pieceBytes = 64 * 1024;
    const total = 128 * 1024 * 1024;
    const piece = randomBytes(pieceBytes);
    const baseline = process.memoryUsage();
    let peakGrowth = 0;
    const sample = (): void => {
      const now = process.memoryUsage();
      const growth = now.arrayBuffers - baseline.arrayBuffers + (now.heapUsed - baseline.heapUsed);
      peakGrowth = Math.max(peakGrowth, growth);
    };
    const source = Readable.from(
      (function* () {
        for (let sent = 0; sent < total; sent += pieceBytes) {
          sample();
          yield piece;
        }
      })(),
    );
    const written = await store.writeChunk(id, source);
    assert.equal(written.size, total);
    let read = 0;
    for await (const part of (await store.readChunk(id)).stream) {
      read += (part as Buffer).length;
      sample();
    }
    assert.equal(read, total);
    assert.ok(
      peakGrowth < 48 * 1024 * 1024,
      `memory grew by ${(peakGrowth / 2 ** 20).toFixed(1)} MiB`,
    );
    await store.deleteChunk(id);
  });
});
