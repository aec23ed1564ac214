/**
 * DFS fault tolerance with real processes and SIGKILL (dfs-architecture.md, "Monitoreo de
 * Nodos", "Verificación de Integridad", "Flujo de Re-replicación"): a datanode killed during an
 * upload or a download does not fail it; a dead datanode's chunks are re-replicated to the
 * factor; a flipped byte is never served, is reported by the read path and by the scrubber,
 * and is repaired from a good replica.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { ChunkInfo, FileMetadata } from '../../src/dfs/index.js';
import { DfsCluster } from '../helpers/dfs-cluster.js';
import { waitFor } from '../helpers/processes.js';

const CHUNK = 256 * 1024;

/** The chunk has `factor` good replicas on active nodes. */
function fullyReplicated(chunk: ChunkInfo, factor: number): boolean {
  return chunk.replicas.filter((replica) => replica.state === 'active').length >= factor;
}

/** Every chunk of the file has `factor` good replicas on active nodes. */
function fileFullyReplicated(meta: FileMetadata, factor: number): boolean {
  return meta.chunks.every((chunk) => fullyReplicated(chunk, factor));
}

async function flipByte(path: string, at: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  await writeFile(path, bytes);
}

/**
 * Waits until the master has repaired the file's first chunk after one copy went corrupt: the
 * master deleted a corrupt copy (`corruptRemoved` above `removedBefore`), no replica is marked
 * corrupt, three are on active nodes, and each one it lists serves `expected` (the bad node
 * may hold a fresh good copy again: once its bad one is gone it is a valid copy target).
 */
