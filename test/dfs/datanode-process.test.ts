// Rule checked (dfs-architecture.md, DataNode "Heartbeats" and "Verificación de Integridad";
// dfs-api.md): a `tessera datanode` process registers in the registry (role `datanode`, with its
// rack and space), finds the master there (role `dfs-meta`) and heartbeats it at start and every
// interval with its full chunk list; it deletes the chunks the reply names; a chunk flipped on
// disk fails its read and is reported corrupt in the next heartbeat, and so is one only the
// background scrubber saw; with the master down it keeps trying, logs the outage once and finds
// the master again; memory does not grow with chunk size (a 256 MiB PUT and GET); SIGTERM stops
// it gracefully (deregistered, exit 0). The master here is a tiny node:http stand-in that records
// heartbeats (this unit-level test only; the real master is tested with real datanodes).
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { resolveConfig } from '../../src/core/config.js';
import { HttpClient } from '../../src/core/http-client.js';
import { silentLogger } from '../../src/core/logger.js';
import type { DatanodeHeartbeat } from '../../src/dfs/datanode/index.js';
import { asChunkId, type ChunkId } from '../../src/dfs/meta/types.js';
import {
  registryConfigSchema,
  startRegistry,
  type RegistryHandle,
  type ServerList,
} from '../../src/registry/index.js';
import { startTessera, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

const MiB = 1024 * 1024;
const HEARTBEAT_S = '0.2';

/** A stand-in master: records heartbeats, answers `delete_chunk_ids`. */
class FakeMaster {
  readonly beats: DatanodeHeartbeat[] = [];
  deleteIds: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    const pieces: Buffer[] = [];
    request.on('data', (piece: Buffer) => pieces.push(piece));
    request.on('end', () => {
      if (request.method === 'POST' && request.url === '/api/v1/nodes/heartbeat') {
        this.beats.push(JSON.parse(Buffer.concat(pieces).toString('utf8')) as DatanodeHeartbeat);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ delete_chunk_ids: this.deleteIds }));
      } else {
        response.writeHead(404).end();
      }
    });
  });

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return address.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The first heartbeat of `nodeUrl` received after `from` that satisfies `check`. */
  async nextBeat(
    nodeUrl: string,
    check: (beat: DatanodeHeartbeat) => boolean,
    from = this.beats.length,
  ): Promise<DatanodeHeartbeat> {
    return waitFor(`a heartbeat from ${nodeUrl}`, () =>
      this.beats.slice(from).find((beat) => beat.url === nodeUrl && check(beat)),
    );
  }
}

const newId = (): ChunkId => asChunkId(randomUUID());

