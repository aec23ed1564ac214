// Rule checked (DESIGN.md rule 6): every route validates its input against its JSON schema and
// invalid input gets a 4xx `application/problem+json` body (type, title, status, detail, code),
// never a 500 and never a crash; cataloged errors keep their status; an unexpected error is a
// 500 whose detail leaks nothing; every service serves /health, /metrics, /openapi.json, /docs.
// Routes are exercised through Fastify `inject`: no sockets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ConflictError, errorCatalog, TesseraError } from '../../src/core/errors.js';
import {
  createHttpServer,
  PROBLEM_CONTENT_TYPE,
  type HttpApp,
} from '../../src/core/http-server.js';
import { silentLogger } from '../../src/core/logger.js';

const BODY_LIMIT_BYTES = 1024;
const SECRET = 'db password is hunter2';

const ItemBody = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    count: Type.Integer({ minimum: 0 }),
    tags: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

async function buildApp(
  health?: () => Record<string, unknown> & { healthy?: boolean },
): Promise<HttpApp> {
  const app = await createHttpServer({
    name: 'test-service',
    logger: silentLogger(),
    bodyLimitBytes: BODY_LIMIT_BYTES,
    ...(health ? { health } : {}),
  });
  app.post('/items', { schema: { body: ItemBody } }, async (request, reply) =>
    reply.code(201).send({ stored: request.body.name, count: request.body.count }),
  );
  app.get(
    '/items/:id',
    { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
    async (request) => ({ id: request.params.id }),
  );
  app.get('/conflict', async () => {
    throw new ConflictError('item already exists', { item: 'a' });
  });
  app.get('/lease', async () => {
    throw new TesseraError('LEASE_HELD', 'held by client-2');
  });
  app.get('/crash', async () => {
    throw new Error(SECRET);
  });
  app.get('/crash-syntax', async () => {
    // A bug in the handler (bad JSON from disk, say) is the server's fault, not the client's.
    return JSON.parse('{ not json') as unknown;
  });
  return app;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

/** Asserts a problem+json answer with the given status and code, and answers its body. */
function assertProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: keyof typeof errorCatalog,
): Problem {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const problem = JSON.parse(response.body) as Problem;
  assert.equal(problem.status, status);
  assert.equal(problem.code, code);
  assert.equal(problem.title, errorCatalog[code].title);
  assert.equal(typeof problem.type, 'string');
  assert.ok(problem.type.length > 0);
  assert.equal(typeof problem.detail, 'string');
  assert.ok(problem.detail.length > 0);
  return problem;
}

const json = { 'content-type': 'application/json' };

describe('http server: bad input is a 4xx problem', () => {
  let app: HttpApp;
  before(async () => {
    app = await buildApp();
  });
  after(async () => {
    await app.close();
  });

  test('PROBLEM_CONTENT_TYPE is the RFC 9457 media type', () => {
    assert.equal(PROBLEM_CONTENT_TYPE, 'application/problem+json');
  });

  test('a valid body reaches the handler', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/items',
      payload: { name: 'a', count: 2 },
    });
    assert.equal(response.statusCode, 201);
    assert.deepEqual(response.json(), { stored: 'a', count: 2 });
  });

  const invalidBodies: { name: string; payload: unknown; mentions: string }[] = [
    { name: 'missing field', payload: { name: 'a' }, mentions: 'count' },
    {
      name: 'wrong type (string for integer)',
      payload: { name: 'a', count: 'many' },
      mentions: 'integer',
    },
    {
      name: 'a number sent as a string is not coerced',
      payload: { name: 'a', count: '3' },
      mentions: 'integer',
    },
    {
      name: 'wrong type (object for string)',
      payload: { name: { x: 1 }, count: 1 },
      mentions: 'string',
    },
    { name: 'out of range', payload: { name: 'a', count: -1 }, mentions: '>=' },
    {
      name: 'unknown field',
      payload: { name: 'a', count: 1, admin: true },
      mentions: 'additional',
    },
    { name: 'array instead of object', payload: [1, 2], mentions: 'object' },
    { name: 'null body', payload: 'null', mentions: 'object' },
  ];
  for (const c of invalidBodies) {
    test(`400 VALIDATION_FAILED: ${c.name}`, async () => {
      const payload = typeof c.payload === 'string' ? c.payload : JSON.stringify(c.payload);
      const response = await app.inject({ method: 'POST', url: '/items', headers: json, payload });
      const problem = assertProblem(response, 400, 'VALIDATION_FAILED');
      assert.match(problem.detail, /^body/);
      assert.ok(problem.detail.includes(c.mentions), problem.detail);
      assert.ok(Array.isArray(problem['errors']) && problem['errors'].length > 0);
    });
  }

  test('400 VALIDATION_FAILED for invalid path parameters', async () => {
    const response = await app.inject({ method: 'GET', url: '/items/zero' });
    const problem = assertProblem(response, 400, 'VALIDATION_FAILED');
    assert.match(problem.detail, /^params/);
  });

  const malformed: { name: string; payload: string }[] = [
    { name: 'malformed JSON', payload: '{"name": "a", "count": ' },
    { name: 'not JSON at all', payload: 'hello' },
    { name: 'empty body with a JSON content type', payload: '' },
  ];
  for (const c of malformed) {
    test(`400 MALFORMED_BODY: ${c.name}`, async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/items',
        headers: json,
        payload: c.payload,
      });
      assertProblem(response, 400, 'MALFORMED_BODY');
    });
  }

  test('413 PAYLOAD_TOO_LARGE above the body limit', async () => {
    const payload = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES * 2), count: 1 });
    const response = await app.inject({ method: 'POST', url: '/items', headers: json, payload });
    assertProblem(response, 413, 'PAYLOAD_TOO_LARGE');
  });

  test('a body just under the limit is accepted', async () => {
    const overhead = JSON.stringify({ name: '', count: 1 }).length;
    const payload = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT_BYTES - overhead), count: 1 });
    assert.equal(Buffer.byteLength(payload), BODY_LIMIT_BYTES);
    const response = await app.inject({ method: 'POST', url: '/items', headers: json, payload });
    assert.equal(response.statusCode, 201, response.body);
  });

  test('415 UNSUPPORTED_MEDIA_TYPE for a content type no parser takes', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=a&count=1',
    });
    assertProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('415 UNSUPPORTED_MEDIA_TYPE for a text body on a JSON route', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/items',
      headers: { 'content-type': 'text/plain' },
      payload: '{"name": "a", "count": 1}',
    });
    assertProblem(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('404 NOT_FOUND problem for an unknown route, without the query string', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere?token=abc' });
    const problem = assertProblem(response, 404, 'NOT_FOUND');
    assert.equal(problem.detail, 'no route for GET /nowhere');
  });

  test('404 NOT_FOUND for a known path with another method', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/items' });
    assertProblem(response, 404, 'NOT_FOUND');
  });
});

