// Rule checked (issue 6: "A failing service shows a message where its data would be, never a
// blank page"; DESIGN.md rule 6: errors are problem+json): the dashboard's API answers each
// part of a page separately, so a registry or DFS master that is down becomes a readable message
// in its own part; a DFS answer such as "no such file" or "no live datanode" reaches the browser
// with the DFS's status and words; an upload without its size is refused before it starts. The
// web server runs in-process against an in-process registry and DFS master (no datanodes), and
// against a registry that does not answer at all.
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
import { startWeb, webConfigSchema, type Overview, type WebHandle } from '../../src/web/index.js';
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
): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  const response = await fetch(url);
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
    registry.registry.register({
      server_id: 'late-1',
      role: 'search-node',
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

  test('a path that is not absolute is a validation error', async () => {
    const { status, body } = await getJson(`${web.url}/api/files/stat?path=relative.txt`);
    assert.equal(status, 400);
    assert.equal(body['code'], 'VALIDATION_FAILED');
  });
});
