// Rule checked (tbfs-registry.md, "Endpoints" and "Flujo de funcionamiento"): POST /register
// stores a server (generating its id when absent) and answers the record; POST /heartbeat keeps
// it active, answers 404 for an unknown id so the sender registers again; a server silent for
// HEARTBEAT_TIMEOUT becomes inactive at the cleanup sweep, a later heartbeat recovers it (and is
// counted); inactive servers are removed after the retention period; lists filter by role;
// a blocking query on /servers/active holds until the active set changes or the wait ends; the
// table survives a restart over the same SQLite file and its index never goes back; bad input
// is a 4xx problem+json. Routes run through Fastify `inject` on a ManualClock: no sockets; the only
// real waits are the short ones that show a blocking query holding.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { createHttpServer, type HttpApp } from '../../src/core/http-server.js';
import { silentLogger } from '../../src/core/logger.js';
import { SeededRandom } from '../../src/core/random.js';
import { Registry } from '../../src/registry/registry.js';
import { INDEX_HEADER, registerRegistryRoutes } from '../../src/registry/routes.js';
import { RegistryStore } from '../../src/registry/store.js';
import type { ServerList, ServerRecord } from '../../src/registry/types.js';

const TIMEOUT_MS = 30_000;
const CLEANUP_MS = 10_000;
const RETENTION_MS = 3_600_000;
const START_MS = 1_700_000_000_000;

interface Harness {
  readonly app: HttpApp;
  /** The registry behind the routes now; `reset` swaps in a fresh one. */
  registry: Registry;
  store: RegistryStore;
  clock: ManualClock;
  /** Replaces the registry (and its store and clock) behind the same routes. */
  reset(dbPath?: string, clock?: ManualClock): void;
  /** Closes the current registry's store without touching the app (a registry restart). */
  closeRegistry(): void;
  close(): Promise<void>;
}

const workDir = mkdtempSync(join(tmpdir(), 'tessera-registry-'));
let dbCounter = 0;

function newRegistry(
  dbPath: string,
  clock: ManualClock,
): { registry: Registry; store: RegistryStore } {
  const store = new RegistryStore(dbPath);
  const registry = new Registry({
    timeoutMs: TIMEOUT_MS,
    retentionMs: RETENTION_MS,
    clock,
    random: new SeededRandom(7),
    store,
  });
  return { registry, store };
}

/**
 * Builds a registry as startRegistry does (store in a temp dir, createHttpServer,
 * registerRegistryRoutes), without listening. Compiling the routes' schemas takes about half a
 * second, so one app serves a whole suite: the routes see the registry through a forwarding
 * object, and `reset` gives each test a fresh registry, store and clock.
 */
async function startHarness(): Promise<Harness> {
  const firstClock = new ManualClock(START_MS);
  const harness = {
    ...newRegistry(join(workDir, `r${dbCounter++}.db`), firstClock),
    clock: firstClock,
    reset(dbPath = join(workDir, `r${dbCounter++}.db`), clock = new ManualClock(START_MS)) {
      harness.closeRegistry();
      Object.assign(harness, newRegistry(dbPath, clock), { clock });
    },
    closeRegistry() {
      harness.registry.releaseWaiters();
      harness.registry.flushHeartbeats();
      harness.store.close();
    },
    async close() {
      await app.close();
      harness.closeRegistry();
    },
  } as Omit<Harness, 'app'>;
  // Every property read goes to the registry of the moment (methods bound to it).
  const forwarding = new Proxy({} as Registry, {
    get(_target, key) {
      const value: unknown = Reflect.get(harness.registry, key, harness.registry);
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(harness.registry)
        : value;
    },
  });
  const app = await createHttpServer({
    name: 'registry',
    logger: silentLogger(),
    bodyLimitBytes: 256 * 1024,
    health: () => ({ servers: forwarding.counts().total, index: forwarding.index }),
  });
  registerRegistryRoutes(app, forwarding, {
    heartbeatTimeoutMs: TIMEOUT_MS,
    cleanupIntervalMs: CLEANUP_MS,
  });
  await app.ready();
  return Object.assign(harness, { app });
}

type Injected = Awaited<ReturnType<HttpApp['inject']>>;

