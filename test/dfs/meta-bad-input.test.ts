/**
 * Bad input to every endpoint of the metadata master answers a 4xx problem+json and changes
 * nothing (DESIGN.md rule 6): wrong types, missing fields, path traversal, unknown ids.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { HttpClient } from '../../src/core/http-client.js';
import { createHttpServer, type HttpApp } from '../../src/core/http-server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { MetaMaster } from '../../src/dfs/meta/master.js';
import { ReplicationManager } from '../../src/dfs/meta/replication-manager.js';
import { registerMetaRoutes } from '../../src/dfs/meta/routes.js';
import { MetaStore } from '../../src/dfs/meta/store.js';
import { testMetaMaster } from '../helpers/meta-master.js';
import { tempDir } from '../helpers/processes.js';

describe('metadata master rejects bad input', () => {
  const dir = tempDir('meta-bad');
  const clock = new ManualClock(1_700_000_000_000);
  let app: HttpApp;
  let store: MetaStore;
  let master: MetaMaster;
  const http = new HttpClient();

  before(async () => {
    store = new MetaStore(`${dir.path}/meta.db`);
    master = testMetaMaster(store, clock);
    app = await createHttpServer({ name: 'dfs-meta', logger: silentLogger() });
    registerMetaRoutes(app, master, new ReplicationManager(master, http, clock, silentLogger()), {
      heartbeatIntervalMs: 10_000,
    });
    for (const port of [1, 2, 3]) {
      await master.nodes.heartbeat(
        {
          node_id: `dn${port}`,
          url: `http://127.0.0.1:${port}`,
          host: '127.0.0.1',
          port,
          free_space: 1e9,
          total_space: 2e9,
          chunk_ids: [],
        },
        10_000,
      );
    }
    await master.uploadInit({ path: '/held.txt', size: 10, client_id: 'holder' });
  });
  after(async () => {
    await app.close();
    await http.close();
    store.close();
    dir.cleanup();
  });

  const uuid = '0b8f7a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
  const cases: {
    name: string;
    method: 'GET' | 'POST' | 'DELETE';
    url: string;
    body?: unknown;
    raw?: string;
    status: number;
  }[] = [
    {
      name: 'upload-init without path',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { size: 1 },
      status: 400,
    },
    {
      name: 'upload-init relative path',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: 'a.txt', size: 1 },
      status: 400,
    },
    {
      name: 'upload-init with ..',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a/../../etc/passwd', size: 1 },
      status: 400,
    },
    {
      name: 'upload-init with //',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a//b', size: 1 },
      status: 400,
    },
    {
      name: 'upload-init with a NUL',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a\u0000b', size: 1 },
      status: 400,
    },
    {
      name: 'upload-init negative size',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a', size: -1 },
      status: 400,
    },
    {
      name: 'upload-init size as string',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a', size: '10' },
      status: 400,
    },
    {
      name: 'upload-init tiny chunk size',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a', size: 10, chunk_size: 1 },
      status: 400,
    },
    {
      name: 'upload-init replication 0',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a', size: 10, replication: 0 },
      status: 400,
    },
    {
      name: 'upload-init unknown field',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/a', size: 10, evil: true },
      status: 400,
    },
    {
      name: 'upload-init on a leased path',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      body: { path: '/held.txt', size: 10 },
      status: 409,
    },
    {
      name: 'malformed JSON',
      method: 'POST',
      url: '/api/v1/files/upload-init',
      raw: '{"path":',
      status: 400,
    },
    {
      name: 'commit of an unknown upload',
      method: 'POST',
      url: '/api/v1/files/commit',
      body: { file_id: uuid, chunks: [] },
      status: 409,
    },
    {
      name: 'commit with a bad file id',
      method: 'POST',
      url: '/api/v1/files/commit',
      body: { file_id: '../x', chunks: [] },
      status: 400,
    },
    {
      name: 'commit with a bad checksum',
      method: 'POST',
      url: '/api/v1/files/commit',
      body: { file_id: uuid, chunks: [{ chunk_id: uuid, size: 1, checksum: 'zz', replicas: [] }] },
      status: 400,
    },
    {
      name: 'allocate for an unknown upload',
      method: 'POST',
      url: '/api/v1/files/allocate',
      body: { file_id: uuid, chunk_id: uuid, exclude: [] },
      status: 409,
    },
    {
      name: 'abort of an unknown upload',
      method: 'POST',
      url: '/api/v1/files/abort',
      body: { file_id: uuid },
      status: 409,
    },
    { name: 'stat of a missing file', method: 'GET', url: '/api/v1/files/nope.txt', status: 404 },
    { name: 'stat with traversal', method: 'GET', url: '/api/v1/files/a%2F..%2Fb', status: 400 },
    {
      name: 'delete of a missing file',
      method: 'DELETE',
      url: '/api/v1/files/nope.txt',
      status: 404,
    },
    {
      name: 'rename of a missing file',
      method: 'POST',
      url: '/api/v1/files/rename',
      body: { from: '/nope', to: '/other' },
      status: 404,
    },
    {
      name: 'rename to a relative path',
      method: 'POST',
      url: '/api/v1/files/rename',
      body: { from: '/nope', to: 'other' },
      status: 400,
    },
    { name: 'list with limit 0', method: 'GET', url: '/api/v1/files?limit=0', status: 400 },
    { name: 'list a bad directory', method: 'GET', url: '/api/v1/files?dir=a/../b', status: 400 },
    {
      name: 'lease for a bad path',
      method: 'POST',
      url: '/api/v1/leases/acquire',
      body: { path: '../x', holder: 'h' },
      status: 400,
    },
    {
      name: 'lease held by another',
      method: 'POST',
      url: '/api/v1/leases/acquire',
      body: { path: '/held.txt', holder: 'other' },
      status: 409,
    },
    {
      name: 'renew of a lease not held',
      method: 'POST',
      url: '/api/v1/leases/renew',
      body: { path: '/free.txt', holder: 'h' },
      status: 409,
    },
    {
      name: 'release of another’s lease',
      method: 'POST',
      url: '/api/v1/leases/release',
      body: { path: '/held.txt', holder: 'other' },
      status: 409,
    },
    {
      name: 'heartbeat without chunk list',
      method: 'POST',
      url: '/api/v1/nodes/heartbeat',
      body: { node_id: 'x', url: 'http://h:1', host: 'h', port: 1, free_space: 1, total_space: 1 },
      status: 400,
    },
    {
      name: 'heartbeat with a bad url',
      method: 'POST',
      url: '/api/v1/nodes/heartbeat',
      body: {
        node_id: 'x',
        url: 'file:///etc',
        host: 'h',
        port: 1,
        free_space: 1,
        total_space: 1,
        chunk_ids: [],
      },
      status: 400,
    },
  ];

  for (const item of cases) {
    test(`${item.name} -> ${item.status}`, async () => {
      const before = master.files.size + master.uploads.size;
      const response = await app.inject({
        method: item.method,
        url: item.url,
        ...(item.raw !== undefined
          ? { payload: item.raw, headers: { 'content-type': 'application/json' } }
          : item.body !== undefined
            ? { payload: item.body as object }
            : {}),
      });
      assert.equal(response.statusCode, item.status, response.body);
      assert.match(
        String(response.headers['content-type']),
        /application\/problem\+json/,
        'problem+json',
      );
      const problem = response.json<{ status: number; detail: string }>();
      assert.equal(problem.status, item.status, 'the body repeats the status');
      assert.ok(problem.detail.length > 0, 'the problem explains itself');
      assert.equal(master.files.size + master.uploads.size, before, 'nothing was created');
    });
  }
});
