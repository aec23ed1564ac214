// Rule checked (issue 6: "A failing service shows a message where its data would be, never a
// blank page"; DESIGN.md rule 6: errors are problem+json): the dashboard's API answers each
// part of a page separately, so a registry or DFS master that is down becomes a readable message
// in its own part; a DFS answer such as "no such file" or "no live datanode" reaches the browser
// with the DFS's status and words; an upload without its size is refused before it starts. The
// web server runs in-process against an in-process registry and DFS master (no datanodes),
// against a registry that does not answer at all, and against an in-process search node and
// MapReduce master: searches and job calls reach them through the registry, their own 4xx
// answers pass through, and no server answering is a 503 problem+json that names the service.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { resolveConfig } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { metaConfigSchema, startMeta, type MetaHandle } from '../../src/dfs/index.js';
import {
  registryConfigSchema,
  startRegistry,
  type RegistryHandle,
} from '../../src/registry/index.js';
import { masterConfigSchema, startMaster, type MasterHandle } from '../../src/mapreduce/index.js';
import {
  searchNodeConfigSchema,
  startSearchNode,
  type SearchNodeHandle,
} from '../../src/search/index.js';
import {
  startWeb,
  webConfigSchema,
  type FaultToleranceView,
  type JobList,
  type Overview,
  type SearchClusterView,
  type SearchView,
  type WebHandle,
} from '../../src/web/index.js';
import { tempDir, waitFor } from '../helpers/processes.js';

async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

async function startTestWeb(registryUrl: string, dataDir: string): Promise<WebHandle> {
  const flags = {
    port: '0',
    registryUrl,
    dataDir,
    heartbeatIntervalMs: '0.2',
    sampleIntervalMs: '0.5',
  };
  const config = resolveConfig(webConfigSchema, flags, {});
  return startWeb(config.values, { logger: silentLogger() });
}

async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const response = await fetch(url, init);
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('web API when the registry does not answer', () => {
  const dir = tempDir('web-api-down');
  let web: WebHandle;
  before(async () => {
    web = await startTestWeb(await deadUrl(), dir.path);
  });
  after(async () => {
    await web.stop();
    dir.cleanup();
  });

  test('the overview answers, with a message in place of each missing part', async () => {
    const { status, body } = await getJson(`${web.url}/api/overview`);
    assert.equal(status, 200);
    const overview = body as unknown as Overview;
    assert.equal(overview.nodes.servers.ok, false);
    assert.match(
      overview.nodes.servers.ok ? '' : overview.nodes.servers.error,
      /cannot read the registry at http/,
    );
    assert.equal(overview.dfs.ok, false);
    assert.match(overview.dfs.ok ? '' : overview.dfs.error, /registry/);
  });

  test('search and job calls answer 503 problem+json naming the service and the registry', async () => {
    const paths = [
      '/api/search?q=wing',
      '/api/jobs',
      '/api/jobs/job-1',
      '/api/mapreduce/fault-tolerance',
    ];
    for (const path of paths) {
      const { status, type, body } = await getJson(`${web.url}${path}`);
      assert.equal(status, 503, path);
      assert.match(type, /application\/problem\+json/);
      assert.match(
        String(body['detail']),
        /^cannot look up the (search node|MapReduce master): cannot reach the registry/,
      );
    }
  });

  test('the overview and the search cluster view put a message in each missing part', async () => {
    const overview = (await getJson(`${web.url}/api/overview`)).body as unknown as Overview;
    assert.match(overview.search.ok ? '' : overview.search.error, /search node.*registry/);
    assert.match(overview.jobs.ok ? '' : overview.jobs.error, /MapReduce master.*registry/);
    const { status, body } = await getJson(`${web.url}/api/search/cluster`);
    assert.equal(status, 200);
    const cluster = body as unknown as SearchClusterView;
    assert.equal(cluster.nodes.ok, false);
    assert.equal(cluster.cube, null);
    assert.equal(cluster.balancer.ok, false);
  });

  test('file calls answer 503 problem+json that names the cause', async () => {
    const { status, type, body } = await getJson(`${web.url}/api/files?dir=/`);
    assert.equal(status, 503);
    assert.match(type, /application\/problem\+json/);
    assert.match(String(body['detail']), /registry/);
  });

  test('the metrics list the registry as not measured', async () => {
    await waitFor(
      'a metrics round',
      async () => (await getJson(`${web.url}/api/metrics`)).body['last_sample_at_ms'],
    );
    const { body } = await getJson(`${web.url}/api/metrics`);
    const errors = body['scrape_errors'] as { role: string }[];
    assert.deepEqual(
      errors.map((error) => error.role),
      ['registry'],
    );
  });

  test('an unknown API path is a 404 problem, not the app', async () => {
    const { status, type } = await getJson(`${web.url}/api/nope`);
    assert.equal(status, 404);
    assert.match(type, /problem\+json/);
  });
});

