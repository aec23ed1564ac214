/**
 * The metadata master is durable (dfs-architecture.md, "Persistencia"): SIGKILLed in the middle
 * of an upload and restarted, it has every committed file; the torn upload fails cleanly for
 * its client, its lease lapses, and its chunks are collected from the datanodes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DfsCluster } from '../helpers/dfs-cluster.js';
import { waitFor } from '../helpers/processes.js';

const CHUNK = 128 * 1024;

async function chunkFilesOn(cluster: DfsCluster): Promise<number> {
  let count = 0;
  for (let index = 0; index < cluster.options.datanodes; index += 1) {
    const names = await readdir(join(cluster.datanodeDir(index), 'chunks')).catch(() => []);
    count += names.filter((name) => name.endsWith('.chunk')).length;
  }
  return count;
}

describe('metadata master crash and restart', () => {
  const cluster = new DfsCluster({ datanodes: 3, leaseTimeoutS: 2 });
  before(() => cluster.start());
  after(() => cluster.stop());

  test('committed files survive, the torn upload fails and its chunks are collected', async () => {
    const committed = new Map<string, Buffer>();
    for (let index = 0; index < 5; index += 1) {
      const data = randomBytes(CHUNK * 2 + index * 1000);
      await cluster.client.putBuffer(data, `/keep/file-${index}.bin`, { chunkSize: CHUNK });
      committed.set(`/keep/file-${index}.bin`, data);
    }
    const big = randomBytes(CHUNK * 64);
    const local = join(cluster.dir.path, 'torn.bin');
    await writeFile(local, big);
    let sent = 0;
    let killed: Promise<unknown> | undefined;
    const torn = cluster.client.putFile(local, '/torn/file.bin', {
      chunkSize: CHUNK,
      onProgress: (bytes) => {
        sent += bytes;
        if (!killed && sent > big.length / 3) killed = cluster.meta.kill('SIGKILL');
      },
    });
    await assert.rejects(torn, 'the torn upload fails for its client');
    await killed;

    await cluster.startMeta();
    for (const [path, data] of committed) {
      const back = await cluster.client.getBuffer(path);
      assert.ok(back.equals(data), `${path} is intact after the restart`);
    }
    const listing = await cluster.client.list({ prefix: '/' });
    assert.deepEqual(
      listing.files.map((file) => file.path).sort(),
      [...committed.keys()].sort(),
      'only committed files are listed',
    );
    // Every chunk file left on the datanodes belongs to a committed file (3 replicas each).
    const expected = [...committed.values()].reduce(
      (sum, data) => sum + Math.ceil(data.length / CHUNK) * 3,
      0,
    );
    await waitFor(
      'the torn upload’s chunks to be collected',
      async () => (await chunkFilesOn(cluster)) === expected,
      {
        timeoutMs: 30_000,
        intervalMs: 200,
      },
    );
    // The path is free again: the lease lapsed with the upload.
    await cluster.client.putBuffer('after', '/torn/file.bin');
    assert.equal((await cluster.client.getBuffer('/torn/file.bin')).toString(), 'after');
  });
});
