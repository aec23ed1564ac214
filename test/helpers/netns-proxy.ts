/**
 * A plain HTTP forwarder that runs inside a test network namespace and listens on a Unix socket
 * (a file, reachable from the test process in the root namespace, which has no route into the
 * namespaces). A request for `http://10.213.0.3:4000/status` sent over the socket is forwarded to
 * that address from inside the namespace. Usage: `node --import tsx netns-proxy.ts SOCKET`.
 *
 * No keep-alive towards the services: a connection stuck behind a cut link must not carry the
 * next request. A target that does not answer within `x-proxy-timeout-ms` (default 10 s) gets a
 * 504; one that cannot be reached a 502; both with a problem+json body naming the cause.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';

const DEFAULT_TIMEOUT_MS = 10_000;

function fail(response: ServerResponse, status: number, detail: string): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(status, { 'content-type': 'application/problem+json' });
  response.end(JSON.stringify({ type: 'about:blank', title: 'proxy', status, detail }));
}

function forward(incoming: IncomingMessage, response: ServerResponse): void {
  const target = new URL(incoming.url ?? '/', `http://${incoming.headers.host ?? 'invalid'}`);
  const timeoutMs = Number(incoming.headers['x-proxy-timeout-ms'] ?? DEFAULT_TIMEOUT_MS);
  const headers = { ...incoming.headers };
  delete headers['x-proxy-timeout-ms'];
  delete headers.connection;
  const outgoing = request(
    {
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      method: incoming.method,
      headers,
      agent: false,
      timeout: timeoutMs,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  outgoing.on('timeout', () => {
    outgoing.destroy();
    fail(response, 504, `no answer from ${target.host} within ${timeoutMs} ms`);
  });
  outgoing.on('error', (error) => fail(response, 502, `${target.host}: ${error.message}`));
  incoming.pipe(outgoing);
}

const socketPath = process.argv[2];
if (socketPath === undefined) throw new Error('usage: netns-proxy.ts SOCKET');
rmSync(socketPath, { force: true });
const server = createServer(forward);
server.listen(socketPath, () => {
  // The line startProcess waits for (a JSON log line with `url` and "listening").
  process.stdout.write(
    `${JSON.stringify({ msg: 'proxy listening', url: `unix:${socketPath}` })}\n`,
  );
});
