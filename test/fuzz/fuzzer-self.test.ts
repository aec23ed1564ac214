// Rule checked (issue 7, "Bad input"): the fuzzer finds what it is for, and the server factory
// has the limits it checks. A route with a planted bug (a 500 on one input) fails the
// property and is shrunk to a small reproducer; a client that trickles its headers is cut off
// with a problem+json 408 once the headers timeout passes; headers over Node's limit and a
// malformed request line get problem+json 431 and 400 instead of Node's bare answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { createHttpServer, listen, type HttpApp } from '../../src/core/http-server.js';
import { silentLogger } from '../../src/core/logger.js';
import type { FuzzCase } from './lib/fuzz-cases.js';
import { FuzzReport, fuzzService } from './lib/fuzz-service.js';
import { exchange } from './lib/raw-http.js';
import { problemError } from './lib/verdict.js';

describe('the fuzzer against an in-process server', () => {
  let app: HttpApp;
  let url = '';

  before(async () => {
    app = await createHttpServer({
      name: 'fuzz-self',
      logger: silentLogger(),
      requestTimeoutMs: 1_000,
      headersTimeoutMs: 1_000,
    });
    app.post(
      '/echo',
      { schema: { body: Type.Object({ n: Type.Integer({ minimum: 0, maximum: 100 }) }) } },
      async (request) => {
        // The planted bug: one valid input crashes the handler (a 500).
        if (request.body.n > 41) throw new TypeError('planted bug');
        return { n: request.body.n };
      },
    );
    url = await listen(app, '127.0.0.1', 0);
  });
  after(async () => {
    await app.close();
  });

  test('finds the planted 500 and shrinks it to the smallest failing body', async () => {
    const report = new FuzzReport();
    await fuzzService(
      { service: 'self', baseUrl: url, isRunning: () => true },
      {
        seed: 1,
        runsPerEndpoint: 200,
        deadlineMs: 5_000,
        slowDeadlineMs: 5_000,
        slow: undefined,
        endpointTimeLimitMs: 60_000,
        endpointFilter: (endpoint) => endpoint.path === '/echo',
      },
      report,
    );
    assert.equal(report.failures.length, 1);
    const [failure] = report.failures;
    assert.match(failure?.reason ?? '', /answered 500/);
    assert.deepEqual(failure?.fuzzCase.body, { kind: 'text', text: '{"n":42}' });
  });

  const slowHeaders: FuzzCase = {
    endpoint: 'GET /health',
    label: 'trickle-headers',
    method: 'GET',
    target: '/health',
    headers: [['x-slow', 'a'.repeat(200)]],
    body: { kind: 'none' },
    delivery: { kind: 'trickle', intervalMs: 20, headersToo: true },
  };

  test('a client trickling its headers is answered 408 problem+json', async () => {
    const outcome = await exchange(url, slowHeaders, 15_000);
    assert.equal(outcome.kind, 'response', JSON.stringify(outcome));
    if (outcome.kind !== 'response') return;
    assert.equal(outcome.response.status, 408);
    const problem = problemError(
      408,
      outcome.response.headers['content-type'],
      outcome.response.body,
    );
    assert.equal(problem, undefined);
  });

  test('oversized headers and a malformed request line get problem+json', async () => {
    const huge: FuzzCase = {
      ...slowHeaders,
      headers: [['x-big', 'a'.repeat(40_000)]],
      delivery: { kind: 'whole' },
    };
    const broken: FuzzCase = {
      ...slowHeaders,
      target: '/he alth',
      headers: [],
      delivery: { kind: 'whole' },
    };
    // A body after the oversized head: the answer must not be lost to a connection reset.
    const hugeWithBody: FuzzCase = {
      ...huge,
      target: `/health?${'q'.repeat(20_000)}`,
      headers: [],
      body: { kind: 'text', text: 'x'.repeat(100_000) },
      delivery: { kind: 'chunked' },
    };
    for (const [fuzzCase, status] of [
      [huge, 431],
      [hugeWithBody, 431],
      [broken, 400],
    ] as const) {
      const outcome = await exchange(url, fuzzCase, 5_000);
      assert.equal(outcome.kind, 'response', JSON.stringify(outcome));
      if (outcome.kind !== 'response') continue;
      assert.equal(outcome.response.status, status);
      assert.equal(
        problemError(status, outcome.response.headers['content-type'], outcome.response.body),
        undefined,
      );
    }
  });
});
