// Rules checked (poneglyph-reduce.md, "Fault Tolerance"; DESIGN.md rule 4): calls between
// services retry with exponential backoff and ±20% jitter (3 retries by default), and only
// when repeating is safe; each peer has a circuit breaker (5 failures open it, 60 s later it
// half-opens, 3 successes close it) whose state is a metric. Real node:http servers on
// 127.0.0.1 port 0; time for the breaker is a fake clock; backoff waits are captured, not slept.
// Every assert.ok carries a message: without one, a failing assert.ok under tsx was seen to spin
// at full CPU while Node looked for the asserted expression in the source.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/core/clock.js';
import {
  CircuitOpenError,
  HttpStatusError,
  PeerTimeoutError,
  PeerUnavailableError,
} from '../../src/core/errors-http-client.js';
import { HttpClient, type HttpClientOptions } from '../../src/core/http-client.js';
import { SeededRandom } from '../../src/core/random.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, hit: number) => void;

interface TestServer {
  readonly url: string;
  hits(): number;
  close(): Promise<void>;
}

async function startServer(handler: Handler): Promise<TestServer> {
  let hits = 0;
  const server = http.createServer((req, res) => handler(req, res, ++hits));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits: () => hits,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nobody listens on: bound, then released. */
async function closedPortUrl(): Promise<string> {
  const server = await startServer(() => undefined);
  await server.close();
  return server.url;
}

/** A value as a failure message (assert.ok needs one: see the comment at the top). */
const show = (value: unknown): string => inspect(value, { depth: 1 });

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  type = 'application/json',
) {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A client whose backoff waits are recorded instead of slept. */
function testClient(options: HttpClientOptions = {}) {
  const delaysMs: number[] = [];
  const registry = new Registry();
  const client = new HttpClient({
    random: new SeededRandom(11),
    sleep: async (ms) => void delaysMs.push(ms),
    registry,
    ...options,
  });
  return { client, delaysMs, registry };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>) {
  const metric = await registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([key, value]) => v.labels[key] === value),
  );
  return match?.value;
}

/** `size` deterministic bytes, produced in 64 KiB chunks. */
function patternStream(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const length = Math.min(65_536, size - sent);
      this.push(Buffer.alloc(length, sent % 251));
      sent += length;
    },
  });
}

async function sha256(stream: AsyncIterable<unknown>): Promise<{ digest: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), bytes };
}

