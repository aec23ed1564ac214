/**
 * The ceiling of the DFS transfer benchmark: the least a Node `http` server can do to store and
 * serve bytes. `PUT /NAME` streams the body into `DIR/NAME` and fsyncs it before answering;
 * `GET /NAME` streams the file back. No hashing, no checksum file, no framework. Run as a child
 * process: `node --import tsx bench/lib/dfs-ceiling-receiver.ts DIR`; it logs `{"url": ...}`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Read and write buffers: 1 MiB, as the DFS client reads its source file. */
const BUFFER_BYTES = 1024 * 1024;

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: dfs-ceiling-receiver.ts DIR');

function fileOf(request: IncomingMessage): string {
  const name = (request.url ?? '/').slice(1);
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`bad name ${name}`);
  return join(dir ?? '.', name);
}

async function receive(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = fileOf(request);
  // `flush: true` fsyncs the file before the stream closes, so the answer means durable bytes.
  await pipeline(request, createWriteStream(path, { flush: true, highWaterMark: BUFFER_BYTES }));
  const { size } = await stat(path);
  response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ size }));
}

async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = fileOf(request);
  const { size } = await stat(path);
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(size),
  });
  await pipeline(createReadStream(path, { highWaterMark: BUFFER_BYTES }), response);
}

const server = createServer((request, response) => {
  const handle = request.method === 'PUT' ? receive : serve;
  handle(request, response).catch((error: unknown) => {
    if (!response.headersSent) response.writeHead(500).end(String(error));
    else response.destroy();
  });
});
server.requestTimeout = 0;
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
