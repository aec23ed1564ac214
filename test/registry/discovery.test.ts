// Rule checked (tbfs-registry.md, frontend client: "Cache con TTL", "Fallback a API_URL si el
// registry no está disponible", "Selección de servidor"): the discovery client answers the active
// servers of a role from a cache until its TTL passes; when the registry cannot be reached it
// answers the last list it saw, or else the API_URL fallback; a call to a server that is down
// moves on to the next server, while a 4xx answer is the caller's to see, at once. Runs against a
// real registry started in-process on an ephemeral port; the cache runs on a ManualClock.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ManualClock } from '../../src/core/clock.js';
import { resolveConfig } from '../../src/core/config.js';
import { UnavailableError } from '../../src/core/errors.js';
import { HttpStatusError } from '../../src/core/errors-http-client.js';
import { HttpClient } from '../../src/core/http-client.js';
import { silentLogger } from '../../src/core/logger.js';
import { SeededRandom } from '../../src/core/random.js';
import {
  DiscoveryClient,
  registryConfigSchema,
  startRegistry,
  type DiscoveryOptions,
  type RegistryHandle,
  type ServerRecord,
} from '../../src/registry/index.js';

const TTL_MS = 5_000;

/** A port on 127.0.0.1 that nothing listens on (taken from the OS, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startTestRegistry(): Promise<RegistryHandle> {
  const config = resolveConfig(
    registryConfigSchema,
    { host: '127.0.0.1', port: '0', inMemory: true },
    {},
  );
  return startRegistry(config.values, { logger: silentLogger() });
}

describe('DiscoveryClient', () => {
  let registry: RegistryHandle;
  let http: HttpClient;
  let clock: ManualClock;
  let deadUrl: string;

  /** Registers a server directly in the registry (as its agent would). */
  const add = async (id: string, role: string, url: string): Promise<void> => {
    const parsed = new URL(url);
    await registry.registry.register({
      server_id: id,
      role,
      host: parsed.hostname,
      port: Number(parsed.port),
      url,
    });
  };
  const client = (options: Partial<DiscoveryOptions> = {}): DiscoveryClient =>
    new DiscoveryClient({ registryUrl: registry.url, http, cacheTtlMs: TTL_MS, clock, ...options });

  before(async () => {
    registry = await startTestRegistry();
    http = new HttpClient({ maxRetries: 0, timeoutMs: 2_000 });
    deadUrl = `http://127.0.0.1:${await deadPort()}`;
  });
  after(async () => {
    await http.close();
    await registry.stop();
  });
  beforeEach(async () => {
    for (const server of registry.registry.list()) await registry.registry.remove(server.server_id);
    clock = new ManualClock(1_000_000);
  });

  test('answers the active servers of a role, from the cache until the TTL passes', async () => {
    await add('api-1', 'api', registry.url);
    await add('other-1', 'other', registry.url);
    const discovery = client();
    assert.deepEqual(
      (await discovery.servers('api')).map((s) => s.server_id),
      ['api-1'],
    );
    await add('api-2', 'api', registry.url);
    clock.advance(TTL_MS - 1);
    assert.deepEqual(
      (await discovery.servers('api')).map((s) => s.server_id),
      ['api-1'],
      'cached',
    );
    clock.advance(1);
    assert.deepEqual(
      (await discovery.servers('api')).map((s) => s.server_id),
      ['api-1', 'api-2'],
      'refreshed after the TTL',
    );
    assert.equal((await discovery.servers()).length, 3, 'no role: every active server');
  });

  test('invalidate forgets the cache', async () => {
    await add('api-1', 'api', registry.url);
    const discovery = client();
    await discovery.servers('api');
    await add('api-2', 'api', registry.url);
    discovery.invalidate();
    assert.equal((await discovery.servers('api')).length, 2);
  });

  test('falls back to API_URL when the registry cannot be reached', async () => {
    const discovery = client({ registryUrl: deadUrl, fallbackUrl: 'http://api.example:8000/' });
    const [fallback, ...rest] = await discovery.servers('api');
    assert.deepEqual(rest, []);
    assert.equal(fallback?.url, 'http://api.example:8000');
    assert.equal(fallback?.host, 'api.example');
    assert.equal(fallback?.port, 8000);
    assert.equal(fallback?.role, 'api');
    assert.equal((await discovery.select('api')).url, 'http://api.example:8000');
  });

  test('without a fallback, an unreachable registry is an UnavailableError naming it', async () => {
    const discovery = client({ registryUrl: deadUrl });
    await assert.rejects(discovery.servers('api'), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.equal(error.status, 503);
      assert.ok(error.message.includes(deadUrl), error.message);
      return true;
    });
  });

  test('uses the stale cached list when the registry dies after a first fetch', async () => {
    const own = await startTestRegistry();
    let running = true;
    try {
      await own.registry.register({ server_id: 'api-1', role: 'api', host: '127.0.0.1', port: 1 });
      const discovery = new DiscoveryClient({
        registryUrl: own.url,
        http,
        cacheTtlMs: TTL_MS,
        clock,
        fallbackUrl: 'http://fallback.example:8000',
      });
      assert.equal((await discovery.servers('api'))[0]?.server_id, 'api-1');
      await own.stop();
      running = false;
      clock.advance(10 * TTL_MS);
      const stale = await discovery.servers('api');
      assert.deepEqual(
        stale.map((s) => s.server_id),
        ['api-1'],
        'the stale list wins over the fallback',
      );
    } finally {
      if (running) await own.stop();
    }
  });

  test('a failed server makes the list stale, not lost: a dead registry still leaves it', async () => {
    const own = await startTestRegistry();
    let running = true;
    try {
      await own.registry.register({ server_id: 'gone', role: 'api', host: '127.0.0.1', port: 1 });
      const live = new URL(registry.url);
      await own.registry.register({
        server_id: 'live',
        role: 'api',
        host: live.hostname,
        port: Number(live.port),
      });
      const discovery = new DiscoveryClient({
        registryUrl: own.url,
        http,
        cacheTtlMs: TTL_MS,
        clock,
        strategy: 'first',
      });
      const health = (): Promise<string> =>
        discovery.withServer('api', async (server) => {
          await http.getJson(`${server.url}/health`);
          return server.server_id;
        });
      assert.equal(await health(), 'live', 'the dead server is skipped');
      await own.stop();
      running = false;
      assert.equal(await health(), 'live', 'the registry is down: the stale list still serves');
    } finally {
      if (running) await own.stop();
    }
  });

  test('withServer skips a server that is down and uses the next', async () => {
    await add('api-dead', 'api', deadUrl);
    await add('api-live', 'api', registry.url);
    const tried: string[] = [];
    const discovery = client({ strategy: 'first' });
    const health = await discovery.withServer('api', async (server: ServerRecord) => {
      tried.push(server.server_id);
      return http.getJson<{ status: string }>(`${server.url}/health`);
    });
    assert.equal(health.status, 'ok');
    assert.deepEqual(tried, ['api-dead', 'api-live']);
  });

  test('withServer throws the last failure when every server is down', async () => {
    await add('api-dead', 'api', deadUrl);
    const discovery = client();
    let calls = 0;
    await assert.rejects(
      discovery.withServer('api', async (server) => {
        calls += 1;
        return http.getJson(`${server.url}/health`);
      }),
      (error: unknown) => error instanceof Error && !(error instanceof HttpStatusError),
    );
    assert.equal(calls, 1);
  });

  test('withServer throws a 4xx answer at once, without trying the next server', async () => {
    await add('api-1', 'api', registry.url);
    await add('api-2', 'api', registry.url);
    const tried: string[] = [];
    const discovery = client({ strategy: 'first' });
    await assert.rejects(
      discovery.withServer('api', async (server) => {
        tried.push(server.server_id);
        return http.getJson(`${server.url}/servers/no-such-server`);
      }),
      (error: unknown) => error instanceof HttpStatusError && error.status === 404,
    );
    assert.deepEqual(tried, ['api-1']);
  });

  test('withServer and select with no server of the role are an UnavailableError', async () => {
    const discovery = client();
    await assert.rejects(discovery.select('nobody'), UnavailableError);
    await assert.rejects(
      discovery.withServer('nobody', async () => 1),
      UnavailableError,
    );
  });

  test('select: round-robin cycles, first sticks, random is reproducible with a seed', async () => {
    for (const id of ['api-1', 'api-2', 'api-3']) await add(id, 'api', registry.url);
    const roundRobin = client({ strategy: 'round-robin' });
    const picks: string[] = [];
    for (let i = 0; i < 4; i += 1) picks.push((await roundRobin.select('api')).server_id);
    assert.deepEqual(picks, ['api-1', 'api-2', 'api-3', 'api-1']);
    const first = client({ strategy: 'first' });
    assert.equal((await first.select('api')).server_id, 'api-1');
    assert.equal(
      (await first.select('api', 'round-robin')).server_id,
      'api-1',
      'per-call strategy',
    );
    const seeded = async (): Promise<string[]> => {
      const random = client({ strategy: 'random', random: new SeededRandom(9) });
      const chosen: string[] = [];
      for (let i = 0; i < 6; i += 1) chosen.push((await random.select('api')).server_id);
      return chosen;
    };
    assert.deepEqual(await seeded(), await seeded());
  });
});
