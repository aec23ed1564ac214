// Rule checked (issue 7, "Bad input"): the fuzzer's generators do what the fuzzer relies on.
// Schema-valid values pass the schema (checked with Ajv, as the services do), mutations fail
// it, endpoint discovery reads every route of an OpenAPI document, hostile strings survive
// percent-encoding (lone surrogates included), and the oracle refuses a 5xx, a 4xx that is not
// problem+json, a hang and an unexplained closed connection.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { randomCase, slowCases, type FuzzCase } from './lib/fuzz-cases.js';
import { percentEncode } from './lib/hostile-strings.js';
import { endpointsOf, fillPath } from './lib/openapi-endpoints.js';
import { dechunk, requestHead } from './lib/raw-http.js';
import { mutatedValue, validValue, type JsonSchema } from './lib/schema-arbitrary.js';
import { judge, problemError } from './lib/verdict.js';

const ajv = new Ajv({ strict: false });

const schemas: Record<string, JsonSchema> = {
  registration: {
    type: 'object',
    additionalProperties: false,
    required: ['server_id', 'port'],
    properties: {
      server_id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$' },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      role: { type: 'string', enum: ['dfs', 'search'] },
      tags: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 3 },
      weight: { type: 'number', exclusiveMinimum: 0 },
      metadata: { type: 'object', additionalProperties: {} },
      input: {
        anyOf: [
          { type: 'string', minLength: 1, pattern: '^/' },
          { type: 'array', minItems: 1, items: { type: 'string', pattern: '^/' } },
        ],
      },
    },
  },
  documents: {
    type: 'object',
    additionalProperties: false,
    required: ['documents'],
    properties: {
      documents: {
        type: 'array',
        minItems: 1,
        maxItems: 10,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['doc_id', 'content'],
          properties: {
            doc_id: { type: 'string', minLength: 1, maxLength: 512 },
            content: { type: 'string', maxLength: 4194304 },
          },
        },
      },
    },
  },
};

const document = {
  openapi: '3.0.3',
  paths: {
    '/health': { get: { responses: {} } },
    '/servers/{server_id}': {
      get: { parameters: [{ in: 'path', name: 'server_id', schema: { type: 'string' } }] },
      delete: { parameters: [{ in: 'path', name: 'server_id', required: true }] },
    },
    '/register': {
      post: {
        requestBody: { content: { 'application/json': { schema: schemas['registration'] } } },
      },
    },
    '/api/v1/chunks/{chunk_id}': {
      put: {
        parameters: [
          { in: 'path', name: 'chunk_id', schema: { type: 'string' } },
          { in: 'header', name: 'x-tessera-checksum', schema: { type: 'string' } },
        ],
      },
    },
    '/api/v1/files/{*}': { get: { parameters: [{ in: 'path', name: '*' }] } },
    '/search': {
      get: { parameters: [{ in: 'query', name: 'q', required: true, schema: { type: 'string' } }] },
    },
  },
};

describe('schema generators', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    test(`valid values of the ${name} schema pass it`, () => {
      const validate = ajv.compile(schema);
      fc.assert(
        fc.property(validValue(schema), (value) => {
          assert.ok(validate(value), JSON.stringify(validate.errors));
        }),
        { seed: 1, numRuns: 300 },
      );
    });

    test(`mutations of the ${name} schema nearly always fail it`, () => {
      const validate = ajv.compile(schema);
      // A hostile string can be a valid value of a string without a pattern, so not every
      // mutation breaks the value; nearly all must, or the fuzzer would not probe validation.
      const samples = fc.sample(mutatedValue(schema), { seed: 2, numRuns: 400 });
      const refused = samples.filter((value) => !validate(value)).length;
      assert.ok(refused >= samples.length * 0.9, `${refused} of ${samples.length} refused`);
    });
  }
});

describe('endpoint discovery', () => {
  const endpoints = endpointsOf(document);

  test('finds every method and path, sorted, with its parameters and body kind', () => {
    assert.deepEqual(
      endpoints.map((endpoint) => `${endpoint.method} ${endpoint.path}`),
      [
        'PUT /api/v1/chunks/{chunk_id}',
        'GET /api/v1/files/{*}',
        'GET /health',
        'POST /register',
        'GET /search',
        'DELETE /servers/{server_id}',
        'GET /servers/{server_id}',
      ],
    );
    const put = endpoints[0];
    assert.equal(put?.streamBody, true);
    assert.deepEqual(
      put?.headers.map((header) => header.name),
      ['x-tessera-checksum'],
    );
    const register = endpoints.find((endpoint) => endpoint.path === '/register');
    assert.equal(register?.streamBody, false);
    assert.deepEqual(register?.jsonBody, schemas['registration']);
    assert.equal(
      endpoints.find((endpoint) => endpoint.path === '/search')?.query[0]?.required,
      true,
    );
  });

  test('fills path templates, wildcard included', () => {
    assert.equal(fillPath('/a/{x}/b/{y}', { x: '1', y: '%2e%2e' }), '/a/1/b/%2e%2e');
    assert.equal(fillPath('/api/v1/files/{*}', { '*': 'dir/f.txt' }), '/api/v1/files/dir/f.txt');
  });

  test('random cases target the endpoint and carry well-formed request heads', () => {
    for (const endpoint of endpoints) {
      fc.assert(
        fc.property(randomCase(endpoint), (fuzzCase) => {
          assert.equal(fuzzCase.method, endpoint.method);
          assert.ok(fuzzCase.target.startsWith('/'), fuzzCase.target);
          // The request line is one line of printable ASCII: the case breaks what it means to.
          const head = requestHead(fuzzCase, '127.0.0.1:1', 0);
          const firstLine = head.split('\r\n')[0] ?? '';
          assert.match(firstLine, /^[A-Z]+ \/[\x21-\x7e]* HTTP\/1\.1$/);
        }),
        { seed: 3, numRuns: 100 },
      );
    }
  });

  test('every endpoint gets a slow case; body endpoints get huge, truncated and trickled ones', () => {
    const settings = { hugeBytes: 11 * 1024 * 1024, trickleIntervalMs: 200 };
    const labels = (path: string): string[] =>
      endpoints
        .filter((endpoint) => endpoint.path === path)
        .flatMap((endpoint) => slowCases(endpoint, settings).map((fuzzCase) => fuzzCase.label));
    assert.deepEqual(labels('/health'), ['trickle-headers']);
    assert.deepEqual(labels('/register'), [
      'trickle-headers',
      'huge-body',
      'truncated-close',
      'truncated-open',
      'trickle-body',
    ]);
  });
});

