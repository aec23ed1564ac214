// Rule (dfs-architecture.md, "Encriptación, En Reposo": "Encriptar chunks en disco, usar
// AES-256-GCM, rotación periódica de claves"; issue 7): an encrypted chunk file holds none of
// the plaintext and still round-trips, whole and by byte range (a range decrypts only its
// segments); the checksums stay over the plaintext; new writes use the newest key while older
// chunks stay readable with theirs; a tampered segment is corrupt, and the scrubber sees it.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ChunkKeyUnavailableError,
  ChunkStore,
  parseChecksumFile,
} from '../../src/dfs/datanode/chunk-store.js';
import type { ChunkId } from '../../src/dfs/meta/types.js';
import {
  ChunkDecryptor,
  ChunkEncryptor,
  encryptedSize,
  KeyRing,
  newKeyLine,
  parseKeyFile,
  SEGMENT_BYTES,
  TAG_BYTES,
} from '../../src/security/encryption.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-encryption-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const ring = (...ids: string[]): KeyRing => parseKeyFile(ids.map(newKeyLine).join('\n'));

async function storeIn(dir: string, keys: KeyRing | undefined, encryptWrites = true) {
  return ChunkStore.open(join(root, dir), {
    ...(keys === undefined ? {} : { encryption: { keys, encryptWrites } }),
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

/** Recognisable plaintext: a marker repeated, and random bytes between. */
function plaintext(size: number): Buffer {
  const marker = Buffer.from('TESSERA-SECRET-PLAINTEXT|');
  const data = randomBytes(size);
  for (let at = 0; at + marker.length <= size; at += 4096) marker.copy(data, at);
  return data;
}

/** Whether any 16-byte window of `plain` (every 8th offset) appears in `file`. */
function leaksPlaintext(file: Buffer, plain: Buffer): boolean {
  for (let at = 0; at + 16 <= plain.length; at += 8) {
    if (file.includes(plain.subarray(at, at + 16))) return true;
  }
  return false;
}

describe('key files', () => {
  test('parse named keys, newest last, with comments', () => {
    const text = `# keys\n${newKeyLine('k1')}\n\n${newKeyLine('k2')}  # rotated\n`;
    const keys = parseKeyFile(text);
    assert.deepEqual(
      keys.keys.map((k) => k.id),
      ['k1', 'k2'],
    );
    assert.equal(keys.newest().id, 'k2');
  });

  test('refuse short keys, bad ids, duplicates and empty files', () => {
    assert.throws(() => parseKeyFile(`k1 ${randomBytes(16).toString('base64')}`), /32 bytes/);
    assert.throws(() => parseKeyFile(`bad/id ${randomBytes(32).toString('base64')}`), /line 1/);
    assert.throws(() => parseKeyFile(`${newKeyLine('a')}\n${newKeyLine('a')}`), /unique/);
    assert.throws(() => parseKeyFile('# nothing\n'), /no key/);
  });
});

describe('encrypted chunk store', () => {
  test('an encrypted chunk file contains none of the plaintext and round-trips', async () => {
    const store = await storeIn('roundtrip', ring('k1'));
    const id = randomUUID() as ChunkId;
    const plain = plaintext(3 * SEGMENT_BYTES + 1234);
    const written = await store.writeChunk(id, Readable.from([plain]));
    assert.equal(written.sha256, createHash('sha256').update(plain).digest('hex'));
    assert.equal(written.size, plain.length);
    const file = await readFile(store.chunkPath(id));
    assert.equal(file.length, encryptedSize(plain.length, SEGMENT_BYTES));
    assert.equal(file.includes(Buffer.from('TESSERA-SECRET')), false);
    assert.equal(leaksPlaintext(file, plain), false);
    const sum = parseChecksumFile(await readFile(store.checksumPath(id), 'utf8'));
    assert.equal(sum?.sha256, written.sha256, 'the checksum is over the plaintext');
    assert.equal(sum?.encryption?.keyId, 'k1');
    const read = await store.readChunk(id);
    assert.equal(read.size, plain.length);
    assert.deepEqual(await readAll(read.stream), plain);
    assert.equal(await store.chunkSize(id), plain.length);
  });

  test('range reads decrypt across segment boundaries', async () => {
    const store = await storeIn('ranges', ring('k1'));
    const id = randomUUID() as ChunkId;
    const plain = plaintext(2 * SEGMENT_BYTES + 77);
    await store.writeChunk(id, Readable.from([plain]));
    const ranges = [
      [0, 0],
      [SEGMENT_BYTES - 5, SEGMENT_BYTES + 5],
      [SEGMENT_BYTES, 2 * SEGMENT_BYTES - 1],
      [2 * SEGMENT_BYTES + 10, plain.length - 1],
      [100, plain.length - 1],
    ] as const;
    for (const [start, end] of ranges) {
      const read = await store.readChunk(id, { start, end });
      assert.deepEqual(
        await readAll(read.stream),
        plain.subarray(start, end + 1),
        `${start}-${end}`,
      );
    }
  });

  test('sizes at the edges of segments round-trip', async () => {
    const store = await storeIn('edges', ring('k1'));
    for (const size of [0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1]) {
      const id = randomUUID() as ChunkId;
      const plain = randomBytes(size);
      await store.writeChunk(id, Readable.from(size === 0 ? [] : [plain]));
      assert.deepEqual(await readAll((await store.readChunk(id)).stream), plain, `size ${size}`);
      assert.equal(await store.verifyChunk(id), 'ok');
    }
  });

  test('key rotation: new writes use the newest key, old chunks stay readable', async () => {
    const first = ring('k1');
    const before = await storeIn('rotation', first);
    const oldId = randomUUID() as ChunkId;
    const oldPlain = plaintext(SEGMENT_BYTES + 10);
    await before.writeChunk(oldId, Readable.from([oldPlain]));
    const k2 = ring('k2').newest();
    const rotated = new KeyRing([...first.keys, k2]);
    const after = await storeIn('rotation', rotated);
    const newId = randomUUID() as ChunkId;
    const newPlain = plaintext(SEGMENT_BYTES + 20);
    await after.writeChunk(newId, Readable.from([newPlain]));
    const keyOf = async (id: ChunkId) =>
      parseChecksumFile(await readFile(after.checksumPath(id), 'utf8'))?.encryption?.keyId;
    assert.equal(await keyOf(oldId), 'k1');
    assert.equal(await keyOf(newId), 'k2');
    assert.deepEqual(await readAll((await after.readChunk(oldId)).stream), oldPlain);
    const range = await after.readChunk(oldId, {
      start: SEGMENT_BYTES - 3,
      end: SEGMENT_BYTES + 3,
    });
    assert.deepEqual(
      await readAll(range.stream),
      oldPlain.subarray(SEGMENT_BYTES - 3, SEGMENT_BYTES + 4),
    );
    assert.deepEqual(await readAll((await after.readChunk(newId)).stream), newPlain);
    const withoutK1 = await storeIn('rotation', new KeyRing([k2]));
    await assert.rejects(withoutK1.readChunk(oldId), ChunkKeyUnavailableError);
  });

  test('a store with keys but without --encrypt writes plaintext and reads both', async () => {
    const keys = ring('k1');
    const encrypted = await storeIn('mixed', keys);
    const a = randomUUID() as ChunkId;
    await encrypted.writeChunk(a, Readable.from([Buffer.from('sealed bytes')]));
    const plainStore = await storeIn('mixed', keys, false);
    const b = randomUUID() as ChunkId;
    await plainStore.writeChunk(b, Readable.from([Buffer.from('open bytes')]));
    assert.equal((await readFile(plainStore.chunkPath(b))).toString(), 'open bytes');
    assert.equal(
      (await readAll((await plainStore.readChunk(a)).stream)).toString(),
      'sealed bytes',
    );
  });

  test('a tampered segment is corrupt: reads fail and the scrubber finds it', async () => {
    const corrupt: string[] = [];
    const store = await ChunkStore.open(join(root, 'tamper'), {
      encryption: { keys: ring('k1'), encryptWrites: true },
      onCorrupt: (id) => corrupt.push(id),
    });
    const id = randomUUID() as ChunkId;
    const plain = plaintext(2 * SEGMENT_BYTES);
    await store.writeChunk(id, Readable.from([plain]));
    assert.equal(await store.verifyChunk(id), 'ok');
    const fh = await open(store.chunkPath(id), 'r+');
    const at = SEGMENT_BYTES + TAG_BYTES + 5; // inside the second segment
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, at);
    byte[0] = (byte[0] ?? 0) ^ 0x01;
    await fh.write(byte, 0, 1, at);
    await fh.close();
    assert.equal(await store.verifyChunk(id), 'corrupt');
    const first = await store.readChunk(id, { start: 0, end: 10 });
    assert.deepEqual(await readAll(first.stream), plain.subarray(0, 11), 'untouched segment reads');
    const whole = await store.readChunk(id);
    await assert.rejects(readAll(whole.stream), /authentication/);
    assert.deepEqual(corrupt, [id]);
  });

  test('swapping the salt in the checksum file makes the chunk unreadable, not wrong', async () => {
    const store = await storeIn('salt', ring('k1'));
    const id = randomUUID() as ChunkId;
    await store.writeChunk(id, Readable.from([randomBytes(1000)]));
    const text = await readFile(store.checksumPath(id), 'utf8');
    const salt = /salt=([0-9a-f]{32})/.exec(text)?.[1] ?? '';
    await writeFile(store.checksumPath(id), text.replace(salt, '0'.repeat(32)));
    assert.equal(await store.verifyChunk(id), 'corrupt');
  });
});

describe('segment cipher (property)', () => {
  test('any range of any chunk decrypts to the same plaintext slice', async () => {
    const key = ring('p').newest();
    const path = join(root, 'property.bin');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.nat(),
        fc.nat(),
        async (segment, bytes, a, b) => {
          const plain = Buffer.from(bytes);
          const encryptor = new ChunkEncryptor(key, 'chunk', segment);
          const pieces = [plain.subarray(0, 7), plain.subarray(7)];
          const sealed = Buffer.concat([...encryptor.push(pieces), ...encryptor.finish()]);
          assert.equal(sealed.length, encryptedSize(plain.length, segment));
          await writeFile(path, sealed);
          if (plain.length === 0) return;
          const start = a % plain.length;
          const length = 1 + (b % (plain.length - start));
          const fh = await open(path, 'r');
          try {
            const decryptor = new ChunkDecryptor(key, 'chunk', encryptor.info, plain.length);
            const got = await decryptor.read(fh, start, length);
            assert.deepEqual(got, plain.subarray(start, start + length));
          } finally {
            await fh.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