describe('HttpClient retries', () => {
  test('a GET succeeds after two 503s, waiting base * 2^attempt ±20% between tries', async () => {
    const server = await startServer((_req, res, hit) =>
      hit <= 2 ? sendJson(res, 503, { title: 'busy' }) : sendJson(res, 200, { ok: true }),
    );
    const { client, delaysMs, registry } = testClient({ backoff: { baseMs: 100 } });
    try {
      assert.deepEqual(await client.getJson(`${server.url}/x`), { ok: true });
      assert.equal(server.hits(), 3);
      assert.equal(delaysMs.length, 2);
      assert.ok(delaysMs[0]! >= 80 && delaysMs[0]! <= 120, `first wait ${delaysMs[0]}`);
      assert.ok(delaysMs[1]! >= 160 && delaysMs[1]! <= 240, `second wait ${delaysMs[1]}`);
      const peer = server.url;
      assert.equal(await metricValue(registry, 'tessera_http_client_retries_total', { peer }), 2);
      const requests = 'tessera_http_client_requests_total';
      assert.equal(await metricValue(registry, requests, { peer, outcome: 'success' }), 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('retries stop after maxRetries (3) with every wait inside its jitter band', async () => {
    const server = await startServer((_req, res) => sendJson(res, 503, { title: 'busy' }));
    const { client, delaysMs } = testClient({ backoff: { baseMs: 50, jitter: 0.2 } });
    try {
      const error = await client.getJson(server.url).catch((e: unknown) => e);
      assert.ok(error instanceof HttpStatusError, show(error));
      assert.equal(error.status, 503);
      assert.equal(error.attempts, 4);
      assert.equal(server.hits(), 4);
      delaysMs.forEach((delayMs, attempt) => {
        const centreMs = 50 * 2 ** attempt;
        assert.ok(delayMs >= centreMs * 0.8 && delayMs <= centreMs * 1.2, `${attempt}: ${delayMs}`);
      });
      assert.equal(delaysMs.length, 3);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a 404 is not retried and carries the problem+json body', async () => {
    const problem = { type: 'about:blank', title: 'Not Found', status: 404, detail: 'no file /a' };
    const server = await startServer((_req, res) =>
      sendJson(res, 404, problem, 'application/problem+json'),
    );
    const { client, delaysMs } = testClient();
    try {
      const error = await client.getJson(`${server.url}/a`).catch((e: unknown) => e);
      assert.ok(error instanceof HttpStatusError, show(error));
      assert.equal(error.status, 404);
      assert.deepEqual(error.problem, problem);
      assert.equal(error.code, 'PEER_HTTP_STATUS');
      assert.match(error.message, /404: no file \/a/);
      assert.equal(server.hits(), 1);
      assert.equal(delaysMs.length, 0);
      const [breaker] = client.breakers();
      assert.equal(breaker?.state, 'CLOSED');
      assert.equal(breaker?.consecutiveFailures, 0, 'a 4xx is no breaker failure');
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a stalled peer times out, each attempt after timeoutMs', async () => {
    const server = await startServer(() => undefined); // never answers
    const { client } = testClient({ timeoutMs: 100, maxRetries: 1 });
    try {
      const startedMs = performance.now();
      const error = await client.getJson(server.url).catch((e: unknown) => e);
      const elapsedMs = performance.now() - startedMs;
      assert.ok(error instanceof PeerTimeoutError, show(error));
      assert.equal(error.code, 'PEER_TIMEOUT');
      assert.equal((error.cause as { code?: string }).code, 'UND_ERR_HEADERS_TIMEOUT');
      assert.equal(server.hits(), 2);
      assert.equal(client.breakers()[0]?.consecutiveFailures, 2, 'timeouts are breaker failures');
      assert.ok(elapsedMs >= 190 && elapsedMs < 2_000, `took ${elapsedMs} ms`);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a POST is not retried once sent, unless marked idempotent; a PUT is', async () => {
    const server = await startServer((req) => req.socket.destroy()); // drop mid-request
    const { client } = testClient({ breaker: { failureThreshold: 100 } });
    try {
      const post = await client.postJson(server.url, { n: 1 }).catch((e: unknown) => e);
      assert.ok(post instanceof PeerUnavailableError, show(post));
      assert.equal(post.attempts, 1);
      assert.equal(server.hits(), 1);
      await assert.rejects(client.putJson(server.url, { n: 2 }), PeerUnavailableError);
      assert.equal(server.hits(), 1 + 4);
      const options = { idempotent: true, maxRetries: 1 };
      await assert.rejects(client.postJson(server.url, { n: 3 }, options), PeerUnavailableError);
      assert.equal(server.hits(), 5 + 2);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a POST is retried when the connection was refused (never sent)', async () => {
    const url = await closedPortUrl();
    const { client, delaysMs } = testClient({ breaker: { failureThreshold: 10 } });
    try {
      const error = await client.postJson(url, { n: 1 }).catch((e: unknown) => e);
      assert.ok(error instanceof PeerUnavailableError, show(error));
      assert.equal(error.code, 'PEER_UNAVAILABLE');
      assert.equal(error.attempts, 4);
      assert.equal((error.cause as { code?: string }).code, 'ECONNREFUSED');
      assert.equal(delaysMs.length, 3);
    } finally {
      await client.close();
    }
  });

  test('an aborted request throws the abort and is no breaker failure', async () => {
    const server = await startServer(() => undefined);
    const { client } = testClient();
    try {
      const controller = new AbortController();
      const pending = client.getJson(server.url, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, { name: 'AbortError' });
      assert.equal(client.breakers()[0]?.consecutiveFailures, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('HttpClient circuit breaker', () => {
  test('opens after 5 failures, fails fast, half-opens after 60 s, closes after 3 successes', async () => {
    const server = await startServer((_req, res, hit) =>
      hit <= 5 ? sendJson(res, 500, { title: 'boom' }) : sendJson(res, 200, { hit }),
    );
    const clock = new ManualClock(1_000_000);
    const transitions: string[] = [];
    const { client, registry } = testClient({
      clock,
      maxRetries: 0,
      onBreakerTransition: (_peer, from, to) => transitions.push(`${from}->${to}`),
    });
    const peer = server.url;
    const gauge = () => metricValue(registry, 'tessera_circuit_breaker_state', { peer });
    try {
      for (let i = 0; i < 5; i += 1) {
        await assert.rejects(client.getJson(server.url), { status: 500 });
      }
      assert.deepEqual(client.breakers(), [
        {
          peer,
          state: 'OPEN',
          consecutiveFailures: 5,
          halfOpenSuccesses: 0,
          openedAtMs: 1_000_000,
          retryAfterMs: 60_000,
          transitions: 1,
          opens: 1,
        },
      ]);
      assert.equal(await gauge(), 2);
      const fast = await client.getJson(server.url).catch((e: unknown) => e);
      assert.ok(fast instanceof CircuitOpenError, show(fast));
      assert.equal(fast.code, 'CIRCUIT_OPEN');
      assert.equal(fast.attempts, 0);
      assert.equal(server.hits(), 5, 'an open circuit does not touch the network');

      clock.advance(60_000);
      assert.equal(client.breakers()[0]?.state, 'HALF_OPEN');
      assert.equal(await gauge(), 1);
      for (let i = 0; i < 3; i += 1) await client.getJson(server.url);
      assert.equal(client.breakers()[0]?.state, 'CLOSED');
      assert.equal(await gauge(), 0);
      assert.deepEqual(transitions, ['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED']);
      const requests = 'tessera_http_client_requests_total';
      assert.equal(await metricValue(registry, requests, { peer, outcome: 'circuit_open' }), 1);
      assert.equal(await metricValue(registry, requests, { peer, outcome: 'server_error' }), 5);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('each retry counts: two GETs against a dead port open the breaker', async () => {
    const url = await closedPortUrl();
    const { client } = testClient();
    try {
      await assert.rejects(client.getJson(url), PeerUnavailableError); // 4 attempts
      const second = await client.getJson(url).catch((e: unknown) => e); // 1 attempt, then open
      assert.ok(second instanceof CircuitOpenError, show(second));
      assert.equal(second.attempts, 1);
      assert.equal((second.cause as { code?: string }).code, 'ECONNREFUSED');
    } finally {
      await client.close();
    }
  });

  test('peerIsBack lets trial calls to an open peer through before its open time', async () => {
    const server = await startServer((_req, res, hit) =>
      hit <= 5 ? sendJson(res, 500, { title: 'boom' }) : sendJson(res, 200, { hit }),
    );
    const clock = new ManualClock(1_000_000);
    const { client } = testClient({ clock, maxRetries: 0 });
    try {
      for (let i = 0; i < 5; i += 1) {
        await assert.rejects(client.getJson(server.url), { status: 500 });
      }
      await assert.rejects(client.getJson(server.url), CircuitOpenError);
      client.peerIsBack(`${server.url}/api/v1/anything`);
      assert.equal(client.breakers()[0]?.state, 'HALF_OPEN');
      for (let i = 0; i < 3; i += 1) await client.getJson(server.url);
      assert.equal(client.breakers()[0]?.state, 'CLOSED');
      client.peerIsBack('http://127.0.0.1:1'); // a peer never called: nothing to do
      assert.equal(client.breakers().length, 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('clients sharing a registry share the metrics', async () => {
    const registry = new Registry();
    const first = new HttpClient({ registry });
    const second = new HttpClient({ registry });
    await Promise.all([first.close(), second.close()]);
    assert.match(await registry.metrics(), /tessera_circuit_breaker_state/);
  });
});

describe('HttpClient bodies', () => {
  test('streams a 4 MiB upload and a 4 MiB download', async () => {
    const size = 4 * 1024 * 1024;
    const server = await startServer((req, res) => {
      if (req.method === 'PUT') {
        void sha256(req).then((result) => sendJson(res, 200, result));
      } else {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        patternStream(size).pipe(res);
      }
    });
    const { client } = testClient();
    try {
      const expected = await sha256(patternStream(size));
      const up = await client.request(`${server.url}/chunk`, {
        method: 'PUT',
        body: patternStream(size),
      });
      assert.equal(up.status, 200);
      assert.deepEqual(await up.body.json(), expected);
      const down = await client.request(`${server.url}/chunk`);
      assert.equal(down.status, 200);
      assert.deepEqual(await sha256(down.body), expected);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('a stream factory makes an upload retryable; a bare stream is sent once', async () => {
    const server = await startServer((req, res, hit) => {
      void readAll(req).then((body) =>
        hit % 2 === 1 ? sendJson(res, 503, {}) : sendJson(res, 200, { bytes: body.length }),
      );
    });
    const { client, delaysMs } = testClient();
    try {
      const retried = await client.request(server.url, {
        method: 'PUT',
        body: () => patternStream(100_000),
      });
      assert.equal(retried.status, 200);
      assert.equal(retried.attempts, 2);
      assert.deepEqual(await retried.body.json(), { bytes: 100_000 });
      const once = await client.request(server.url, { method: 'PUT', body: patternStream(10) });
      assert.equal(once.status, 503, 'the raw request hands back the status it could not retry');
      assert.equal(once.attempts, 1);
      await once.body.dump();
      assert.equal(delaysMs.length, 1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('postJson sends JSON; deleteJson of a 204 answers undefined', async () => {
    const server = await startServer((req, res) => {
      if (req.method === 'DELETE') return void res.writeHead(204).end();
      void readAll(req).then((body) =>
        sendJson(res, 201, {
          type: req.headers['content-type'],
          echo: JSON.parse(body.toString()) as unknown,
        }),
      );
    });
    const { client } = testClient();
    try {
      const created = await client.postJson(server.url, { a: [1, 2] });
      assert.deepEqual(created, { type: 'application/json', echo: { a: [1, 2] } });
      assert.equal(await client.deleteJson(`${server.url}/a`), undefined);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
