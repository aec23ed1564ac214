/**
 * The baseline of the HTTP benchmarks: the least a Node HTTP server can do for a JSON POST —
 * read the body, JSON.parse it, answer a small JSON object. What a service sustains divided by
 * what this sustains, on the same machine and with the same load process, is the share of the
 * raw Node HTTP ceiling the service reaches. Run as a child process:
 * `node --import tsx bench/lib/baseline-server.ts`; it logs `{"url": ...}` when listening.
 */
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let body: { server_id?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { server_id?: unknown };
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"status":400}');
      return;
    }
    const answer = JSON.stringify({ status: 'ok', server_id: body.server_id, recovered: false });
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(answer);
  });
});
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
