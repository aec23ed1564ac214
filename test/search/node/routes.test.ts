// Rule (DESIGN.md rule 6; issue 4 "Bad input to every endpoint: 4xx"): every route of the search
// node validates its input, and bad input answers 4xx with an application/problem+json body,
// never a 500. Also the single-node happy path of the seed's API: POST /doc, GET /doc, GET
// /search with highlighted snippets, POST /route (ping), GET /status, DELETE /doc.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../../src/core/config.js';
import { HttpClient } from '../../../src/core/http-client.js';
import { silentLogger } from '../../../src/core/logger.js';
import {
  registryConfigSchema,
  startRegistry,
  type RegistryHandle,
} from '../../../src/registry/index.js';
import {
  searchNodeConfigSchema,
  startSearchNode,
  type SearchNodeHandle,
} from '../../../src/search/index.js';
import { tempDir } from '../../helpers/processes.js';

const dir = tempDir('search-routes');
const http = new HttpClient({ maxRetries: 0, breaker: { failureThreshold: 1e9 } });
let registry: RegistryHandle;
let node: SearchNodeHandle;

before(async () => {
  registry = await startRegistry(
    resolveConfig(registryConfigSchema, { port: '0', inMemory: true, dataDir: dir.path }, {})
      .values,
    { logger: silentLogger() },
  );
  node = await startSearchNode(
    resolveConfig(
      searchNodeConfigSchema,
      {
        port: '0',
        nodeId: '0',
        dataDir: `${dir.path}/node`,
        registryUrl: registry.url,
        heartbeatIntervalMs: '0.2',
        electionHeartbeatMs: '0.1',
        okTimeoutMs: '0.1',
      },
      {},
    ).values,
    { logger: silentLogger() },
  );
});

after(async () => {
  await node.stop();
  await registry.stop();
  await http.close();
  dir.cleanup();
});