describe('http server: errors thrown by handlers', () => {
  let app: HttpApp;
  before(async () => {
    app = await buildApp();
  });
  after(async () => {
    await app.close();
  });

  test('a TesseraError keeps its status, code and extensions', async () => {
    const response = await app.inject({ method: 'GET', url: '/conflict' });
    const problem = assertProblem(response, 409, 'CONFLICT');
    assert.equal(problem.detail, 'item already exists');
    assert.equal(problem['item'], 'a');
  });

  test('a TesseraError built from any catalog code maps to that code', async () => {
    const response = await app.inject({ method: 'GET', url: '/lease' });
    assertProblem(response, 409, 'LEASE_HELD');
  });

  for (const url of ['/crash', '/crash-syntax']) {
    test(`an unexpected error in ${url} is a 500 with a generic detail and no stack`, async () => {
      const response = await app.inject({ method: 'GET', url });
      const problem = assertProblem(response, 500, 'INTERNAL');
      assert.ok(!response.body.includes(SECRET), 'the error message leaked');
      assert.ok(!response.body.includes('at '), 'a stack trace leaked');
      assert.ok(!('stack' in problem));
      assert.equal(problem.detail, 'The server failed to handle the request; see its log.');
    });
  }

  test('the service keeps answering after an unexpected error', async () => {
    await app.inject({ method: 'GET', url: '/crash' });
    const response = await app.inject({ method: 'GET', url: '/items/3' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { id: 3 });
  });
});

describe('http server: standard routes', () => {
  let app: HttpApp;
  before(async () => {
    app = await buildApp(() => ({ servers: 7 }));
  });
  after(async () => {
    await app.close();
  });

  test('GET /health answers ok with the service name and extra figures', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 200);
    const body = response.json<Record<string, unknown>>();
    assert.equal(body['status'], 'ok');
    assert.equal(body['service'], 'test-service');
    assert.equal(body['servers'], 7);
    assert.equal(typeof body['uptime_s'], 'number');
  });

  test('GET /health answers 503 when the service says it is unhealthy', async () => {
    const sick = await buildApp(() => ({ healthy: false, reason: 'store closed' }));
    try {
      const response = await sick.inject({ method: 'GET', url: '/health' });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json<{ status: string }>().status, 'unhealthy');
    } finally {
      await sick.close();
    }
  });

  test('GET /metrics counts requests by route pattern, method and status', async () => {
    await app.inject({ method: 'GET', url: '/items/41' });
    await app.inject({ method: 'GET', url: '/items/42' });
    await app.inject({ method: 'GET', url: '/items/0' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    const text = response.body;
    const ok = metricValue(text, 'tessera_http_requests_total', {
      route: '/items/:id',
      status: '200',
    });
    assert.equal(ok, 2);
    const bad = metricValue(text, 'tessera_http_requests_total', {
      route: '/items/:id',
      status: '400',
    });
    assert.equal(bad, 1);
    assert.ok(text.includes('tessera_http_request_duration_seconds_bucket'), 'latency histogram');
    assert.ok(text.includes('process_cpu_user_seconds_total'), 'process metrics');
    assert.ok(text.includes('service="test-service"'), 'service label');
  });

  test('GET /openapi.json documents the routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(response.statusCode, 200);
    const doc = response.json<{
      openapi: string;
      info: { title: string };
      paths: Record<string, unknown>;
    }>();
    assert.match(doc.openapi, /^3\./);
    assert.equal(doc.info.title, 'Tessera test-service');
    assert.ok('/items' in doc.paths, Object.keys(doc.paths).join(', '));
    assert.ok('/items/{id}' in doc.paths);
    assert.ok('/health' in doc.paths);
  });

  test('GET /docs serves the UI or redirects to it', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs' });
    if (response.statusCode >= 300 && response.statusCode < 400) {
      const location = String(response.headers['location']);
      const target = await app.inject({
        method: 'GET',
        url: new URL(location, 'http://x/docs').pathname,
      });
      assert.equal(target.statusCode, 200);
      assert.match(target.body, /swagger/i);
    } else {
      assert.equal(response.statusCode, 200);
      assert.match(response.body, /swagger/i);
    }
  });
});

/** The value of one Prometheus sample whose labels include `labels`, or undefined. */
function metricValue(
  text: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const wanted = Object.entries(labels).every(([key, value]) =>
      line.includes(`${key}="${value}"`),
    );
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