describe('hostile strings', () => {
  test('percent-encoding keeps traversal raw only when asked', () => {
    assert.equal(percentEncode('../a b'), '..%2Fa%20b');
    assert.equal(percentEncode('../a', '/.'), '../a');
  });

  test('lone surrogates become invalid UTF-8 bytes instead of throwing', () => {
    assert.equal(percentEncode('\ud800'), '%ED%A0%80');
    assert.equal(percentEncode('😀'), '%F0%9F%98%80');
  });

  test('any string encodes to URL-safe ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        assert.match(percentEncode(text), /^[A-Za-z0-9\-_.~%]*$/);
      }),
      { seed: 4, numRuns: 500 },
    );
  });
});

describe('the oracle', () => {
  const base: FuzzCase = {
    endpoint: 'GET /x',
    label: 'valid',
    method: 'GET',
    target: '/x',
    headers: [],
    body: { kind: 'none' },
    delivery: { kind: 'whole' },
  };
  const problem = (status: number): Buffer =>
    Buffer.from(JSON.stringify({ type: 't', title: 'T', status, detail: 'd' }));
  const answer = (status: number, type: string, body: Buffer) =>
    ({
      kind: 'response',
      ms: 1,
      response: { status, headers: { 'content-type': type }, body },
    }) as const;

  test('a 2xx and a problem+json 4xx pass', () => {
    assert.equal(judge(base, answer(200, 'application/json', Buffer.from('{}'))).ok, true);
    assert.equal(judge(base, answer(404, 'application/problem+json', problem(404))).ok, true);
  });

  test('a 5xx, a plain 4xx, a hang and a silent close fail', () => {
    assert.equal(judge(base, answer(500, 'application/problem+json', problem(500))).ok, false);
    assert.equal(judge(base, answer(400, 'application/json', Buffer.from('{}'))).ok, false);
    assert.equal(judge(base, { kind: 'timeout', ms: 30_000 }).ok, false);
    assert.equal(judge(base, { kind: 'closed', ms: 5 }).ok, false);
  });

  test('a slow client may be cut off', () => {
    const trickle: FuzzCase = {
      ...base,
      delivery: { kind: 'trickle', intervalMs: 200, headersToo: true },
    };
    assert.deepEqual(judge(trickle, { kind: 'closed', ms: 5 }), { ok: true, outcomeClass: 'cut' });
  });

  test('problem+json needs every field and the same status', () => {
    assert.equal(problemError(400, 'application/problem+json', problem(400)), undefined);
    assert.match(problemError(400, 'application/problem+json', problem(404)) ?? '', /status/);
    assert.match(
      problemError(400, 'application/problem+json', Buffer.from('nope')) ?? '',
      /not JSON/,
    );
  });

  test('chunked answers are decoded', () => {
    assert.equal(dechunk(Buffer.from('3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n')).toString(), 'abcde');
  });
});

describe('peer failures', () => {
  const replicate: FuzzCase = {
    endpoint: 'POST /replicate',
    label: 'valid',
    method: 'POST',
    target: '/replicate',
    headers: [['content-type', 'application/json']],
    body: { kind: 'text', text: '{"source_url":"http://a:1"}' },
    delivery: { kind: 'whole' },
  };
  const badGateway = {
    kind: 'response',
    ms: 1,
    response: {
      status: 502,
      headers: { 'content-type': 'application/problem+json' },
      body: Buffer.from(JSON.stringify({ type: 't', title: 'T', status: 502, detail: 'd' })),
    },
  } as const;

  test('a 502 passes only when the request names a peer by URL', () => {
    assert.equal(judge(replicate, badGateway).ok, true);
    const noPeer: FuzzCase = { ...replicate, body: { kind: 'text', text: '{}' } };
    assert.equal(judge(noPeer, badGateway).ok, false);
  });
});

describe('patterns fast-check cannot generate from', () => {
  test('a pattern with a lookahead still yields matching values', () => {
    const schema: JsonSchema = { type: 'string', minLength: 1, pattern: '^(?!\\.\\.?$)[^/]+$' };
    const values = fc.sample(validValue(schema), { seed: 5, numRuns: 50 });
    for (const value of values) assert.ok(ajv.validate(schema, value), String(value));
  });
});