function register(h: Harness, body: Record<string, unknown>): Promise<Injected> {
  return h.app.inject({ method: 'POST', url: '/register', payload: body });
}
function heartbeat(h: Harness, body: Record<string, unknown>): Promise<Injected> {
  return h.app.inject({ method: 'POST', url: '/heartbeat', payload: body });
}
async function getRecord(h: Harness, id: string): Promise<ServerRecord> {
  const response = await h.app.inject({ method: 'GET', url: `/servers/${id}` });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<ServerRecord>();
}
async function list(h: Harness, url: string): Promise<ServerList> {
  const response = await h.app.inject({ method: 'GET', url });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(response.headers[INDEX_HEADER], String(response.json<ServerList>().index));
  return response.json<ServerList>();
}
function ids(servers: readonly ServerRecord[]): string[] {
  return servers.map((s) => s.server_id).sort();
}

function assertProblem(response: Injected, status: number, code?: string): Record<string, unknown> {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const problem = response.json<Record<string, unknown>>();
  for (const field of ['type', 'title', 'status', 'detail', 'code'])
    assert.ok(field in problem, field);
  assert.equal(problem['status'], status);
  if (code !== undefined) assert.equal(problem['code'], code);
  return problem;
}

const dn = (
  id: string,
  port: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  server_id: id,
  role: 'datanode',
  host: '127.0.0.1',
  port,
  ...extra,
});

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('registry routes', () => {
  beforeEach(() => h.reset());

  test('register without an id generates one, answers 201 and the record', async () => {
    const response = await register(h, {
      role: 'datanode',
      host: '10.0.0.5',
      port: 9201,
      metadata: { rack: 'r1' },
    });
    assert.equal(response.statusCode, 201, response.body);
    const record = response.json<ServerRecord>();
    assert.match(
      record.server_id,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.equal(record.url, 'http://10.0.0.5:9201');
    assert.equal(record.status, 'active');
    assert.deepEqual(record.metadata, { rack: 'r1' });
    assert.equal(record.registered_at, START_MS / 1000, 'times are Unix seconds');
    assert.equal(record.last_heartbeat, START_MS / 1000);
    assert.equal(record.recoveries, 0);
    assert.equal(response.headers[INDEX_HEADER], String(h.registry.index));
    const second = await register(h, { role: 'datanode', host: '10.0.0.6', port: 9202 });
    assert.notEqual(second.json<ServerRecord>().server_id, record.server_id);
  });

  test('re-registering a known id answers 200 and keeps registered_at', async () => {
    assert.equal((await register(h, dn('dn-1', 9201))).statusCode, 201);
    h.clock.advance(5_000);
    const again = await register(h, dn('dn-1', 9301, { url: 'http://dn1.example:9301/' }));
    assert.equal(again.statusCode, 200, again.body);
    const record = again.json<ServerRecord>();
    assert.equal(record.registered_at, START_MS / 1000);
    assert.equal(record.last_heartbeat, (START_MS + 5_000) / 1000);
    assert.equal(record.port, 9301);
    assert.equal(
      record.url,
      'http://dn1.example:9301',
      'a given url is kept, without trailing slash',
    );
  });

  test('an IPv6 host gets a bracketed url', async () => {
    const record = (
      await register(h, { role: 'datanode', host: '::1', port: 9201 })
    ).json<ServerRecord>();
    assert.equal(record.url, 'http://[::1]:9201');
  });

  test('lists filter by role and by status', async () => {
    await register(h, dn('dn-1', 9201));
    await register(h, dn('dn-2', 9202));
    await register(h, { server_id: 'meta-1', role: 'dfs-meta', host: '127.0.0.1', port: 9100 });
    h.clock.advance(TIMEOUT_MS / 2);
    await heartbeat(h, { server_id: 'dn-1' });
    await heartbeat(h, { server_id: 'meta-1' });
    h.clock.advance(TIMEOUT_MS / 2);
    h.registry.sweep();
    assert.deepEqual(ids((await list(h, '/servers')).servers), ['dn-1', 'dn-2', 'meta-1']);
    assert.deepEqual(ids((await list(h, '/servers?role=datanode')).servers), ['dn-1', 'dn-2']);
    assert.deepEqual(ids((await list(h, '/servers?status=inactive')).servers), ['dn-2']);
    assert.deepEqual(ids((await list(h, '/servers?role=datanode&status=active')).servers), [
      'dn-1',
    ]);
    const active = await list(h, '/servers/active');
    assert.deepEqual(ids(active.servers), ['dn-1', 'meta-1']);
    assert.equal(active.count, 2);
    assert.deepEqual(ids((await list(h, '/servers/active?role=dfs-meta')).servers), ['meta-1']);
    assert.deepEqual((await list(h, '/servers/active?role=nobody')).servers, []);
  });

  test('GET / reports counts and the seed timeouts', async () => {
    await register(h, dn('dn-1', 9201));
    await register(h, dn('dn-2', 9202));
    h.clock.advance(TIMEOUT_MS);
    await heartbeat(h, { server_id: 'dn-1' });
    h.registry.sweep();
    const response = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    const body = response.json<Record<string, unknown>>();
    assert.equal(body['total_servers'], 2);
    assert.equal(body['active_servers'], 1);
    assert.equal(body['inactive_servers'], 1);
    assert.deepEqual(body['roles'], { datanode: { active: 1, inactive: 1 } });
    assert.equal(body['heartbeat_timeout_s'], 30);
    assert.equal(body['cleanup_interval_s'], 10);
  });

  test('a heartbeat for an unknown id is a 404 problem naming the id', async () => {
    const problem = assertProblem(await heartbeat(h, { server_id: 'ghost-1' }), 404, 'NOT_FOUND');
    assert.equal(problem['server_id'], 'ghost-1');
  });

  test('a server is inactive exactly HEARTBEAT_TIMEOUT after its last heartbeat', async () => {
    await register(h, dn('dn-1', 9201));
    h.clock.advance(TIMEOUT_MS - 1);
    assert.deepEqual(h.registry.sweep().expired, []);
    assert.equal((await getRecord(h, 'dn-1')).status, 'active');
    h.clock.advance(1);
    assert.deepEqual(h.registry.sweep().expired, ['dn-1']);
    assert.equal((await getRecord(h, 'dn-1')).status, 'inactive');
    assert.deepEqual((await list(h, '/servers/active')).servers, []);
  });

  test('a heartbeat from an inactive server recovers it and counts the recovery', async () => {
    await register(h, dn('dn-1', 9201));
    h.clock.advance(TIMEOUT_MS);
    h.registry.sweep();
    const response = await heartbeat(h, { server_id: 'dn-1', metadata: { version: '2' } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { status: 'ok', server_id: 'dn-1', recovered: true });
    const record = await getRecord(h, 'dn-1');
    assert.equal(record.status, 'active');
    assert.equal(record.recoveries, 1);
    assert.deepEqual(record.metadata, { version: '2' });
    const plain = await heartbeat(h, { server_id: 'dn-1' });
    assert.equal(plain.json<{ recovered: boolean }>().recovered, false);
    assert.deepEqual(
      (await getRecord(h, 'dn-1')).metadata,
      { version: '2' },
      'metadata kept when absent',
    );
  });

  test('an inactive server is removed after the retention period', async () => {
    await register(h, dn('dn-1', 9201));
    h.clock.advance(TIMEOUT_MS);
    h.registry.sweep();
    h.clock.advance(RETENTION_MS - 1);
    assert.deepEqual(h.registry.sweep().removed, []);
    h.clock.advance(1);
    assert.deepEqual(h.registry.sweep().removed, ['dn-1']);
    assertProblem(await h.app.inject({ method: 'GET', url: '/servers/dn-1' }), 404, 'NOT_FOUND');
    assertProblem(await heartbeat(h, { server_id: 'dn-1' }), 404);
  });

  test('DELETE removes a server; a second DELETE is a 404', async () => {
    await register(h, dn('dn-1', 9201));
    const response = await h.app.inject({ method: 'DELETE', url: '/servers/dn-1' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { status: 'removed', server_id: 'dn-1' });
    assertProblem(await h.app.inject({ method: 'DELETE', url: '/servers/dn-1' }), 404, 'NOT_FOUND');
    assert.deepEqual((await list(h, '/servers')).servers, []);
  });

  test('GET /servers/{id} of an unknown id is a 404 problem', async () => {
    assertProblem(await h.app.inject({ method: 'GET', url: '/servers/nobody' }), 404, 'NOT_FOUND');
  });

  test('the index moves on register, expiry, metadata change and removal, not on a plain heartbeat', async () => {
    const start = h.registry.index;
    await register(h, dn('dn-1', 9201));
    const afterRegister = h.registry.index;
    assert.ok(afterRegister > start);
    await heartbeat(h, { server_id: 'dn-1' });
    await register(h, dn('dn-1', 9201));
    assert.equal(h.registry.index, afterRegister, 'heartbeat and identical re-registration');
    await heartbeat(h, { server_id: 'dn-1', metadata: { load: 1 } });
    const afterMetadata = h.registry.index;
    assert.ok(afterMetadata > afterRegister);
    h.clock.advance(TIMEOUT_MS);
    h.registry.sweep();
    assert.ok(h.registry.index > afterMetadata);
  });
});

describe('blocking queries on /servers/active', () => {
  beforeEach(async () => {
    h.reset();
    await register(h, dn('dn-1', 9201));
  });

  test('answer at once when the index differs from the one given', async () => {
    const index = h.registry.index;
    const started = performance.now();
    const body = await list(h, `/servers/active?index=${index - 1}&wait=10s`);
    assert.ok(performance.now() - started < 1_000);
    assert.equal(body.index, index);
    assert.deepEqual(ids(body.servers), ['dn-1']);
  });

  test('are released when a server registers', async () => {
    const index = h.registry.index;
    let settled = false;
    const pending = h.app
      .inject({ method: 'GET', url: `/servers/active?index=${index}&wait=10s` })
      .then((r) => {
        settled = true;
        return r;
      });
    await delay(50);
    assert.equal(settled, false, 'the query must hold while nothing changes');
    const started = performance.now();
    await register(h, dn('dn-2', 9202));
    const response = await pending;
    assert.ok(performance.now() - started < 1_000, 'released at once, not after the wait');
    assert.equal(response.statusCode, 200);
    const body = response.json<ServerList>();
    assert.ok(body.index > index);
    assert.equal(response.headers[INDEX_HEADER], String(body.index));
    assert.deepEqual(ids(body.servers), ['dn-1', 'dn-2']);
  });

  test('are released when a server expires', async () => {
    const index = h.registry.index;
    const pending = h.app.inject({ method: 'GET', url: `/servers/active?index=${index}&wait=10s` });
    await delay(20);
    h.clock.advance(TIMEOUT_MS);
    h.registry.sweep();
    const body = (await pending).json<ServerList>();
    assert.ok(body.index > index);
    assert.deepEqual(body.servers, []);
  });

  test('are not released by a plain heartbeat; they answer after the wait', async () => {
    const index = h.registry.index;
    const started = performance.now();
    const pending = h.app.inject({
      method: 'GET',
      url: `/servers/active?index=${index}&wait=200ms`,
    });
    await delay(20);
    await heartbeat(h, { server_id: 'dn-1' });
    await register(h, dn('dn-1', 9201));
    const response = await pending;
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs >= 190, `answered after ${elapsedMs} ms, before the wait`);
    assert.ok(elapsedMs < 2_000, `answered after ${elapsedMs} ms`);
    assert.equal(response.statusCode, 200);
    assert.equal(response.json<ServerList>().index, index);
  });

  test('an invalid wait or index is a 400 problem', async () => {
    const index = h.registry.index;
    assertProblem(
      await h.app.inject({ method: 'GET', url: `/servers/active?index=${index}&wait=abc` }),
      400,
      'BAD_REQUEST',
    );
    assertProblem(
      await h.app.inject({ method: 'GET', url: '/servers/active?wait=abc' }),
      400,
      'BAD_REQUEST',
    );
    assertProblem(
      await h.app.inject({ method: 'GET', url: '/servers/active?index=abc' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(
      await h.app.inject({ method: 'GET', url: '/servers/active?index=-1' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(
      await h.app.inject({ method: 'GET', url: '/servers/active?colour=red' }),
      400,
      'VALIDATION_FAILED',
    );
  });
});

describe('persistence', () => {
  test('a second registry over the same store sees the servers; the index never goes back', async () => {
    const path = join(workDir, 'persist.db');
    const clock = new ManualClock(START_MS);
    h.reset(path, clock);
    await register(h, dn('dn-1', 9201, { metadata: { rack: 'r1' } }));
    await register(h, dn('dn-2', 9202));
    clock.advance(TIMEOUT_MS - 1_000);
    await heartbeat(h, { server_id: 'dn-1' });
    clock.advance(1_000);
    h.registry.sweep(); // dn-2 expires; dn-1's heartbeat is flushed with it
    const indexBefore = h.registry.index;

    clock.advance(5 * TIMEOUT_MS); // the registry is down for a while, then restarts
    h.reset(path, clock);
    assert.ok(h.registry.index > indexBefore, `${h.registry.index} <= ${indexBefore}`);
    const dn1 = await getRecord(h, 'dn-1');
    assert.equal(dn1.status, 'active');
    assert.deepEqual(dn1.metadata, { rack: 'r1' });
    assert.equal(dn1.registered_at, START_MS / 1000);
    assert.equal((await getRecord(h, 'dn-2')).status, 'inactive');
    // Active servers get one full timeout after the restart before being judged.
    clock.advance(TIMEOUT_MS - 1);
    assert.deepEqual(h.registry.sweep().expired, []);
    await heartbeat(h, { server_id: 'dn-1' });
    const recovered = await heartbeat(h, { server_id: 'dn-2' });
    assert.equal(recovered.json<{ recovered: boolean }>().recovered, true);
    assert.equal((await getRecord(h, 'dn-2')).recoveries, 1);
  });

  test('heartbeat times written only in the batch survive a restart', async () => {
    const path = join(workDir, 'batched.db');
    const clock = new ManualClock(START_MS);
    h.reset(path, clock);
    await register(h, dn('dn-1', 9201));
    clock.advance(20_000);
    await heartbeat(h, { server_id: 'dn-1' }); // not written yet: batched until a sweep or stop
    h.reset(path, clock); // a graceful restart flushes the batch
    assert.equal((await getRecord(h, 'dn-1')).last_heartbeat, (START_MS + 20_000) / 1000);
  });

  test('a registry that was never written starts at a positive index', async () => {
    h.reset();
    assert.ok(h.registry.index >= 1);
    assert.equal((await list(h, '/servers')).index, h.registry.index);
  });
});

describe('bad input is a 4xx problem, never a 500', () => {
  beforeEach(() => h.reset());

  const badRegistrations: { name: string; body: Record<string, unknown> }[] = [
    { name: 'missing role', body: { host: '127.0.0.1', port: 9201 } },
    { name: 'missing host', body: { role: 'datanode', port: 9201 } },
    { name: 'missing port', body: { role: 'datanode', host: '127.0.0.1' } },
    { name: 'port 70000', body: dn('dn-1', 70_000) },
    { name: 'port 0', body: dn('dn-1', 0) },
    { name: 'port as a string', body: dn('dn-1', '9201' as unknown as number) },
    { name: 'port with a fraction', body: dn('dn-1', 92.5) },
    { name: 'server_id with ../', body: dn('../etc/passwd', 9201) },
    { name: 'server_id with a slash', body: dn('a/b', 9201) },
    { name: 'server_id too long', body: dn('x'.repeat(129), 9201) },
    { name: 'empty role', body: { role: '', host: 'h', port: 1 } },
    { name: 'role with spaces', body: { role: 'data node', host: 'h', port: 1 } },
    { name: 'host with a path', body: { role: 'datanode', host: 'h/x', port: 1 } },
    { name: 'url without a scheme', body: dn('dn-1', 9201, { url: 'dn1:9201' }) },
    { name: 'metadata not an object', body: dn('dn-1', 9201, { metadata: 'rack-1' }) },
    { name: 'unknown field', body: dn('dn-1', 9201, { admin: true }) },
  ];
  for (const c of badRegistrations) {
    test(`register: ${c.name}`, async () => {
      assertProblem(await register(h, c.body), 400, 'VALIDATION_FAILED');
      assert.equal(h.registry.counts().total, 0, 'nothing was stored');
    });
  }

  test('heartbeat: missing id, unknown field, bad id', async () => {
    assertProblem(await heartbeat(h, {}), 400, 'VALIDATION_FAILED');
    assertProblem(
      await heartbeat(h, { server_id: 'dn-1', status: 'active' }),
      400,
      'VALIDATION_FAILED',
    );
    assertProblem(await heartbeat(h, { server_id: '../dn-1' }), 400, 'VALIDATION_FAILED');
  });

  test('malformed JSON and an empty JSON body', async () => {
    const headers = { 'content-type': 'application/json' };
    for (const payload of ['{"role": "datanode",', '', 'null']) {
      const response = await h.app.inject({ method: 'POST', url: '/register', headers, payload });
      assertProblem(response, 400);
    }
  });

  test('a 10 MB body is a 413 problem', async () => {
    const payload = JSON.stringify(
      dn('dn-1', 9201, { metadata: { blob: 'x'.repeat(10 * 1024 * 1024) } }),
    );
    const response = await h.app.inject({
      method: 'POST',
      url: '/register',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    assertProblem(response, 413, 'PAYLOAD_TOO_LARGE');
    assert.equal(h.registry.counts().total, 0);
  });

  test('a non-JSON content type is a 415 problem', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/register',
      headers: { 'content-type': 'text/plain' },
      payload: 'role=datanode',
    });
    assertProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('path parameters and query strings are validated', async () => {
    for (const url of [
      '/servers/..%2F..%2Fetc',
      '/servers/%20x',
      '/servers?role=UPPER',
      '/servers?status=dead',
    ]) {
      assertProblem(await h.app.inject({ method: 'GET', url }), 400, 'VALIDATION_FAILED');
    }
    assertProblem(
      await h.app.inject({ method: 'DELETE', url: '/servers/..%2Fx' }),
      400,
      'VALIDATION_FAILED',
    );
  });
});