async function send(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
  const response = await http.request(`${node.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': contentType },
        }),
  });
  const text = await response.body.text();
  return {
    status: response.status,
    type: String(response.headers['content-type'] ?? ''),
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

async function expectProblem(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  contentType?: string,
  status = 400,
): Promise<void> {
  const answer = await send(method, path, body, contentType);
  assert.equal(
    answer.status,
    status,
    `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.json)}`,
  );
  assert.match(answer.type, /application\/problem\+json/);
  assert.equal(typeof answer.json['detail'], 'string');
  assert.equal(answer.json['status'], status);
}

describe('search node API, one node', () => {
  test('index, read, search with highlights, route, status, delete', async () => {
    const created = await send('POST', '/doc', {
      doc_id: 'wing-1',
      content: 'Heated wings: heat transfer on a swept wing.',
      metadata: { author: 'ana' },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json['nodes'], [0]);
    const batch = await send('POST', '/docs', {
      documents: [
        { doc_id: 'cancion', content: 'Una canción sobre el calor', metadata: { lang: 'es' } },
        { doc_id: 'other', content: 'nothing relevant here at all' },
      ],
    });
    assert.equal(batch.status, 201);
    assert.equal(batch.json['indexed'], 2);
    const read = await send('GET', '/doc/wing-1');
    assert.equal(read.status, 200);
    assert.deepEqual(read.json['metadata'], { author: 'ana' });
    const found = await send('GET', '/search?q=heating%20wing&k=5');
    assert.equal(found.status, 200);
    const results = found.json['results'] as { doc_id: string; snippet: string }[];
    assert.equal(results[0]?.doc_id, 'wing-1');
    assert.match(results[0]?.snippet ?? '', /<mark>Heated<\/mark>/);
    assert.equal(found.json['partial'], false);
    const spanish = await send('GET', '/search?q=cancion&lang=es');
    assert.equal((spanish.json['results'] as { doc_id: string }[])[0]?.doc_id, 'cancion');
    const pong = await send('POST', '/route', {
      type: 'route',
      dest_id: 0,
      hop_limit: 32,
      payload: { type: 'ping', sender_id: 0 },
    });
    assert.equal(pong.status, 200);
    assert.deepEqual(pong.json['result'], { type: 'pong', node_id: 0, sender_id: 0 });
    const status = await send('GET', '/status');
    assert.equal(status.json['node_id'], 0);
    assert.equal(status.json['binary_id'], '0000');
    assert.equal(status.json['doc_count'], 3);
    assert.equal((status.json['neighbors'] as unknown[]).length, 4);
    const deleted = await send('DELETE', '/doc/other');
    assert.equal(deleted.status, 200);
    await expectProblem('GET', '/doc/other', undefined, undefined, 404);
    await expectProblem('DELETE', '/doc/other', undefined, undefined, 404);
  });

  test('bad input to the public endpoints answers 400 problem+json', async () => {
    await expectProblem('POST', '/doc', { doc_id: 'x' });
    await expectProblem('POST', '/doc', { doc_id: '', content: 'a' });
    await expectProblem('POST', '/doc', { doc_id: 'a\u0001b', content: 'a' });
    await expectProblem('POST', '/doc', { doc_id: 'x', content: 5 });
    await expectProblem('POST', '/doc', { doc_id: 'x', content: 'a', metadata: [] });
    await expectProblem('POST', '/doc', { doc_id: 'x', content: 'a', extra: 1 });
    await expectProblem('POST', '/doc', '{"doc_id": "x", "content": ');
    await expectProblem('POST', '/doc', 'doc_id=x', 'text/plain', 415);
    await expectProblem('POST', '/doc', ['x']);
    await expectProblem('POST', '/docs', { documents: [] });
    await expectProblem('POST', '/docs', { documents: 'x' });
    await expectProblem('POST', '/docs', [{ doc_id: 'x', content: 'a' }]);
    await expectProblem('POST', '/docs', {
      documents: [{ doc_id: 'x', content: 'a' }, { doc_id: 'y' }],
    });
    await expectProblem('GET', '/search');
    await expectProblem('GET', '/search?q=');
    await expectProblem('GET', '/search?q=a&k=0');
    await expectProblem('GET', '/search?q=a&k=abc');
    await expectProblem('GET', '/search?q=a&k=5000');
    await expectProblem('GET', '/search?q=a&offset=-1');
    await expectProblem('GET', '/search?q=a&scoring=magic');
    await expectProblem('GET', '/search?q=a&lang=klingon');
    await expectProblem('GET', '/search?q=a&feedback=maybe');
    await expectProblem('GET', '/search?q=a&unknown=1');
    await expectProblem('GET', `/doc/${'x'.repeat(600)}`);
    await expectProblem('POST', '/route', {
      type: 'route',
      dest_id: 99,
      hop_limit: 32,
      payload: {},
    });
    await expectProblem('POST', '/route', {
      type: 'route',
      dest_id: 0,
      hop_limit: -1,
      payload: {},
    });
    await expectProblem('POST', '/route', { type: 'ping', dest_id: 0, hop_limit: 3, payload: {} });
    await expectProblem('POST', '/route', {
      type: 'route',
      dest_id: 0,
      hop_limit: 3,
      payload: { type: 'reboot' },
    });
    await expectProblem('POST', '/route', {
      type: 'route',
      dest_id: 0,
      hop_limit: 3,
      payload: 'ping',
    });
    await expectProblem('POST', '/route', {
      type: 'route',
      dest_id: 0,
      hop_limit: 3,
      payload: { type: 'stats', terms: 5 },
    });
    await expectProblem('POST', '/route', {
      type: 'route',
      dest_id: 0,
      hop_limit: 3,
      path: [5, 0],
      payload: {},
    });
    await expectProblem('POST', '/join', { url: 'not a url' });
    await expectProblem('POST', '/join', {});
    await expectProblem('POST', '/departures/forget', {});
    await expectProblem('POST', '/departures/forget', { node_ids: [] });
    await expectProblem('POST', '/departures/forget', { node_ids: [-1] });
    await expectProblem('POST', '/departures/forget', { node_ids: ['2'] });
    await expectProblem('POST', '/departures/forget', { node_ids: [1], extra: true });
    const forgot = await send('POST', '/departures/forget', { node_ids: [5] });
    assert.equal(forgot.status, 200);
    assert.deepEqual(forgot.json, {
      forgotten: [],
      departed_uncovered: [],
      documents_may_be_missing: false,
    });
  });

  test('bad input to the node-to-node and balancer endpoints answers 4xx problem+json', async () => {
    await expectProblem('POST', '/election', { type: 'HELLO', from: 1, to: 0 });
    await expectProblem('POST', '/election', { type: 'ELECTION', from: 1, to: 7 });
    await expectProblem('POST', '/election', { type: 'ELECTION', from: 0, to: 0 });
    await expectProblem('POST', '/election', { type: 'ELECTION', from: -1, to: 0 });
    await expectProblem('POST', '/internal/docs', { documents: [{ doc_id: 'x' }] });
    await expectProblem('POST', '/internal/stats', { terms: 'a', live: [0] });
    await expectProblem('POST', '/internal/stats', { terms: ['a'] });
    await expectProblem('POST', '/internal/search', {
      query: [{ term: 'a', weight: -1 }],
      stats: { doc_count: 1, total_length: 1, df: {} },
      k: 1,
      options: {},
      live: [0],
    });
    await expectProblem('POST', '/internal/search', {
      query: [],
      stats: { doc_count: -1, total_length: 1, df: {} },
      k: 1,
      options: {},
      live: [0],
    });
    await expectProblem('POST', '/internal/search', {
      query: [],
      stats: { doc_count: 1, total_length: 1, df: {} },
      k: 1,
      options: { b: 2 },
      live: [0],
    });
    await expectProblem('POST', '/internal/term-vectors', { doc_ids: [1] });
    await expectProblem('POST', '/internal/have', {});
    await expectProblem('GET', '/locate');
    await expectProblem('GET', '/locate?terms=,,');
    await expectProblem('POST', '/update_index', { node_id: 'a', seq: 1 });
    await expectProblem('POST', '/update_index', { node_id: 1, seq: -1 });
    await expectProblem('POST', '/balancer/heartbeat', { node_id: 1 });
    await expectProblem('POST', '/balancer/snapshots', { name: '../etc' });
  });

  test('the balancer runs on the leader: locate finds the terms this node reported', async () => {
    await send('POST', '/doc', { doc_id: 'locate-me', content: 'zeppelin airship' });
    let answer: { status: number; json: Record<string, unknown> } | undefined;
    for (let i = 0; i < 100; i += 1) {
      answer = await send('GET', '/locate?terms=zeppelin');
      const located = (answer.json['terms'] as Record<string, { node_id: number }[]> | undefined)?.[
        'zeppelin'
      ];
      if (answer.status === 200 && located?.[0]?.node_id === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(answer?.status, 200);
    assert.deepEqual(answer?.json['nodes'], [0]);
  });
});
