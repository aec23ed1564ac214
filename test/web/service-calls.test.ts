// Rule (issue 6: the dashboard "proxies to any live search node found in the registry, with
// failover to another node, and a problem+json 503 naming the cause when none answers";
// DESIGN.md rule 4, retries only where safe): a server that cannot be reached, times out or
// answers 5xx is skipped for the next one; the one that answered is tried first next time; a
// 4xx is the answer and stops the failover; a call that is not idempotent moves on only when
// it provably never left (connection refused), so a job is never submitted twice; and when
// nobody answers, the error is a 503 that names every server tried and why. Real HTTP servers
// on loopback; the registry's list is given directly.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { TesseraError } from '../../src/core/errors.js';
import { HttpStatusError } from '../../src/core/errors-http-client.js';
import { HttpClient } from '../../src/core/http-client.js';
import type { DiscoveryClient, ServerRecord } from '../../src/registry/index.js';
import { RoleCaller, type RoleSpec } from '../../src/web/service-calls.js';

const SPEC: RoleSpec = { role: 'search-node', label: 'search node' };

/** A loopback server answering every request with `status` and a JSON body. */
async function serve(status: number, body: unknown): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(status, {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function record(id: string, server: Server | number): ServerRecord {
  const port = typeof server === 'number' ? server : (server.address() as AddressInfo).port;
  return {
    server_id: id,
    role: SPEC.role,
    host: '127.0.0.1',
    port,
    url: `http://127.0.0.1:${port}`,
    metadata: {},
    status: 'active',
    registered_at: 0,
    last_heartbeat: 0,
    recoveries: 0,
  };
}

/** A discovery stand-in that lists `servers` (the registry itself is tested elsewhere). */
function discoveryOf(list: () => ServerRecord[]): DiscoveryClient {
  const stub = {
    servers: async () => list(),
    invalidate: () => undefined,
  };
  return stub as unknown as DiscoveryClient;
}

describe('RoleCaller: calls to any server of a role, with failover', () => {
  const http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 2_000,
    breaker: { failureThreshold: 1e9 },
  });
  const servers: Server[] = [];
  let ok: ServerRecord;
  let failing: ServerRecord;
  let missing: ServerRecord;
  let dead: ServerRecord;

  before(async () => {
    const [good, broken, notFound, closed] = await Promise.all([
      serve(200, { answer: 42 }),
      serve(500, { title: 'boom', detail: 'internal trouble' }),
      serve(404, { title: 'Not found', status: 404, detail: 'no such job', code: 'NOT_FOUND' }),
      serve(200, {}),
    ]);
    servers.push(good, broken, notFound);
    ok = record('ok', good);
    failing = record('failing', broken);
    missing = record('missing', notFound);
    dead = record('dead', (closed.address() as AddressInfo).port);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  after(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    await http.close();
  });

  const get = (server: ServerRecord): Promise<{ answer: number }> =>
    http.getJson<{ answer: number }>(`${server.url}/x`);
  const post = (server: ServerRecord): Promise<{ answer: number }> =>
    http.postJson<{ answer: number }>(`${server.url}/x`, {});

  test('a dead server is skipped, and the one that answered is asked first next time', async () => {
    const caller = new RoleCaller(discoveryOf(() => [dead, ok]));
    const first = await caller.call(SPEC, get);
    assert.equal(first.value.answer, 42);
    assert.equal(first.answeredBy.server_id, 'ok');
    assert.deepEqual(
      first.answeredBy.skipped.map((s) => s.server_id),
      ['dead'],
    );
    assert.match(first.answeredBy.skipped[0]?.error ?? '', /ECONNREFUSED/);
    const second = await caller.call(SPEC, get);
    assert.deepEqual(second.answeredBy.skipped, []);
  });

  test('a 5xx moves a read on, but not a write that may have been applied', async () => {
    const caller = new RoleCaller(discoveryOf(() => [failing, ok]));
    const read = await caller.call(SPEC, get);
    assert.equal(read.answeredBy.server_id, 'ok');
    const writer = new RoleCaller(discoveryOf(() => [failing, ok]));
    await assert.rejects(writer.call(SPEC, post, { idempotent: false }), (error: unknown) => {
      assert.ok(error instanceof HttpStatusError);
      assert.equal(error.status, 500);
      return true;
    });
  });

  test('a write moves on when the server refused the connection (it never left)', async () => {
    const caller = new RoleCaller(discoveryOf(() => [dead, ok]));
    const { answeredBy } = await caller.call(SPEC, post, { idempotent: false });
    assert.equal(answeredBy.server_id, 'ok');
  });

  test("a 4xx is the answer: passed on with the server's status and words", async () => {
    const caller = new RoleCaller(discoveryOf(() => [missing, ok]));
    await assert.rejects(caller.call(SPEC, get), (error: unknown) => {
      assert.ok(error instanceof TesseraError);
      assert.equal(error.status, 404);
      assert.equal(error.message, 'no such job');
      return true;
    });
  });

  test('nobody registered, or nobody answering: a 503 that says so', async () => {
    const none = new RoleCaller(discoveryOf(() => []));
    await assert.rejects(none.call(SPEC, get), (error: unknown) => {
      assert.ok(error instanceof TesseraError);
      assert.equal(error.status, 503);
      assert.match(error.message, /no search node is registered \(role search-node\)/);
      return true;
    });
    const silent = new RoleCaller(discoveryOf(() => [dead, failing]));
    await assert.rejects(silent.call(SPEC, get), (error: unknown) => {
      assert.ok(error instanceof TesseraError);
      assert.equal(error.status, 503);
      assert.match(
        error.message,
        /^no search node answered: dead \(http:.*ECONNREFUSED.*; failing \(http:.*500/,
      );
      return true;
    });
  });

  test('a registry that cannot be asked is a 503 naming the role', async () => {
    const broken = {
      servers: async () => {
        throw new Error('cannot reach the registry at http://127.0.0.1:1');
      },
      invalidate: () => undefined,
    } as unknown as DiscoveryClient;
    await assert.rejects(new RoleCaller(broken).call(SPEC, get), (error: unknown) => {
      assert.ok(error instanceof TesseraError);
      assert.equal(error.status, 503);
      assert.match(error.message, /cannot look up the search node: cannot reach the registry/);
      return true;
    });
  });
});