async function waitForRepair(
  cluster: DfsCluster,
  path: string,
  expected: Buffer,
  removedBefore: number,
): Promise<void> {
  let seen = 'nothing yet';
  let seenChunk: string | undefined;
  await waitFor(
    `the master to replace the corrupt copy of ${path}`,
    async () => {
      const first = (await cluster.client.stat(path)).chunks[0];
      const stats = await metaStats(cluster);
      seen = JSON.stringify({ replicas: first?.replicas, replication: stats.replication });
      seenChunk = first?.chunk_id;
      if (first === undefined || stats.replication.corruptRemoved <= removedBefore) return false;
      if (first.replicas.some((r) => r.state === 'corrupt') || !fullyReplicated(first, 3)) {
        return false;
      }
      for (const replica of first.replicas) {
        const response = await request(`${replica.url}/api/v1/chunks/${first.chunk_id}`);
        const body = Buffer.from(await response.body.arrayBuffer());
        if (response.statusCode !== 200 || !body.equals(expected)) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  ).catch((error: unknown) => {
    const chunkId = seenChunk ?? '(none)';
    const log = cluster.meta.lines.filter((line) => line.includes(chunkId)).slice(-20);
    throw new Error(`${String(error)}; last seen: ${seen}; master log:\n${log.join('\n')}`);
  });
}

async function metaStats(
  cluster: DfsCluster,
): Promise<{ replication: { corruptRemoved: number } }> {
  const response = await request(`${cluster.meta.url}/api/v1/stats`);
  assert.equal(response.statusCode, 200);
  return (await response.body.json()) as { replication: { corruptRemoved: number } };
}

/** The datanode's `tessera_datanode_corrupt_found_total{source}` from its /metrics. */
async function datanodeCorruptFound(url: string, source: 'read' | 'scrub'): Promise<number> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const sample = new RegExp(`^tessera_datanode_corrupt_found_total\\{[^}]*source="${source}"`);
  const line = text.split('\n').find((l) => sample.test(l));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('dfs under faults', () => {
  const cluster = new DfsCluster({ datanodes: 4, datanodeTimeoutS: 1.5 });
  before(() => cluster.start());
  after(() => cluster.stop());

  test('SIGKILL a datanode in the middle of an upload: the upload still succeeds', async () => {
    const data = randomBytes(CHUNK * 24 + 777);
    const local = join(cluster.dir.path, 'upload-kill.bin');
    await writeFile(local, data);
    let sent = 0;
    let killed: Promise<unknown> | undefined;
    const stored = await cluster.client.putFile(local, '/faults/upload-kill.bin', {
      chunkSize: CHUNK,
      onProgress: (bytes) => {
        sent += bytes;
        if (!killed && sent > data.length / 4) killed = cluster.datanodes[0]?.kill('SIGKILL');
      },
    });
    await killed;
    assert.ok(killed, 'the datanode was killed during the upload');
    assert.equal(stored.size, data.length);
    assert.ok(
      (await cluster.client.getBuffer('/faults/upload-kill.bin')).equals(data),
      'byte-identical upload',
    );
    await cluster.startDatanode(0);
    await cluster.waitForDatanodes(4);
  });

  test('SIGKILL a datanode in the middle of a download: the download still succeeds', async () => {
    const data = randomBytes(CHUNK * 24 + 99);
    await cluster.client.putBuffer(data, '/faults/download-kill.bin', { chunkSize: CHUNK });
    const out = join(cluster.dir.path, 'download-kill.out');
    let received = 0;
    let killed: Promise<unknown> | undefined;
    await cluster.client.getFile('/faults/download-kill.bin', out, {
      onProgress: (bytes) => {
        received += bytes;
        if (!killed && received > data.length / 4) killed = cluster.datanodes[1]?.kill('SIGKILL');
      },
    });
    await killed;
    assert.ok(killed, 'the datanode was killed during the download');
    assert.ok((await readFile(out)).equals(data), 'byte-identical download');
    await cluster.startDatanode(1);
    await cluster.waitForDatanodes(4);
  });

  test('SIGKILL a datanode at rest: its chunks are re-replicated to 3 on the others', async () => {
    const data = randomBytes(CHUNK * 8);
    await cluster.client.putBuffer(data, '/faults/at-rest.bin', { chunkSize: CHUNK });
    await waitFor('full replication', async () =>
      fileFullyReplicated(await cluster.client.stat('/faults/at-rest.bin'), 3),
    );
    const before = await cluster.client.stat('/faults/at-rest.bin');
    const victimUrl = cluster.datanodeUrl(2);
    const held = before.chunks.filter((chunk) =>
      chunk.replicas.some((replica) => replica.url === victimUrl),
    ).length;
    assert.ok(held > 0, 'the victim holds some chunks');
    await cluster.datanodes[2]?.kill('SIGKILL');
    await waitFor(
      'the master to declare the victim dead',
      async () => {
        const { nodes } = await cluster.http.getJson<{ nodes: { url: string; state: string }[] }>(
          `${cluster.meta.url}/api/v1/nodes`,
        );
        return nodes.some((node) => node.url === victimUrl && node.state === 'dead');
      },
      { timeoutMs: 15_000 },
    );
    const healed = await waitFor(
      're-replication to 3 live replicas',
      async () => {
        const meta = await cluster.client.stat('/faults/at-rest.bin');
        return fileFullyReplicated(meta, 3) ? meta : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    for (const chunk of healed.chunks) {
      const live = chunk.replicas.filter((replica) => replica.state === 'active');
      assert.ok(
        live.every((replica) => replica.url !== victimUrl),
        `no live replica on the victim: ${JSON.stringify(live)}`,
      );
      assert.equal(
        new Set(live.map((replica) => replica.node_id)).size,
        live.length,
        'distinct nodes',
      );
    }
    assert.ok(
      (await cluster.client.getBuffer('/faults/at-rest.bin')).equals(data),
      'byte-identical after healing',
    );
    await cluster.startDatanode(2);
    await cluster.waitForDatanodes(4);
  });

  test('a flipped byte is never served, is reported by the read path, and is repaired', async () => {
    const data = randomBytes(CHUNK * 2);
    const meta = await cluster.client.putBuffer(data, '/faults/flip-read.bin', {
      chunkSize: CHUNK,
    });
    const chunk = meta.chunks[0];
    const replica = chunk?.replicas[0];
    assert.ok(chunk && replica, 'the file has a chunk with a replica');
    const index = cluster.datanodeIndexOf(replica.url);
    const chunkFile = join(cluster.datanodeDir(index), 'chunks', `${chunk.chunk_id}.chunk`);
    assert.ok(existsSync(chunkFile), chunkFile);
    const removedBefore = (await metaStats(cluster)).replication.corruptRemoved;
    await flipByte(chunkFile, 1000);

    // The datanode never answers the corrupt chunk as a complete good response.
    const direct = await request(`${replica.url}/api/v1/chunks/${chunk.chunk_id}`);
    const served = await direct.body.arrayBuffer().then(
      (body) => ({
        ok: direct.statusCode === 200 && Buffer.from(body).equals(data.subarray(0, CHUNK)),
      }),
      () => ({ ok: false }),
    );
    assert.equal(served.ok, false, 'the corrupt chunk was not served as good');
    // The client reads around it.
    assert.ok(
      (await cluster.client.getBuffer('/faults/flip-read.bin')).equals(data),
      'the client reads around the corrupt replica',
    );
    // The master learns of it and repairs: the bad copy deleted, three good live replicas again.
    await waitForRepair(cluster, '/faults/flip-read.bin', data.subarray(0, CHUNK), removedBefore);
    assert.ok(
      (await datanodeCorruptFound(replica.url, 'read')) >= 1,
      'the datanode counted the corruption found by the read path',
    );
  });

  test('a flipped byte nobody reads is found by the scrubber and repaired', async () => {
    const data = randomBytes(CHUNK);
    const meta = await cluster.client.putBuffer(data, '/faults/flip-scrub.bin', {
      chunkSize: CHUNK,
    });
    const chunk = meta.chunks[0];
    const replica = chunk?.replicas[1];
    assert.ok(chunk && replica, 'the file has a chunk with a replica');
    const index = cluster.datanodeIndexOf(replica.url);
    const removedBefore = (await metaStats(cluster)).replication.corruptRemoved;
    const scrubFoundBefore = await datanodeCorruptFound(replica.url, 'scrub');
    const readFoundBefore = await datanodeCorruptFound(replica.url, 'read');
    await flipByte(join(cluster.datanodeDir(index), 'chunks', `${chunk.chunk_id}.chunk`), 5);
    // The corrupt state lasts from the report to the next replication tick (0.3 s here), too
    // short to be seen reliably; the repair's end state and the counters are what stay.
    await waitForRepair(cluster, '/faults/flip-scrub.bin', data, removedBefore);
    assert.ok(
      (await datanodeCorruptFound(replica.url, 'scrub')) > scrubFoundBefore,
      'the scrubber found the corruption',
    );
    assert.equal(
      await datanodeCorruptFound(replica.url, 'read'),
      readFoundBefore,
      'no read found it',
    );
    assert.ok(
      (await cluster.client.getBuffer('/faults/flip-scrub.bin')).equals(data),
      'byte-identical after repair',
    );
  });
});