describe('web API over a registry and a DFS master without datanodes', () => {
  const dir = tempDir('web-api');
  let registry: RegistryHandle;
  let meta: MetaHandle;
  let web: WebHandle;
  before(async () => {
    const registryConfig = resolveConfig(
      registryConfigSchema,
      { host: '127.0.0.1', port: '0', inMemory: true },
      {},
    );
    registry = await startRegistry(registryConfig.values, { logger: silentLogger() });
    const metaFlags = {
      port: '0',
      registryUrl: registry.url,
      dataDir: join(dir.path, 'meta'),
      heartbeatIntervalMs: '0.2',
    };
    meta = await startMeta(resolveConfig(metaConfigSchema, metaFlags, {}).values, {
      logger: silentLogger(),
    });
    web = await startTestWeb(registry.url, join(dir.path, 'web'));
  });
  after(async () => {
    await web.stop();
    await meta.stop();
    await registry.stop();
    dir.cleanup();
  });

  test('the overview shows the registered servers and the DFS figures', async () => {
    const overview = (await getJson(`${web.url}/api/overview`)).body as unknown as Overview;
    assert.ok(overview.nodes.servers.ok);
    const roles = overview.nodes.servers.data.servers.map((server) => server.role).sort();
    assert.deepEqual(roles, ['dfs-meta', 'web']);
    assert.ok(overview.dfs.ok);
    assert.equal(overview.dfs.data.stats.files, 0);
    assert.deepEqual(overview.dfs.data.datanodes, []);
  });

  test('the node table streams as server-sent events, a new server within moments', async () => {
    const controller = new AbortController();
    const response = await fetch(`${web.url}/api/nodes/events`, { signal: controller.signal });
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.ok(response.body);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (pattern: RegExp): Promise<void> => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += value;
      }
    };
    await readUntil(/event: nodes\ndata: .*"dfs-meta"/);
    const startedMs = Date.now();
    await registry.registry.register({
      server_id: 'late-1',
      role: 'probe',
      host: '127.0.0.1',
      port: 9,
    });
    await readUntil(/"server_id":"late-1"/);
    const elapsedMs = Date.now() - startedMs;
    assert.ok(
      elapsedMs < 2_000,
      `a change reached the stream in ${elapsedMs} ms, before the 3 s hold`,
    );
    controller.abort();
  });

  test("the DFS's own answers pass through: 404 for a missing file", async () => {
    const { status, body } = await getJson(`${web.url}/api/files/stat?path=/missing.txt`);
    assert.equal(status, 404);
    assert.match(String(body['detail']), /missing\.txt/);
  });

  test('an upload with no live datanode fails with the DFS reason', async () => {
    const response = await fetch(`${web.url}/api/files/content?path=/a.txt`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'hello',
    });
    assert.equal(response.status, 503);
    const problem = (await response.json()) as { detail: string };
    assert.match(problem.detail, /datanode/);
  });

  test('an upload without a content-length is refused', async () => {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('x'));
        controller.close();
      },
    });
    const response = await fetch(`${web.url}/api/files/content?path=/b.txt`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { detail: string }).detail, /content-length/);
  });

  test('no search node and no MapReduce master registered: 503s that say so', async () => {
    const checks: [string, RequestInit | undefined, RegExp][] = [
      ['/api/search?q=wing', undefined, /^no search node is registered \(role search-node\)/],
      ['/api/jobs', undefined, /^no MapReduce master is registered \(role mapreduce-master\)/],
      [
        '/api/jobs',
        { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } },
        /^no MapReduce master is registered/,
      ],
      ['/api/mapreduce/fault-tolerance', undefined, /^no MapReduce master is registered/],
    ];
    for (const [path, init, pattern] of checks) {
      const { status, type, body } = await getJson(`${web.url}${path}`, init);
      assert.equal(status, 503, path);
      assert.match(type, /application\/problem\+json/);
      assert.match(String(body['detail']), pattern);
    }
    const overview = (await getJson(`${web.url}/api/overview`)).body as unknown as Overview;
    assert.match(overview.search.ok ? '' : overview.search.error, /no search node is registered/);
    assert.match(overview.jobs.ok ? '' : overview.jobs.error, /no MapReduce master is registered/);
    assert.ok(overview.dfs.ok, 'the DFS part is still there');
    const cluster = (await getJson(`${web.url}/api/search/cluster`))
      .body as unknown as SearchClusterView;
    assert.deepEqual(cluster.nodes, { ok: true, data: [] });
    assert.equal(cluster.cube, null);
    assert.match(cluster.balancer.ok ? '' : cluster.balancer.error, /no search node answered/);
  });

  test('bad input to the search and job routes is a 400 validation error', async () => {
    const paths = [
      '/api/search',
      '/api/search?q=',
      '/api/search?q=wing&k=0',
      '/api/search?q=wing&extra=1',
      '/api/jobs?state=bogus',
      '/api/jobs/a%20b',
    ];
    for (const path of paths) {
      const { status, body } = await getJson(`${web.url}${path}`);
      assert.equal(status, 400, path);
      assert.equal(body['code'], 'VALIDATION_FAILED', path);
    }
  });

  test('a path that is not absolute is a validation error', async () => {
    const { status, body } = await getJson(`${web.url}/api/files/stat?path=relative.txt`);
    assert.equal(status, 400);
    assert.equal(body['code'], 'VALIDATION_FAILED');
  });
});

