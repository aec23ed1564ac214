// Rule (dfs-architecture.md, "Autenticación": "Tokens JWT incluyen permisos y expiración",
// "DataNodes validan tokens antes de servir chunks"; issue 7): a token verifies only with the
// cluster's secret, before its expiry (on the injected clock), unaltered and for its audience;
// the server hook answers 401 without a valid token, 403 for a weak role, leaves /health open,
// and accepts a chunk token only for its own chunk and operation. The HTTP client sends the
// configured token and, with TLS on, never sends plaintext.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { HttpClient } from '../../src/core/http-client.js';
import { createHttpServer, listen, type HttpApp } from '../../src/core/http-server.js';
import { silentLogger } from '../../src/core/logger.js';
import { TokenAuthorizer, VerifiedTokenCache } from '../../src/security/authorizer.js';
import { createCertificates } from '../../src/security/certs.js';
import { generateSecret, tokenKeys } from '../../src/security/keys.js';
import {
  issueApiToken,
  issueChunkToken,
  verifyApiToken,
  verifyChunkToken,
} from '../../src/security/tokens.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/processes.js';

const keys = tokenKeys(Buffer.from(generateSecret()));
const HOUR_MS = 3_600_000;
const T0 = 1_800_000_000_000;

describe('API and chunk tokens', () => {
  test('verify until expiry on the given clock, with the role and groups', async () => {
    const token = await issueApiToken(
      keys,
      { subject: 'ana', role: 'writer', groups: ['team'], ttlMs: HOUR_MS },
      T0,
    );
    const fresh = await verifyApiToken(keys, token, T0 + HOUR_MS - 1000);
    assert.deepEqual(fresh.ok && fresh.value, { subject: 'ana', role: 'writer', groups: ['team'] });
    const late = await verifyApiToken(keys, token, T0 + HOUR_MS + 60_000);
    assert.deepEqual(late, { ok: false, reason: 'the token has expired' });
  });

  test('refuse another secret, a changed claim, the other audience and alg none', async () => {
    const token = await issueApiToken(keys, { subject: 'ana', role: 'reader', ttlMs: HOUR_MS }, T0);
    const other = tokenKeys(Buffer.from(generateSecret()));
    assert.equal((await verifyApiToken(other, token, T0)).ok, false);
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object;
    const raised = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    assert.equal((await verifyApiToken(keys, `${header}.${raised}.${signature}`, T0)).ok, false);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    assert.equal((await verifyApiToken(keys, `${none}.${payload}.`, T0)).ok, false);
    const chunk = await issueChunkToken(
      keys,
      { chunkId: 'c1', op: 'read', subject: 'a' },
      T0,
      60_000,
    );
    assert.equal(
      (await verifyApiToken(keys, chunk, T0)).ok,
      false,
      'a chunk token is no API token',
    );
    const api = await verifyChunkToken(keys, token, { chunkId: 'c1', op: 'read' }, T0);
    assert.equal(api.ok, false, 'an API token is no chunk token');
  });

  test('a chunk token grants its chunk and operation only', async () => {
    const token = await issueChunkToken(
      keys,
      { chunkId: 'c1', op: 'write', subject: 'ana' },
      T0,
      60_000,
    );
    assert.equal(
      (await verifyChunkToken(keys, token, { chunkId: 'c1', op: 'write' }, T0)).ok,
      true,
    );
    const otherChunk = await verifyChunkToken(keys, token, { chunkId: 'c2', op: 'write' }, T0);
    assert.equal(!otherChunk.ok && otherChunk.forbidden, true);
    const otherOp = await verifyChunkToken(keys, token, { chunkId: 'c1', op: 'read' }, T0);
    assert.equal(!otherOp.ok && otherOp.forbidden, true);
    const late = await verifyChunkToken(keys, token, { chunkId: 'c1', op: 'write' }, T0 + HOUR_MS);
    assert.equal(late.ok, false);
  });
});

describe('the cache of verified tokens', () => {
  test('hits until the expiry (plus the skew tolerance), evicts the oldest when full', () => {
    const cache = new VerifiedTokenCache(2);
    const who = { subject: 'a', role: 'reader' as const, groups: [] };
    cache.set('t1', who, T0 + 1000);
    assert.deepEqual(cache.get('t1', T0), who);
    assert.equal(cache.get('t1x', T0), undefined, 'other text misses');
    assert.deepEqual(cache.get('t1', T0 + 1000 + 29_000), who);
    assert.equal(cache.get('t1', T0 + 1000 + 30_000), undefined, 'expired');
    cache.set('t2', who, T0 + HOUR_MS);
    cache.set('t3', who, T0 + HOUR_MS);
    cache.set('t4', who, T0 + HOUR_MS);
    assert.equal(cache.get('t2', T0), undefined, 'the oldest went');
    assert.deepEqual(cache.get('t4', T0), who);
  });
});

