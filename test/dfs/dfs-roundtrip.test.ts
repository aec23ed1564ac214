/**
 * DFS round trips through real processes (dfs-architecture.md, "Flujo de Upload/Download"):
 * a file read back is byte-identical whatever its size relative to the chunk size; two
 * writers on one path: the second gets 409; a file appears only when committed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpStatusError } from '../../src/core/errors-http-client.js';
import { DfsCluster } from '../helpers/dfs-cluster.js';

const CHUNK = 64 * 1024;

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** Writes `size` random bytes to `path` in pieces, never holding the whole file. */
async function randomFile(path: string, size: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < size;) {
      const piece = randomBytes(Math.min(16 * 1024 * 1024, size - written));
      await handle.write(piece);
      written += piece.length;
    }
  } finally {
    await handle.close();
  }
}

describe('dfs round trips', () => {
  const cluster = new DfsCluster({ datanodes: 3 });
  before(() => cluster.start());
  after(() => cluster.stop());

  const sizes: [string, number][] = [
    ['0 bytes', 0],
    ['1 byte', 1],
    ['exactly one chunk', CHUNK],
    ['many chunks with an odd tail', CHUNK * 7 + 12_345],
  ];
  for (const [name, size] of sizes) {
    test(`${name} round-trips byte-identical`, async () => {
      const data = randomBytes(size);
      const local = join(cluster.dir.path, `in-${size}`);
      await writeFile(local, data);
      const remote = `/roundtrip/${size}.bin`;
      const stored = await cluster.client.putFile(local, remote, { chunkSize: CHUNK });
      assert.equal(stored.size, size);
      assert.equal(stored.chunks.length, Math.ceil(size / CHUNK));
      for (const chunk of stored.chunks) assert.equal(chunk.replicas.length, 3, 'three replicas');
      const out = join(cluster.dir.path, `out-${size}`);
      await cluster.client.getFile(remote, out);
      assert.ok((await readFile(out)).equals(data), 'getFile is byte-identical');
      assert.ok(
        (await cluster.client.getBuffer(remote)).equals(data),
        'getStream is byte-identical',
      );
    });
  }

  test('byte ranges across chunk borders', async () => {
    const data = randomBytes(CHUNK * 3 + 100);
    await cluster.client.putBuffer(data, '/roundtrip/ranges.bin', { chunkSize: CHUNK });
    for (const [start, end] of [
      [0, 10],
      [CHUNK - 5, CHUNK + 5],
      [CHUNK * 2 + 1, data.length],
      [17, CHUNK * 3],
    ] as const) {
      const pieces: Buffer[] = [];
      for await (const piece of cluster.client.getStream('/roundtrip/ranges.bin', { start, end }))
        pieces.push(piece as Buffer);
      assert.ok(Buffer.concat(pieces).equals(data.subarray(start, end)), `range ${start}-${end}`);
    }
  });

  test('1 GiB round-trips byte-identical with the default 64 MiB chunks', async () => {
    const local = join(cluster.dir.path, 'big.in');
    await randomFile(local, 1024 * 1024 * 1024);
    const expected = await sha256OfFile(local);
    const stored = await cluster.client.putFile(local, '/big/1g.bin');
    assert.equal(stored.chunks.length, 16);
    const out = join(cluster.dir.path, 'big.out');
    await cluster.client.getFile('/big/1g.bin', out);
    assert.equal(await sha256OfFile(out), expected);
  });

  test('listing, stat, rename and delete', async () => {
    await cluster.client.putBuffer('hello', '/docs/a.txt');
    await cluster.client.putBuffer('world', '/docs/sub/b.txt');
    const dir = await cluster.client.list({ dir: '/docs' });
    assert.deepEqual(
      dir.files.map((file) => file.path),
      ['/docs/a.txt'],
    );
    assert.deepEqual(dir.directories, ['/docs/sub']);
    const prefix = await cluster.client.list({ prefix: '/docs/' });
    assert.equal(prefix.files.length, 2);
    assert.equal(prefix.files[0]?.chunk_count, 1);
    await cluster.client.rename('/docs/a.txt', '/docs/c.txt');
    assert.equal((await cluster.client.getBuffer('/docs/c.txt')).toString(), 'hello');
    await assert.rejects(
      cluster.client.stat('/docs/a.txt'),
      (error: unknown) => error instanceof HttpStatusError && error.status === 404,
    );
    await cluster.client.delete('/docs/c.txt');
    await assert.rejects(
      cluster.client.stat('/docs/c.txt'),
      (error: unknown) => error instanceof HttpStatusError && error.status === 404,
    );
  });

  test('a second writer on the same path gets 409 while the first holds the lease', async () => {
    const meta = cluster.meta.url;
    const first = await cluster.http.postJson<{ file_id: string }>(
      `${meta}/api/v1/files/upload-init`,
      { path: '/race.txt', size: 10, client_id: 'writer-1' },
    );
    const second = cluster.http.postJson(`${meta}/api/v1/files/upload-init`, {
      path: '/race.txt',
      size: 10,
      client_id: 'writer-2',
    });
    await assert.rejects(
      second,
      (error: unknown) =>
        error instanceof HttpStatusError &&
        error.status === 409 &&
        error.problem?.code === 'LEASE_HELD',
    );
    await cluster.http.postJson(`${meta}/api/v1/files/abort`, { file_id: first.file_id });
    await cluster.client.putBuffer('0123456789', '/race.txt');
    await assert.rejects(
      cluster.client.putBuffer('again', '/race.txt'),
      (error: unknown) => error instanceof HttpStatusError && error.status === 409,
    );
    await cluster.client.putBuffer('again', '/race.txt', { overwrite: true });
    assert.equal((await cluster.client.getBuffer('/race.txt')).toString(), 'again');
  });
});