describe('web API over a live search node and MapReduce master', () => {
  const dir = tempDir('web-api-services');
  let registry: RegistryHandle;
  let node: SearchNodeHandle;
  let master: MasterHandle;
  let web: WebHandle;
  before(async () => {
    registry = await startRegistry(
      resolveConfig(registryConfigSchema, { host: '127.0.0.1', port: '0', inMemory: true }, {})
        .values,
      { logger: silentLogger() },
    );
    const nodeFlags = {
      port: '0',
      nodeId: '0',
      dataDir: join(dir.path, 'node'),
      registryUrl: registry.url,
      heartbeatIntervalMs: '0.2',
      electionHeartbeatMs: '0.1',
      okTimeoutMs: '0.1',
      balancerHeartbeatMs: '0.2',
    };
    const masterFlags = {
      port: '0',
      grpcPort: '0',
      dataDir: join(dir.path, 'master'),
      registryUrl: registry.url,
      heartbeatIntervalMs: '0.2',
    };
    [node, master] = await Promise.all([
      startSearchNode(resolveConfig(searchNodeConfigSchema, nodeFlags, {}).values, {
        logger: silentLogger(),
      }),
      startMaster(resolveConfig(masterConfigSchema, masterFlags, {}).values, {
        logger: silentLogger(),
      }),
    ]);
    web = await startTestWeb(registry.url, join(dir.path, 'web'));
    await fetch(`${node.url}/doc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        doc_id: '/docs/a.txt',
        content: 'Heat transfer on a swept <wing> & its root.',
        metadata: { path: '/docs/a.txt' },
      }),
    });
    await waitFor('the node to lead', async () => {
      const status = (await getJson(`${node.url}/status`)).body;
      return status['is_leader'] === true;
    });
  });
  after(async () => {
    await web.stop();
    await Promise.all([node.stop(), master.stop()]);
    await registry.stop();
    dir.cleanup();
  });

  test('a search goes to a live search node; the answer says which node coordinated it', async () => {
    const { status, body } = await getJson(`${web.url}/api/search?q=wing`);
    assert.equal(status, 200);
    const answer = body as unknown as SearchView;
    assert.equal(answer.total, 1);
    assert.equal(answer.results[0]?.doc_id, '/docs/a.txt');
    assert.match(answer.results[0]?.snippet ?? '', /&lt;<mark>wing<\/mark>&gt; &amp;/);
    assert.equal(answer.answered_by.url, node.url);
    assert.deepEqual(answer.nodes_queried, [0]);
  });

  test('the cluster view: the node, its cube, the leader, the balancer; a dead record is silent', async () => {
    const dead = await deadUrl();
    await registry.registry.register({
      server_id: 'search-gone',
      role: 'search-node',
      host: '127.0.0.1',
      port: Number(new URL(dead).port),
    });
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await getJson(`${web.url}/api/search?q=wing`)).status, 200);
    }
    const cluster = await waitFor('the balancer to count the document', async () => {
      const view = (await getJson(`${web.url}/api/search/cluster`))
        .body as unknown as SearchClusterView;
      return view.balancer.ok && view.balancer.data.stats.doc_count === 1 ? view : undefined;
    });
    assert.ok(cluster.nodes.ok);
    const byId = new Map(cluster.nodes.data.map((n) => [n.server_id, n]));
    assert.equal(byId.get('search-gone')?.status.ok, false);
    assert.match(JSON.stringify(byId.get('search-gone')?.status), /ECONNREFUSED/);
    assert.equal(cluster.cube?.leader_id, 0);
    assert.deepEqual(
      cluster.cube?.vertices.filter((v) => v.state === 'live').map((v) => v.node_id),
      [0],
    );
    assert.ok(cluster.balancer.ok);
    assert.equal(cluster.balancer.data.leader_url, node.url);
  });

  test("job calls reach the master; its 4xx answers pass through with the master's words", async () => {
    const list = await getJson(`${web.url}/api/jobs`);
    assert.equal(list.status, 200);
    assert.deepEqual((list.body as unknown as JobList).jobs, []);
    const invalid = await getJson(`${web.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: '/in', output: '/out' }),
    });
    assert.equal(invalid.status, 400);
    assert.match(String(invalid.body['detail']), /builtin.*or a mapper/);
    for (const [path, method] of [
      ['/api/jobs/job-missing', 'GET'],
      ['/api/jobs/job-missing', 'DELETE'],
      ['/api/mapreduce/dead-letter-queue/job-missing-m-000000/recover', 'POST'],
    ] as const) {
      const { status, type } = await getJson(`${web.url}${path}`, { method });
      assert.equal(status, 404, `${method} ${path}`);
      assert.match(type, /application\/problem\+json/);
    }
    const ft = await getJson(`${web.url}/api/mapreduce/fault-tolerance`);
    assert.equal(ft.status, 200);
    const view = ft.body as unknown as FaultToleranceView;
    assert.deepEqual(view.workers, []);
    assert.equal(view.dead_letters.total, 0);
    assert.equal(view.stats.tasks.retries, 0);
  });

  test('the overview shows the search figures and the jobs running', async () => {
    const overview = await waitFor('search figures', async () => {
      const view = (await getJson(`${web.url}/api/overview`)).body as unknown as Overview;
      return view.search.ok && view.search.data.documents === 1 ? view : undefined;
    });
    assert.ok(overview.search.ok);
    assert.equal(overview.search.data.leader_id, 0);
    assert.equal(overview.search.data.nodes_live, 1);
    assert.ok(overview.jobs.ok);
    assert.equal(overview.jobs.data.running, 0);
    assert.equal(overview.dfs.ok, false, 'no DFS master here: its part says so');
  });

  test('a stopped MapReduce master: job calls answer 503 naming it', async () => {
    await master.stop();
    const { status, type, body } = await getJson(`${web.url}/api/jobs`);
    assert.equal(status, 503);
    assert.match(type, /application\/problem\+json/);
    assert.match(String(body['detail']), /MapReduce master/);
    const overview = (await getJson(`${web.url}/api/overview`)).body as unknown as Overview;
    assert.equal(overview.jobs.ok, false);
  });
});