describe('the auth hook of createHttpServer', () => {
  const clock = new ManualClock(T0);
  let app: HttpApp;
  const bearer = async (role: 'reader' | 'writer' | 'admin', ttlMs = HOUR_MS) =>
    `Bearer ${await issueApiToken(keys, { subject: 'u', role, ttlMs }, clock.nowMs())}`;

  before(async () => {
    app = await createHttpServer({
      name: 'hook-test',
      logger: silentLogger(),
      security: { authorizer: new TokenAuthorizer(keys, clock) },
    });
    app.get('/things', async (request) => ({ who: request.principal?.subject ?? null }));
    app.post('/things', async () => ({ ok: true }));
    app.delete('/servers/:server_id', async () => ({ ok: true }));
    app.get(
      '/api/v1/chunks/:chunk_id',
      { config: { access: { role: 'admin', chunkAccess: 'read' } } },
      async () => 'bytes',
    );
    await app.ready();
  });
  after(() => app.close());

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, headers: object = {}) =>
    app.inject({ method, url, headers: headers as Record<string, string> });

  test('/health is open; everything else needs a token (401 problem+json)', async () => {
    assert.equal((await call('GET', '/health')).statusCode, 200);
    for (const url of ['/things', '/metrics', '/openapi.json', '/no-such-route']) {
      const response = await call('GET', url);
      assert.equal(response.statusCode, 401, url);
      assert.match(String(response.headers['content-type']), /problem\+json/);
    }
  });

  test('roles: reader reads, writer writes, admin administers; the principal reaches handlers', async () => {
    const reader = await bearer('reader');
    assert.deepEqual((await call('GET', '/things', { authorization: reader })).json(), {
      who: 'u',
    });
    assert.equal((await call('POST', '/things', { authorization: reader })).statusCode, 403);
    const writer = await bearer('writer');
    assert.equal((await call('POST', '/things', { authorization: writer })).statusCode, 200);
    assert.equal((await call('DELETE', '/servers/x', { authorization: writer })).statusCode, 403);
    const admin = await bearer('admin');
    assert.equal((await call('DELETE', '/servers/x', { authorization: admin })).statusCode, 200);
  });

  test('an expired token is refused once the clock passes its expiry', async () => {
    const token = await bearer('admin', 60_000);
    assert.equal((await call('GET', '/things', { authorization: token })).statusCode, 200);
    clock.advance(60_000 + 31_000); // past expiry and the 30 s skew tolerance
    const response = await call('GET', '/things', { authorization: token });
    assert.equal(response.statusCode, 401);
    assert.match(response.json<{ detail: string }>().detail, /expired/);
  });

  test('a chunk route takes an admin token or a chunk token for that chunk and op', async () => {
    const url = '/api/v1/chunks/c1';
    const grant = (chunkId: string, op: 'read' | 'write') =>
      issueChunkToken(keys, { chunkId, op, subject: 'ana' }, clock.nowMs(), 60_000);
    assert.equal((await call('GET', url)).statusCode, 401);
    assert.equal(
      (await call('GET', url, { authorization: await bearer('writer') })).statusCode,
      403,
    );
    assert.equal(
      (await call('GET', url, { authorization: await bearer('admin') })).statusCode,
      200,
    );
    const header = 'x-tessera-chunk-token';
    assert.equal((await call('GET', url, { [header]: await grant('c1', 'read') })).statusCode, 200);
    assert.equal((await call('GET', url, { [header]: await grant('c2', 'read') })).statusCode, 403);
    assert.equal(
      (await call('GET', url, { [header]: await grant('c1', 'write') })).statusCode,
      403,
    );
    assert.equal((await call('GET', url, { [header]: 'x.y.z' })).statusCode, 401);
  });
});

describe('the HTTP client with TLS and a token', () => {
  const dir = tempDir('client-tls');
  let app: HttpApp;
  let url: string;

  before(async () => {
    const files = await createCertificates({
      dir: dir.path,
      hosts: ['127.0.0.1'],
      nodes: ['node'],
      days: 1,
    });
    const node = files.nodes[0];
    assert.ok(node);
    app = await createHttpServer({
      name: 'tls-test',
      logger: silentLogger(),
      security: {
        tls: {
          key: readFileSync(node.key),
          cert: readFileSync(node.cert),
          requireClientCert: false,
        },
      },
    });
    app.get('/echo', async (request) => ({ authorization: request.headers.authorization ?? null }));
    url = await listen(app, '127.0.0.1', 0);
  });
  after(async () => {
    await app.close();
    dir.cleanup();
  });

  test('listen answers an https URL; http:// is upgraded and the token is sent', async () => {
    assert.match(url, /^https:\/\//);
    const client = new HttpClient({
      maxRetries: 0,
      security: {
        ca: readFileSync(join(dir.path, 'ca.crt')),
        httpsOnly: true,
        authorization: async () => 'Bearer t0ken',
      },
    });
    try {
      const plainUrl = url.replace('https://', 'http://');
      const answer = await client.getJson<{ authorization: string }>(`${plainUrl}/echo`);
      assert.equal(answer.authorization, 'Bearer t0ken');
      const own = await client.getJson<{ authorization: string }>(`${url}/echo`, {
        headers: { authorization: 'Bearer mine' },
      });
      assert.equal(own.authorization, 'Bearer mine', 'an explicit header wins');
    } finally {
      await client.close();
    }
  });
});
