// A datanode that stops reading (behind a network partition packets are dropped, so nothing
// resets the connection) must not hold a chunk upload until the request timeout: a target that
// takes no bytes for the stall limit is dropped as failed, and the others complete.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../../src/core/http-client.js';
import { uploadChunkToTargets } from '../../src/dfs/client/chunk-transfer.js';

// More than loopback's socket buffers can hold, in the 64 KiB pieces a file read gives.
const CHUNK_BYTES = 48 * 1024 * 1024;
const PIECE_BYTES = 64 * 1024;
const STALL_MS = 400;

function* pieces(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += PIECE_BYTES) yield data.subarray(at, at + PIECE_BYTES);
}

async function listen(server: Server | TcpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

describe('chunk upload to a datanode that stops reading', () => {
  const data = randomBytes(CHUNK_BYTES);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const sockets: Socket[] = [];
  // A healthy target: reads the whole body, answers its SHA-256 as a datanode does.
  const healthy = createServer((request, response) => {
    const hash = createHash('sha256');
    request.on('data', (piece: Buffer) => hash.update(piece));
    request.on('end', () => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ checksum: hash.digest('hex') }));
    });
  });
  // A silent target: accepts the connection and never reads from it again.
  const silent = createTcpServer((socket) => {
    sockets.push(socket);
    socket.pause();
  });
  const http = new HttpClient({ maxRetries: 0, timeoutMs: 120_000 });
  let urls: { healthy: string; silent: string };

  before(async () => {
    urls = { healthy: await listen(healthy), silent: await listen(silent) };
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await http.close();
    await new Promise((resolve) => healthy.close(resolve));
    await new Promise((resolve) => silent.close(resolve));
  });

  test('the silent target fails with a stall; the healthy one stores the chunk', async () => {
    const startedMs = performance.now();
    const { checksum, results } = await uploadChunkToTargets(
      http,
      '7d3c5e7e-7a3f-4d43-9f6a-0c7f1f3b2a11',
      CHUNK_BYTES,
      Readable.from(pieces(data)),
      [
        { node_id: 'dn-healthy', url: urls.healthy },
        { node_id: 'dn-silent', url: urls.silent },
      ],
      () => undefined,
      undefined,
      STALL_MS,
    );
    const elapsedMs = performance.now() - startedMs;
    assert.equal(checksum, sha256);
    const byNode = new Map(results.map((result) => [result.nodeId, result]));
    assert.equal(byNode.get('dn-healthy')?.ok, true);
    assert.equal(byNode.get('dn-silent')?.ok, false);
    assert.match(String(byNode.get('dn-silent')?.error), /took no bytes/);
    // Bounded by the stall limit, not by the 120 s request timeout (a generous bound).
    assert.ok(elapsedMs < 60_000, `took ${Math.round(elapsedMs)} ms`);
  });
});
