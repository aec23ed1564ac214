// Rule checked (dfs-architecture.md, DataNode "Almacenamiento de Chunks", "Verificación de
// Integridad", "API REST"; dfs-api.md): PUT streams a chunk to disk, answers its SHA-256 and
// refuses (storing nothing) a body whose checksum differs from `x-tessera-checksum`; GET streams
// it back byte-identical, with `Range:` reads (206, 416); a chunk corrupted on disk is never
// served as a complete answer and is reported corrupt in the next heartbeat (read path and
// scrubber); a target datanode pulls a chunk from a source (replicate); bad input of any kind is
// a 4xx problem+json and writes nothing. Two datanodes run in-process on ephemeral ports.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request as undiciRequest } from 'undici';
import { resolveConfig } from '../../src/core/config.js';
import { HttpClient } from '../../src/core/http-client.js';
import { silentLogger } from '../../src/core/logger.js';
import {
  datanodeConfigSchema,
  parseRangeHeader,
  startDatanode,
  type DatanodeConfig,
  type DatanodeHandle,
} from '../../src/dfs/datanode/index.js';
import { asChunkId, type ChunkId } from '../../src/dfs/meta/types.js';
import { tempDir } from '../helpers/processes.js';

const MiB = 1024 * 1024;
const MAX_CHUNK = 16 * MiB;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const newId = (): ChunkId => asChunkId(randomUUID());
/** Deterministic pseudo-random bytes (a failing comparison is reproducible). */
function bytesOf(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A URL nothing listens on (connection refused at once). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

function configFor(
  dataDir: string,
  dead: string,
  extra: Partial<DatanodeConfig> = {},
): DatanodeConfig {
  return {
    ...resolveConfig(datanodeConfigSchema, {}, {}).values,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    registryUrl: dead,
    metaUrl: dead,
    heartbeatIntervalMs: 3_600_000,
    scrubRateMBps: 0,
    logLevel: 'silent',
    maxChunkBytes: MAX_CHUNK,
    ...extra,
  };
}

describe('datanode HTTP API', () => {
  const dir = tempDir('datanode-routes');
  const http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 10_000,
    breaker: { failureThreshold: 1e9 },
  });
  let node: DatanodeHandle;
  let peer: DatanodeHandle;

  before(async () => {
    const dead = await deadUrl();
    node = await startDatanode(configFor(join(dir.path, 'a'), dead, { rack: 'r1' }), {
      logger: silentLogger(),
    });
    peer = await startDatanode(
      configFor(join(dir.path, 'b'), dead, { capacityBytes: 64 * MiB, nodeId: 'dn-peer' }),
      { logger: silentLogger() },
    );
  });

  after(async () => {
    await Promise.all([node.stop(), peer.stop()]);
    await http.close();
    dir.cleanup();
  });

  const chunkUrl = (id: string, on: DatanodeHandle = node): string =>
    `${on.url}/api/v1/chunks/${id}`;

  async function put(
    id: string,
    body: Buffer | Readable,
    headers: Record<string, string> = {},
    on: DatanodeHandle = node,
  ): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
    const response = await http.request(chunkUrl(id, on), {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/octet-stream', ...headers },
    });
    const text = await response.body.text();
    const json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    return { status: response.status, json, headers: response.headers };
  }

  async function get(
    id: string,
    headers: Record<string, string> = {},
    on: DatanodeHandle = node,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
    const response = await http.request(chunkUrl(id, on), { headers });
    const body = Buffer.from(await response.body.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  }

  /** Files of a datanode's chunk directory, `.tmp/` included. */
  const filesOf = (on: DatanodeHandle): string[] => [
    ...readdirSync(on.store.dataDir).filter((name) => name !== '.tmp'),
    ...readdirSync(join(on.store.dataDir, '.tmp')).map((name) => `.tmp/${name}`),
  ];

  /**
   * Reads a chunk to the end: 'complete' only for a 2xx whose body arrived whole. A read the
   * datanode refused before its first byte must be a 5xx problem+json.
   */
  async function readOutcome(id: string, headers: Record<string, string> = {}): Promise<string> {
    const response = await http.request(chunkUrl(id), { headers });
    if (response.status >= 300) {
      const problem = (await response.body.json()) as { status: number };
      assert.equal(problem.status, response.status);
      assert.match(String(response.headers['content-type']), /problem\+json/);
      assert.ok(response.status >= 500, `refused with ${response.status}`);
      return 'refused';
    }
    let received = 0;
    const ended = await (async () => {
      for await (const piece of response.body) received += (piece as Buffer).length;
    })().then(
      () => true,
      () => false,
    );
    const announced = Number(response.headers['content-length']);
    return ended && received === announced ? 'complete' : 'cut';
  }

  test('round trips of 0 B, 1 B and 5 MiB are byte-identical, with the SHA-256 announced', async () => {
    for (const size of [0, 1, 5 * MiB]) {
      const id = newId();
      const bytes = bytesOf(size, size + 1);
      const stored = await put(id, bytes, { 'x-tessera-checksum': sha256(bytes) });
      assert.equal(stored.status, 201, JSON.stringify(stored.json));
      assert.deepEqual(stored.json, { chunk_id: id, size, checksum: sha256(bytes) });
      const read = await get(id);
      assert.equal(read.status, 200);
      assert.equal(read.headers['x-tessera-checksum'], sha256(bytes));
      assert.equal(read.headers['content-length'], String(size));
      assert.equal(read.headers['content-type'], 'application/octet-stream');
      assert.ok(read.body.equals(bytes), `${size} B chunk differs`);
      const again = await put(id, bytes);
      assert.equal(again.status, 200, 'the same bytes again are an idempotent 200');
    }
  });

  test('a body streamed without content-length is stored and a HEAD tells size and checksum', async () => {
    const id = newId();
    const bytes = bytesOf(300_000, 7);
    const stream = Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]);
    const stored = await put(id, stream);
    assert.equal(stored.status, 201);
    assert.equal(stored.json['checksum'], sha256(bytes));
    const head = await http.request(chunkUrl(id), { method: 'HEAD' });
    await head.body.dump();
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(bytes.length));
    assert.equal(head.headers['x-tessera-checksum'], sha256(bytes));
  });

  test('Range reads answer 206 with Content-Range; unsatisfiable ranges 416', async () => {
    const id = newId();
    const size = 5 * MiB;
    const bytes = bytesOf(size, 3);
    assert.equal((await put(id, bytes)).status, 201);
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=65530-200000', 65530, 200000],
      [`bytes=${size - 10}-`, size - 10, size - 1],
      ['bytes=-10', size - 10, size - 1],
      [`bytes=-${size * 2}`, 0, size - 1],
      [`bytes=${size - 5}-${size * 3}`, size - 5, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const read = await get(id, { range });
      assert.equal(read.status, 206, range);
      assert.equal(read.headers['content-range'], `bytes ${start}-${end}/${size}`, range);
      assert.equal(read.headers['x-tessera-checksum'], sha256(bytes));
      assert.ok(read.body.equals(bytes.subarray(start, end + 1)), `${range}: bytes differ`);
    }
    for (const range of [`bytes=${size}-`, `bytes=${size + 100}-${size + 200}`, 'bytes=-0']) {
      const read = await get(id, { range });
      assert.equal(read.status, 416, range);
      assert.equal(read.headers['content-range'], `bytes */${size}`, range);
      assert.match(String(read.headers['content-type']), /problem\+json/);
    }
    const empty = newId();
    assert.equal((await put(empty, Buffer.alloc(0))).status, 201);
    const emptyRange = await get(empty, { range: 'bytes=0-' });
    assert.equal(emptyRange.status, 416);
    assert.equal(emptyRange.headers['content-range'], 'bytes */0');
  });

  test('a checksum header that does not match the body stores nothing (422)', async () => {
    const id = newId();
    const before = filesOf(node);
    const stored = await put(id, bytesOf(100_000, 9), { 'x-tessera-checksum': 'ab'.repeat(32) });
    assert.equal(stored.status, 422);
    assert.equal(stored.json['code'], 'UNPROCESSABLE');
    assert.equal((await get(id)).status, 404);
    assert.deepEqual(filesOf(node), before);
  });

  test('a flipped byte on disk fails the read and is reported in the next heartbeat', async () => {
    for (const [size, offset] of [
      [1, 0],
      [3 * MiB, 10],
      [3 * MiB, 3 * MiB - 1],
    ] as const) {
      const id = newId();
      const bytes = bytesOf(size, size + offset);
      assert.equal((await put(id, bytes)).status, 201);
      const path = node.store.chunkPath(id);
      const onDisk = readFileSync(path);
      onDisk[offset] = (onDisk[offset] ?? 0) ^ 0x40;
      writeFileSync(path, onDisk);
      const outcome = await readOutcome(id);
      assert.notEqual(outcome, 'complete', `${size} B chunk, byte ${offset}: served as complete`);
      if (size > 1024 * 1024) assert.equal(outcome, 'cut', 'a large chunk is cut short');
      const beat = await node.heartbeatBody();
      assert.ok(beat.corrupt_chunk_ids.includes(id), 'reported corrupt');
      assert.ok(beat.chunk_ids.includes(id), 'still held until the master says so');
    }
  });

  test('a range over a corrupt block fails; a range over good blocks is served', async () => {
    const id = newId();
    const bytes = bytesOf(1 * MiB, 11);
    assert.equal((await put(id, bytes)).status, 201);
    const path = node.store.chunkPath(id);
    const onDisk = readFileSync(path);
    onDisk[700_000] = (onDisk[700_000] ?? 0) ^ 1;
    writeFileSync(path, onDisk);
    const good = await get(id, { range: 'bytes=0-99999' });
    assert.equal(good.status, 206);
    assert.ok(good.body.equals(bytes.subarray(0, 100_000)));
    assert.notEqual(await readOutcome(id, { range: 'bytes=600000-800000' }), 'complete');
    assert.equal(await readOutcome(id, { range: 'bytes=0-99999' }), 'complete');
    assert.ok((await node.heartbeatBody()).corrupt_chunk_ids.includes(id));
  });

  test('a chunk file of the wrong size answers 500 before any byte and is reported', async () => {
    const id = newId();
    assert.equal((await put(id, bytesOf(1000, 12))).status, 201);
    appendFileSync(node.store.chunkPath(id), Buffer.from([1]));
    const read = await get(id);
    assert.equal(read.status, 500);
    assert.match(String(read.headers['content-type']), /problem\+json/);
    assert.ok((await node.heartbeatBody()).corrupt_chunk_ids.includes(id));
  });

  test('the scrubber finds a corrupt chunk nobody read and the heartbeat reports it', async () => {
    const id = newId();
    assert.equal((await put(id, bytesOf(200_000, 13), {}, peer)).status, 201);
    const path = peer.store.chunkPath(id);
    const onDisk = readFileSync(path);
    onDisk[123_456] = (onDisk[123_456] ?? 0) ^ 0x10;
    writeFileSync(path, onDisk);
    assert.deepEqual((await peer.heartbeatBody()).corrupt_chunk_ids, []);
    const pass = await peer.scrubOnce();
    assert.deepEqual(pass.corrupt, [id]);
    assert.deepEqual((await peer.heartbeatBody()).corrupt_chunk_ids, [id]);
    assert.deepEqual(await http.deleteJson(chunkUrl(id, peer)), { status: 'deleted' });
    assert.deepEqual((await peer.heartbeatBody()).corrupt_chunk_ids, [], 'gone once deleted');
  });

  test('replicate: the target pulls the chunk from the source and verifies it', async () => {
    const id = newId();
    const bytes = bytesOf(2 * MiB + 17, 21);
    assert.equal((await put(id, bytes)).status, 201);
    const body = { source_url: node.url, checksum: sha256(bytes), size: bytes.length };
    const url = `${chunkUrl(id, peer)}/replicate`;
    const copied = await http.postJson<Record<string, unknown>>(url, body);
    assert.deepEqual(copied, { chunk_id: id, size: bytes.length, checksum: sha256(bytes) });
    const read = await get(id, {}, peer);
    assert.ok(read.body.equals(bytes), 'the copy is byte-identical');
    const again = await http.request(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    await again.body.dump();
    assert.equal(again.status, 200, 'a chunk already held is not pulled again');
  });

  test('replicate fails cleanly, storing nothing, when the source cannot give the right bytes', async () => {
    const id = newId();
    const bytes = bytesOf(300_000, 22);
    assert.equal((await put(id, bytes)).status, 201);
    const url = `${chunkUrl(id, peer)}/replicate`;
    const before = filesOf(peer);
    const attempts = [
      { source_url: node.url, checksum: 'cd'.repeat(32), size: bytes.length },
      { source_url: node.url, checksum: sha256(bytes), size: bytes.length + 1 },
      { source_url: peer.url, checksum: sha256(bytes), size: bytes.length },
      { source_url: await deadUrl(), checksum: sha256(bytes), size: bytes.length },
    ];
    for (const attempt of attempts) {
      const response = await http.request(url, {
        method: 'POST',
        body: JSON.stringify(attempt),
        headers: { 'content-type': 'application/json' },
      });
      const problem = (await response.body.json()) as { code: string };
      assert.ok(response.status >= 400, JSON.stringify(attempt));
      assert.equal(response.status, 502, `${JSON.stringify(attempt)}: ${problem.code}`);
    }
    assert.equal((await get(id, {}, peer)).status, 404);
    assert.deepEqual(filesOf(peer), before);
  });

  test('DELETE removes a chunk (200), then answers 404', async () => {
    const id = newId();
    assert.equal((await put(id, bytesOf(10, 30))).status, 201);
    assert.deepEqual(await http.deleteJson(chunkUrl(id)), { status: 'deleted' });
    assert.equal((await get(id)).status, 404);
    const again = await http.request(chunkUrl(id), { method: 'DELETE' });
    await again.body.dump();
    assert.equal(again.status, 404);
    assert.ok(!(await node.heartbeatBody()).chunk_ids.includes(id));
  });

  test('the heartbeat body carries identity, space and every chunk id', async () => {
    const id = newId();
    assert.equal((await put(id, bytesOf(4096, 31))).status, 201);
    const beat = await node.heartbeatBody();
    assert.equal(beat.node_id, node.nodeId);
    assert.equal(beat.url, node.url);
    assert.equal(beat.host, '127.0.0.1');
    assert.equal(beat.port, Number(new URL(node.url).port));
    assert.equal(beat.rack, 'r1');
    assert.ok(beat.total_space > 0 && beat.free_space > 0 && beat.free_space <= beat.total_space);
    assert.ok(beat.chunk_ids.includes(id));
    assert.deepEqual(beat.chunk_ids, [...beat.chunk_ids].sort());
    const health = await http.getJson<Record<string, unknown>>(`${node.url}/api/v1/health`);
    assert.equal(health['status'], 'ok');
    assert.equal(health['node_id'], node.nodeId);
    assert.equal(health['chunks'], beat.chunk_ids.length);
    const peerBeat = await peer.heartbeatBody();
    assert.equal(peerBeat.node_id, 'dn-peer');
    assert.equal(peerBeat.rack, null);
    assert.equal(peerBeat.total_space, 64 * MiB, '--capacity caps the advertised space');
  });

  test('a chunk larger than the free space advertised (--capacity) is refused with 503', async () => {
    const small = await startDatanode(
      configFor(join(dir.path, 'c'), await deadUrl(), { capacityBytes: MiB }),
      { logger: silentLogger() },
    );
    try {
      assert.equal((await small.heartbeatBody()).total_space, MiB);
      assert.equal((await put(newId(), Buffer.alloc(MiB + 1), {}, small)).status, 503);
      assert.equal((await put(newId(), Buffer.alloc(512 * 1024), {}, small)).status, 201);
      const full = await put(newId(), Buffer.alloc(600 * 1024), {}, small);
      assert.equal(full.status, 503);
      assert.equal(full.json['code'], 'UNAVAILABLE');
      const beat = await small.heartbeatBody();
      assert.equal(beat.chunk_ids.length, 1);
      assert.equal(beat.free_space, 512 * 1024);
    } finally {
      await small.stop();
    }
  });

  describe('bad input is a 4xx problem+json and writes nothing', () => {
    const ok = 'f47ac10b-58cc-4372-a567-0e02b2c3d479';
    const badIds = [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2Fserver-id',
      'F47AC10B-58CC-4372-A567-0E02B2C3D479',
      `${ok}0`,
      'x'.repeat(90),
      'not-a-uuid',
      '%2E%2E',
      `${ok}.chunk`,
    ];

    async function send(
      method: 'GET' | 'PUT' | 'DELETE' | 'POST' | 'HEAD',
      path: string,
      options: { headers?: Record<string, string>; body?: string | Buffer } = {},
    ): Promise<{ status: number; contentType: string; body: string }> {
      const response = await undiciRequest(`${node.url}${path}`, {
        method,
        headers: options.headers ?? {},
        body: options.body ?? null,
      });
      const body = await response.body.text();
      return {
        status: response.statusCode,
        contentType: String(response.headers['content-type']),
        body,
      };
    }

    const expect4xx = (
      outcome: { status: number; contentType: string },
      label: string,
      status?: number,
    ): void => {
      if (status !== undefined) assert.equal(outcome.status, status, label);
      assert.ok(outcome.status >= 400 && outcome.status < 500, `${label}: ${outcome.status}`);
      if (outcome.status !== 404 || !label.startsWith('HEAD')) {
        assert.match(outcome.contentType, /application\/problem\+json/, label);
      }
    };

    test('invalid chunk ids on every route', async () => {
      const before = filesOf(node);
      const octet = { 'content-type': 'application/octet-stream' };
      for (const id of badIds) {
        const path = `/api/v1/chunks/${id}`;
        expect4xx(await send('PUT', path, { headers: octet, body: 'x' }), `PUT ${id}`);
        expect4xx(await send('GET', path), `GET ${id}`);
        expect4xx(await send('DELETE', path), `DELETE ${id}`);
        const replicate = JSON.stringify({
          source_url: node.url,
          checksum: 'a'.repeat(64),
          size: 1,
        });
        expect4xx(
          await send('POST', `${path}/replicate`, {
            headers: { 'content-type': 'application/json' },
            body: replicate,
          }),
          `POST ${id}/replicate`,
        );
      }
      // A very long id still reaches validation: a 400 problem, not a bare 414 from the router.
      const long = await send('GET', `/api/v1/chunks/${'x'.repeat(300)}`);
      assert.equal(long.status, 400);
      assert.deepEqual(filesOf(node), before);
    });

    test('wrong or missing content type, bad checksum header, oversized bodies', async () => {
      const before = filesOf(node);
      const path = `/api/v1/chunks/${newId()}`;
      const octet = { 'content-type': 'application/octet-stream' };
      expect4xx(
        await send('PUT', path, { headers: { 'content-type': 'text/plain' }, body: 'x' }),
        'text',
        415,
      );
      expect4xx(
        await send('PUT', path, { headers: { 'content-type': 'application/json' }, body: '{}' }),
        'json',
        415,
      );
      expect4xx(await send('PUT', path, { body: 'abc' }), 'no content type', 415);
      expect4xx(
        await send('PUT', path, { headers: { 'content-type': 'bogus' }, body: 'x' }),
        'bogus',
        415,
      );
      for (const checksum of ['xyz', 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), '']) {
        const headers = { ...octet, 'x-tessera-checksum': checksum };
        expect4xx(await send('PUT', path, { headers, body: 'x' }), `checksum ${checksum}`, 400);
      }
      const tooLarge = await send('PUT', path, {
        headers: octet,
        body: Buffer.alloc(MAX_CHUNK + 1),
      });
      expect4xx(tooLarge, 'content-length over the limit', 413);
      const streamed = await undiciRequest(`${node.url}${path}`, {
        method: 'PUT',
        headers: octet,
        body: Readable.from([Buffer.alloc(MAX_CHUNK), Buffer.alloc(10)]),
      });
      await streamed.body.dump();
      assert.equal(streamed.statusCode, 413, 'streamed over the limit');
      assert.equal((await send('GET', path)).status, 404);
      assert.deepEqual(filesOf(node), before);
    });

    test('malformed Range headers answer 400', async () => {
      const id = newId();
      assert.equal((await put(id, bytesOf(1000, 50))).status, 201);
      for (const range of [
        'bytes=a-b',
        'bytes=5-2',
        'bytes=0-1,3-4',
        'items=0-1',
        'bytes=-',
        'bytes=1e3-',
        'x'.repeat(300),
      ]) {
        expect4xx(await send('GET', `/api/v1/chunks/${id}`, { headers: { range } }), range, 400);
      }
    });

    test('malformed replicate bodies answer 400', async () => {
      const before = filesOf(node);
      const path = `/api/v1/chunks/${newId()}/replicate`;
      const good = { source_url: peer.url, checksum: 'a'.repeat(64), size: 1 };
      const bodies: unknown[] = [
        {},
        { ...good, source_url: 'ftp://x' },
        { ...good, source_url: 'not a url' },
        { ...good, checksum: 'zz' },
        { ...good, size: -1 },
        { ...good, size: 1.5 },
        { ...good, size: '1' },
        { ...good, extra: true },
      ];
      for (const body of bodies) {
        const outcome = await send('POST', path, {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect4xx(outcome, JSON.stringify(body), 400);
      }
      expect4xx(
        await send('POST', path, { headers: { 'content-type': 'application/json' }, body: '{' }),
        'broken JSON',
        400,
      );
      const huge = { ...good, size: MAX_CHUNK + 1 };
      const outcome = await send('POST', path, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(huge),
      });
      expect4xx(outcome, 'size over the limit', 413);
      assert.deepEqual(filesOf(node), before);
    });
  });
});

test('parseRangeHeader reads one byte range and rejects the rest', () => {
  assert.deepEqual(parseRangeHeader(undefined), { kind: 'none' });
  assert.deepEqual(parseRangeHeader('bytes=0-9'), { kind: 'from', start: 0, end: 9 });
  assert.deepEqual(parseRangeHeader('bytes=5-'), { kind: 'from', start: 5 });
  assert.deepEqual(parseRangeHeader('bytes=-7'), { kind: 'suffix', length: 7 });
  for (const bad of [
    'bytes=',
    'bytes=-',
    'bytes=3-1',
    'bytes=0-1,2-3',
    'bits=0-1',
    '0-1',
    'bytes=99999999999999999-',
  ]) {
    assert.equal(parseRangeHeader(bad).kind, 'invalid', bad);
  }
});
