/**
 * The balancer's HTTP API (distrisearch-architecture.md: "GET /locate?q=python", "POST
 * /update_index {node_id, terms_added, terms_removed, timestamp}"; DESIGN.md rule 6: schema-first
 * routes, bad input is a 400 problem+json, never a 500). A node that is not the leader answers
 * 409 with the leader it knows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.js';
import { createHttpServer, type HttpApp } from '../../../src/core/http-server.js';
import { silentLogger } from '../../../src/core/logger.js';
import {
  BalancerSnapshotStore,
  DataBalancer,
  notLeaderError,
  registerBalancerRoutes,
} from '../../../src/search/balancer/index.js';
import { tempDir } from '../../helpers/processes.js';

const PROBLEM = 'application/problem+json';

describe('balancer routes on the leader', () => {
  const clock = new ManualClock(1_000_000);
  const dir = tempDir('balancer-routes');
  const balancer = new DataBalancer({ nodeId: 7, deadAfterMs: 30_000 });
  let app: HttpApp;

  before(async () => {
    app = await createHttpServer({ name: 'search-node', logger: silentLogger() });
    const snapshots = new BalancerSnapshotStore({ dataDir: dir.path, clock });
    registerBalancerRoutes(
      app,
      () => balancer,
      () => Promise.reject(new Error('unreachable')),
      { clock, snapshots },
    );
    await app.ready();
  });
  after(async () => {
    await app.close();
    dir.cleanup();
  });

  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, payload: payload as object });

  test('heartbeat, update_index and locate work together', async () => {
    for (const node of [1, 2]) {
      const beat = await post('/balancer/heartbeat', {
        node_id: node,
        url: `http://127.0.0.1:930${node}`,
        doc_count: 10 * node,
        term_count: 3,
        total_length: 100 * node,
      });
      assert.equal(beat.statusCode, 200);
      assert.deepEqual(beat.json(), { status: 'ok', full_required: true });
    }
    const full = await post('/update_index', {
      node_id: 1,
      seq: 5,
      terms_added: { python: 3, docker: 1 },
      full: true,
    });
    assert.deepEqual(full.json(), { status: 'ok', applied: true, full_required: false });
    const seedShape = await post('/update_index', {
      node_id: 2,
      seq: 1,
      terms_added: ['python', 'java'],
      terms_removed: [],
      timestamp: 1234567890.5,
    });
    assert.deepEqual(seedShape.json(), { status: 'ok', applied: true, full_required: true });
    const replay = await post('/update_index', { node_id: 2, seq: 1, terms_added: ['rust'] });
    assert.equal(replay.json<{ applied: boolean }>().applied, false);

    const locate = await app.inject({ url: '/locate?terms=python,java,rust' });
    assert.equal(locate.statusCode, 200);
    assert.deepEqual(locate.json(), {
      terms: {
        python: [
          { node_id: 1, url: 'http://127.0.0.1:9301', df: 3 },
          { node_id: 2, url: 'http://127.0.0.1:9302', df: 1 },
        ],
        java: [{ node_id: 2, url: 'http://127.0.0.1:9302', df: 1 }],
        rust: [],
      },
      nodes: [1, 2],
    });
    const single = await app.inject({ url: '/locate?q=docker' });
    assert.deepEqual(single.json<{ nodes: number[] }>().nodes, [1]);
  });

  test('stats answer the seed shape with global BM25 figures', async () => {
    const response = await app.inject({ url: '/balancer/stats' });
    assert.equal(response.statusCode, 200);
    const stats = response.json<Record<string, unknown>>();
    assert.equal(stats['node_id'], 7);
    assert.equal(stats['active_nodes'], 2);
    assert.equal(stats['doc_count'], 30);
    assert.equal(stats['total_length'], 300);
    assert.deepEqual(stats['node_registry'], {
      total_nodes: 2,
      active_nodes: 2,
      total_documents: 30,
      total_terms: 6,
    });
    assert.equal((stats['nodes'] as unknown[]).length, 2);
  });

  test('snapshots are saved on demand and listed', async () => {
    const saved = await post('/balancer/snapshots', { name: 'manual' });
    assert.equal(saved.statusCode, 200);
    assert.equal(saved.json<{ name: string }>().name, 'manual');
    clock.advance(1000);
    const unnamed = await app.inject({ method: 'POST', url: '/balancer/snapshots' });
    assert.equal(unnamed.statusCode, 200, unnamed.body);
    assert.match(unnamed.json<{ name: string }>().name, /^auto-\d+$/);
    const list = await app.inject({ url: '/balancer/snapshots' });
    assert.deepEqual(
      list.json<{ snapshots: { name: string }[] }>().snapshots.map((info) => info.name),
      [unnamed.json<{ name: string }>().name, 'manual'],
    );
  });

  const badRequests: { name: string; method: 'GET' | 'POST'; url: string; payload?: unknown }[] = [
    { name: 'locate without terms', method: 'GET', url: '/locate' },
    { name: 'locate with only commas', method: 'GET', url: '/locate?terms=,,' },
    { name: 'locate with an unknown parameter', method: 'GET', url: '/locate?q=a&x=1' },
    {
      name: 'locate with an over-long term',
      method: 'GET',
      url: `/locate?terms=${'x'.repeat(2000)}`,
    },
    {
      name: 'locate with too many terms',
      method: 'GET',
      url: `/locate?terms=${Array.from({ length: 1100 }, (_, i) => `t${i}`).join(',')}`,
    },
    { name: 'update without node_id', method: 'POST', url: '/update_index', payload: { seq: 1 } },
    {
      name: 'update with a negative seq',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: 1, seq: -1 },
    },
    {
      name: 'update with a string node_id',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: '1', seq: 1 },
    },
    {
      name: 'update with a negative df',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: 1, seq: 9, terms_added: { a: -2 } },
    },
    {
      name: 'update with a fractional df',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: 1, seq: 9, terms_added: { a: 1.5 } },
    },
    {
      name: 'update with an empty term',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: 1, seq: 9, terms_added: { '': 1 } },
    },
    {
      name: 'update with an unknown field',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: 1, seq: 9, terms: {} },
    },
    {
      name: 'update with terms_removed not a list',
      method: 'POST',
      url: '/update_index',
      payload: { node_id: 1, seq: 9, terms_removed: 'a' },
    },
    {
      name: 'heartbeat without url',
      method: 'POST',
      url: '/balancer/heartbeat',
      payload: { node_id: 1, doc_count: 1, term_count: 1, total_length: 1 },
    },
    {
      name: 'heartbeat with a url that is not http',
      method: 'POST',
      url: '/balancer/heartbeat',
      payload: { node_id: 1, url: 'ftp://x:1', doc_count: 1, term_count: 1, total_length: 1 },
    },
    {
      name: 'heartbeat with a negative doc_count',
      method: 'POST',
      url: '/balancer/heartbeat',
      payload: { node_id: 1, url: 'http://x:1', doc_count: -1, term_count: 1, total_length: 1 },
    },
    {
      name: 'snapshot with a path as name',
      method: 'POST',
      url: '/balancer/snapshots',
      payload: { name: '../x' },
    },
  ];
  for (const bad of badRequests) {
    test(`400 problem+json: ${bad.name}`, async () => {
      const before = balancer.toSnapshot(0);
      const response = await app.inject({
        method: bad.method,
        url: bad.url,
        ...(bad.payload === undefined ? {} : { payload: bad.payload as object }),
      });
      assert.equal(response.statusCode, 400, response.body);
      assert.ok(String(response.headers['content-type']).startsWith(PROBLEM));
      const problem = response.json<{ status: number; title: string; detail: string }>();
      assert.equal(problem.status, 400);
      assert.ok(problem.detail.length > 0);
      assert.deepEqual(balancer.toSnapshot(0), before, 'a rejected request changes nothing');
    });
  }

  test('400 for malformed JSON', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/update_index',
      headers: { 'content-type': 'application/json' },
      payload: '{"node_id": 1,',
    });
    assert.equal(response.statusCode, 400);
    assert.ok(String(response.headers['content-type']).startsWith(PROBLEM));
  });

  test('terms named like Object.prototype members are ordinary terms', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/update_index',
      headers: { 'content-type': 'application/json' },
      payload: '{"node_id": 1, "seq": 50, "terms_added": {"constructor": 2}}',
    });
    assert.equal(response.json<{ applied: boolean }>().applied, true);
    const locate = await app.inject({ url: '/locate?terms=constructor,__proto__' });
    assert.ok(locate.body.includes('"constructor":[{"node_id":1,'), locate.body);
    assert.ok(locate.body.includes('"__proto__":[]'), locate.body);
  });
});

describe('balancer routes on a node that is not the leader', () => {
  let app: HttpApp;
  let forwarded = 0;

  before(async () => {
    app = await createHttpServer({ name: 'search-node', logger: silentLogger() });
    registerBalancerRoutes(
      app,
      () => undefined,
      async (request, reply) => {
        if (request.url === '/locate?q=forwarded') {
          forwarded += 1; // a node may forward to the leader and relay its answer instead
          return reply.send({ terms: { forwarded: [] }, nodes: [] });
        }
        throw notLeaderError(3, 'http://127.0.0.1:9304');
      },
    );
    await app.ready();
  });
  after(async () => app.close());

  test('answers 409 with the leader id and url', async () => {
    for (const [method, url, payload] of [
      ['GET', '/locate?q=python', undefined],
      ['POST', '/update_index', { node_id: 1, seq: 1 }],
      [
        'POST',
        '/balancer/heartbeat',
        { node_id: 1, url: 'http://x:1', doc_count: 0, term_count: 0, total_length: 0 },
      ],
    ] as const) {
      const response = await app.inject({ method, url, ...(payload ? { payload } : {}) });
      assert.equal(response.statusCode, 409, `${method} ${url}: ${response.body}`);
      assert.ok(String(response.headers['content-type']).startsWith(PROBLEM));
      const problem = response.json<{ leader_id: number; leader_url: string; status: number }>();
      assert.equal(problem.status, 409);
      assert.equal(problem.leader_id, 3);
      assert.equal(problem.leader_url, 'http://127.0.0.1:9304');
    }
  });

  test('bad input is still a 400, checked before leadership', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/update_index',
      payload: { seq: 1 },
    });
    assert.equal(response.statusCode, 400);
  });

  test('the handler may forward instead', async () => {
    const response = await app.inject({ url: '/locate?q=forwarded' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { terms: { forwarded: [] }, nodes: [] });
    assert.equal(forwarded, 1);
  });
});
