/**
 * Bad input over real sockets gets a 4xx with a problem+json body, never a 500 or a crash
 * (DESIGN.md rule 6): missing fields, wrong types, a 10 MB body, unknown ids, malformed JSON.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTessera, tempDir, type RunningProcess } from '../helpers/processes.js';

describe('registry rejects bad input', () => {
  const dir = tempDir('registry-bad');
  let registry: RunningProcess;

  before(async () => {
    registry = await startTessera(['registry', '--port', '0', '--data-dir', dir.path]);
  });
  after(async () => {
    await registry.kill('SIGKILL');
    dir.cleanup();
  });

  const cases: {
    name: string;
    method: 'GET' | 'POST' | 'DELETE';
    path: string;
    body?: string | Buffer;
    type?: string;
    status: number;
  }[] = [
    {
      name: 'missing role',
      method: 'POST',
      path: '/register',
      body: '{"host":"h","port":1}',
      status: 400,
    },
    {
      name: 'port is a string',
      method: 'POST',
      path: '/register',
      body: '{"role":"x","host":"h","port":"80"}',
      status: 400,
    },
    {
      name: 'port out of range',
      method: 'POST',
      path: '/register',
      body: '{"role":"x","host":"h","port":70000}',
      status: 400,
    },
    {
      name: 'unknown field',
      method: 'POST',
      path: '/register',
      body: '{"role":"x","host":"h","port":1,"evil":1}',
      status: 400,
    },
    {
      name: 'path traversal in id',
      method: 'POST',
      path: '/register',
      body: '{"server_id":"../etc","role":"x","host":"h","port":1}',
      status: 400,
    },
    { name: 'malformed JSON', method: 'POST', path: '/register', body: '{"role":', status: 400 },
    { name: 'JSON array body', method: 'POST', path: '/heartbeat', body: '[]', status: 400 },
    { name: 'empty body', method: 'POST', path: '/heartbeat', body: '', status: 400 },
    {
      name: 'text body',
      method: 'POST',
      path: '/heartbeat',
      body: 'hello',
      type: 'text/plain',
      status: 415,
    },
    {
      name: '10 MB body',
      method: 'POST',
      path: '/register',
      body: Buffer.alloc(10 * 1024 * 1024, 0x61),
      status: 413,
    },
    {
      name: 'heartbeat of unknown id',
      method: 'POST',
      path: '/heartbeat',
      body: '{"server_id":"ghost"}',
      status: 404,
    },
    { name: 'unknown server', method: 'GET', path: '/servers/ghost', status: 404 },
    { name: 'delete unknown server', method: 'DELETE', path: '/servers/ghost', status: 404 },
    { name: 'bad role filter', method: 'GET', path: '/servers?role=%00%01', status: 400 },
    { name: 'negative index', method: 'GET', path: '/servers/active?index=-1', status: 400 },
    { name: 'bad wait', method: 'GET', path: '/servers/active?index=1&wait=forever', status: 400 },
    { name: 'unknown route', method: 'GET', path: '/nope', status: 404 },
  ];

  for (const item of cases) {
    test(`${item.name} -> ${item.status}`, async () => {
      const response = await request(`${registry.url}${item.path}`, {
        method: item.method,
        ...(item.body !== undefined
          ? { body: item.body, headers: { 'content-type': item.type ?? 'application/json' } }
          : {}),
      });
      const text = await response.body.text();
      assert.equal(response.statusCode, item.status, text);
      assert.match(String(response.headers['content-type']), /application\/problem\+json/);
      const problem = JSON.parse(text) as {
        status: number;
        title: string;
        detail: string;
        type: string;
      };
      assert.equal(problem.status, item.status);
      assert.ok(problem.title && problem.detail && problem.type);
    });
  }

  test('the registry is still healthy afterwards', async () => {
    const response = await request(`${registry.url}/health`);
    assert.equal(response.statusCode, 200);
    await response.body.dump();
  });
});