describe('tessera datanode (real process)', () => {
  const dir = tempDir('datanode-process');
  const http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 20_000,
    breaker: { failureThreshold: 1e9 },
  });
  const master = new FakeMaster();
  let registry: RegistryHandle;
  let node: RunningProcess;

  const chunkUrl = (id: string): string => `${node.url}/api/v1/chunks/${id}`;
  async function put(id: string, body: Buffer): Promise<number> {
    const response = await http.request(chunkUrl(id), {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    await response.body.dump();
    return response.status;
  }
  function flipByte(id: string, offset: number): void {
    const path = join(dir.path, 'node', 'chunks', `${id}.chunk`);
    const bytes = readFileSync(path);
    bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
    writeFileSync(path, bytes);
  }

  before(async () => {
    registry = await startRegistry(
      {
        ...resolveConfig(registryConfigSchema, {}, {}).values,
        port: 0,
        inMemory: true,
        heartbeatTimeoutMs: 120_000,
        logLevel: 'silent',
      },
      { logger: silentLogger() },
    );
    const masterPort = await master.listen();
    await http.postJson(`${registry.url}/register`, {
      role: 'dfs-meta',
      host: '127.0.0.1',
      port: masterPort,
      url: `http://127.0.0.1:${masterPort}`,
    });
    node = await startTessera([
      'datanode',
      ...['--port', '0', '--data-dir', join(dir.path, 'node'), '--registry', registry.url],
      ...['--heartbeat-interval', HEARTBEAT_S, '--rack', 'rack-7'],
      ...['--scrub-rate', '200', '--scrub-interval', '0.3', '--max-chunk-size', '300MiB'],
    ]);
  });

  after(async () => {
    await node.kill('SIGKILL');
    await master.close();
    await registry.stop();
    await http.close();
    dir.cleanup();
  });

  test('registers as a datanode and heartbeats the master it found in the registry', async () => {
    const beat = await master.nextBeat(node.url, () => true, 0);
    assert.equal(beat.url, node.url);
    assert.equal(beat.host, '127.0.0.1');
    assert.equal(beat.port, Number(new URL(node.url).port));
    assert.equal(beat.rack, 'rack-7');
    assert.ok(beat.total_space > 0 && beat.free_space > 0);
    assert.deepEqual(beat.chunk_ids, []);
    assert.deepEqual(beat.corrupt_chunk_ids, []);
    const list = await http.getJson<ServerList>(`${registry.url}/servers/active?role=datanode`);
    const record = list.servers.find((server) => server.url === node.url);
    assert.ok(record, 'registered with role datanode');
    assert.equal(record.server_id, beat.node_id, 'the node id defaults to the registry id');
    assert.equal(record.metadata['rack'], 'rack-7');
    assert.equal(typeof record.metadata['free_space'], 'number');
    assert.equal(typeof record.metadata['total_space'], 'number');
    assert.equal(record.metadata['chunk_count'], 0);
  });

  test('heartbeats carry every chunk id and the chunks in delete_chunk_ids are deleted', async () => {
    const [keep, drop] = [newId(), newId()];
    assert.equal(await put(keep, randomBytes(1000)), 201);
    assert.equal(await put(drop, randomBytes(2000)), 201);
    await master.nextBeat(
      node.url,
      (b) => b.chunk_ids.includes(keep) && b.chunk_ids.includes(drop),
    );
    master.deleteIds = [drop, '../not-a-chunk'];
    await waitFor('the chunk to be deleted', async () => {
      const response = await http.request(chunkUrl(drop));
      await response.body.dump();
      return response.status === 404;
    });
    master.deleteIds = [];
    const beat = await master.nextBeat(node.url, (b) => !b.chunk_ids.includes(drop));
    assert.ok(beat.chunk_ids.includes(keep), 'the other chunk stays');
    const response = await http.request(chunkUrl(keep));
    assert.equal(response.status, 200);
    await response.body.dump();
  });

  test('a flipped byte fails the read and is reported; so is one only the scrubber saw', async () => {
    const [read, unread] = [newId(), newId()];
    const bytes = randomBytes(2 * MiB);
    assert.equal(await put(read, bytes), 201);
    assert.equal(await put(unread, randomBytes(300_000)), 201);
    flipByte(read, 1_000_000);
    flipByte(unread, 5);
    const response = await http.request(chunkUrl(read));
    let received = 0;
    const complete = await (async () => {
      for await (const piece of response.body) received += (piece as Buffer).length;
    })().then(
      () => response.status === 200 && received === bytes.length,
      () => false,
    );
    assert.equal(complete, false, 'a corrupt chunk is never served as a complete answer');
    const beat = await master.nextBeat(node.url, (b) => b.corrupt_chunk_ids.includes(read));
    assert.ok(beat.chunk_ids.includes(read));
    await master.nextBeat(node.url, (b) => b.corrupt_chunk_ids.includes(unread));
  });

  test('memory: a 256 MiB PUT and GET raise RSS by less than 64 MiB', async () => {
    const rss = async (): Promise<number> =>
      (await http.getJson<{ rss_bytes: number }>(`${node.url}/health`)).rss_bytes;
    assert.equal(await put(newId(), randomBytes(4 * MiB)), 201); // warm-up
    const baseline = Math.max(await rss(), await rss());
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rss());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const id = newId();
    const block = randomBytes(MiB);
    const hash = createHash('sha256');
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 256; i += 1) {
        const piece = Buffer.from(block);
        piece.writeUInt32BE(i, 0);
        hash.update(piece);
        yield piece;
      }
    }
    try {
      const response = await http.request(chunkUrl(id), {
        method: 'PUT',
        body: Readable.from(body()),
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(256 * MiB),
        },
        timeoutMs: 60_000,
      });
      const stored = (await response.body.json()) as { checksum: string; size: number };
      assert.equal(response.status, 201);
      assert.equal(stored.size, 256 * MiB);
      assert.equal(stored.checksum, hash.digest('hex'));
      const read = await http.request(chunkUrl(id), { timeoutMs: 60_000 });
      const readHash = createHash('sha256');
      for await (const piece of read.body) readHash.update(piece as Buffer);
      assert.equal(readHash.digest('hex'), stored.checksum, 'read back identical');
    } finally {
      sampling = false;
      await sampler;
    }
    const growthMiB = (peak - baseline) / MiB;
    assert.ok(growthMiB < 64, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
  });

  test('with the master down it keeps trying, logs it once, and finds the master again', async () => {
    const late = new FakeMaster();
    const port = await late.listen();
    await late.close(); // reserve a port, then leave it dead
    const orphan = await startTessera([
      'datanode',
      ...['--port', '0', '--data-dir', join(dir.path, 'orphan'), '--registry', registry.url],
      ...['--meta', `http://127.0.0.1:${port}`, '--heartbeat-interval', HEARTBEAT_S],
    ]);
    try {
      await waitFor('three failed heartbeats', async () => {
        const text = await (await http.request(`${orphan.url}/metrics`)).body.text();
        const match = /tessera_datanode_heartbeats_total\{[^}]*outcome="failed"[^}]*\} (\d+)/.exec(
          text,
        );
        return Number(match?.[1] ?? 0) >= 3;
      });
      await late.listen(port);
      await late.nextBeat(orphan.url, () => true, 0);
      const count = (pattern: RegExp): number =>
        orphan.lines.filter((line) => pattern.test(line)).length;
      assert.equal(
        count(/heartbeat to the metadata master failed/),
        1,
        'the outage is logged once',
      );
      await waitFor('the recovery log line', () => count(/metadata master reachable again/) === 1);
    } finally {
      await orphan.kill('SIGKILL');
      await late.close();
    }
  });

  test('SIGTERM stops it gracefully: deregistered, exit 0', async () => {
    const { node_id: serverId } = await master.nextBeat(node.url, () => true);
    const exit = await node.kill('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
    const response = await http.request(`${registry.url}/servers/${serverId}`);
    await response.body.dump();
    assert.equal(response.status, 404, 'deregistered');
  });
});
