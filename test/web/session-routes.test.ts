// Rule checked (issue 7, the dashboard under --auth; docs/web.md, "Signing in"): a user signs in
// to the dashboard with their own token: `POST /api/session` checks it with the server's
// authorizer (a bad or expired token is a 401 problem+json) and keeps it in an HttpOnly,
// SameSite=Strict cookie (Secure under TLS) whose Max-Age is the token's remaining life; the
// auth hook then accepts that cookie like a bearer token, with the same role table; a cookie
// request that changes something must carry a JSON type or the CSRF header; sign-out clears the
// cookie; the app's own files stay public. In-process, through Fastify's inject, on a manual
// clock (the cluster and the browser are in dashboard-auth.test.ts).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { cookieValue, createHttpServer, type HttpApp } from '../../src/core/http-server.js';
import { silentLogger } from '../../src/core/logger.js';
import { TokenAuthorizer } from '../../src/security/authorizer.js';
import { generateSecret, tokenKeys } from '../../src/security/keys.js';
import type { Role } from '../../src/security/roles.js';
import { issueApiToken } from '../../src/security/tokens.js';
import type { SessionView } from '../../src/web/api-types.js';
import {
  clearedSessionCookie,
  sessionCookie,
  SESSION_COOKIE,
} from '../../src/web/session-cookie.pure.js';
import { CSRF_HEADER, registerSessionRoutes } from '../../src/web/session-routes.js';
import { registerStaticFiles } from '../../src/web/static-files.js';
import { tempDir } from '../helpers/processes.js';

const START_MS = Date.UTC(2026, 0, 1);
const keys = tokenKeys(Buffer.from(generateSecret()));

/** Attributes of a `Set-Cookie` value: name=value first, then `Key=Value` or flags. */
function parseSetCookie(line: string): { name: string; value: string; attrs: Map<string, string> } {
  const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
  const separator = pair.indexOf('=');
  const attrs = new Map<string, string>();
  for (const attribute of rest) {
    const [key = '', value = ''] = attribute.split('=');
    attrs.set(key.toLowerCase(), value);
  }
  return { name: pair.slice(0, separator), value: pair.slice(separator + 1), attrs };
}

async function webApp(clock: ManualClock, options: { auth: boolean; secure?: boolean }) {
  const authorizer = options.auth ? new TokenAuthorizer(keys, clock) : undefined;
  const app = await createHttpServer({
    name: 'web-session-test',
    logger: silentLogger(),
    security: authorizer === undefined ? {} : { authorizer },
    authCookie: SESSION_COOKIE,
  });
  registerSessionRoutes(app, {
    authorizer,
    secureCookie: options.secure ?? false,
    nowMs: () => clock.nowMs(),
  });
  app.get('/api/thing', async (request) => ({ who: request.principal?.subject ?? null }));
  app.post('/api/thing', async (request) => ({ who: request.principal?.subject ?? null }));
  app.delete('/api/thing', async (request) => ({ who: request.principal?.subject ?? null }));
  return app;
}

describe('session cookie', () => {
  test('carries the token with HttpOnly, SameSite=Strict, Path=/ and the Max-Age', () => {
    const cookie = parseSetCookie(sessionCookie('aa.bb.cc', 90, false));
    assert.equal(cookie.name, SESSION_COOKIE);
    assert.equal(cookie.value, 'aa.bb.cc');
    assert.deepEqual(
      [...cookie.attrs],
      [
        ['path', '/'],
        ['max-age', '90'],
        ['httponly', ''],
        ['samesite', 'Strict'],
      ],
    );
    assert.equal(parseSetCookie(sessionCookie('aa.bb.cc', 90, true)).attrs.has('secure'), true);
    assert.equal(parseSetCookie(clearedSessionCookie(false)).attrs.get('max-age'), '0');
  });

  test('refuses what is not a token and lifetimes that are not positive', () => {
    assert.throws(() => sessionCookie('a;b', 10, false), RangeError);
    assert.throws(() => sessionCookie('a b', 10, false), RangeError);
    assert.throws(() => sessionCookie('aa.bb', 0, false), RangeError);
  });

  test('is read back from a Cookie header among others', () => {
    const header = `theme=dark; ${SESSION_COOKIE}=aa.bb.cc; other=x`;
    assert.equal(cookieValue(header, SESSION_COOKIE), 'aa.bb.cc');
    assert.equal(cookieValue('theme=dark', SESSION_COOKIE), undefined);
    assert.equal(cookieValue(`${SESSION_COOKIE}=`, SESSION_COOKIE), undefined);
    assert.equal(cookieValue(`x${SESSION_COOKIE}=aa`, SESSION_COOKIE), undefined);
    assert.equal(cookieValue(undefined, SESSION_COOKIE), undefined);
  });
});

describe('sign-in routes with --auth', () => {
  const clock = new ManualClock(START_MS);
  let app: HttpApp;
  const token = (subject: string, role: Role, ttlMs = 3_600_000) =>
    issueApiToken(keys, { subject, role, groups: ['staff'], ttlMs }, clock.nowMs());
  const signIn = (body: unknown) =>
    app.inject({ method: 'POST', url: '/api/session', payload: body as Record<string, unknown> });
  const withCookie = (value: string) => ({ cookie: `${SESSION_COOKIE}=${value}` });

  before(async () => {
    app = await webApp(clock, { auth: true });
  });
  after(() => app.close());

  test('without a token the API answers 401 problem+json', async () => {
    for (const url of ['/api/thing', '/api/session']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 401, url);
      assert.match(String(response.headers['content-type']), /application\/problem\+json/);
    }
  });

  test('a tampered, foreign, expired or empty token is refused with 401 and no cookie', async () => {
    const good = await token('ana', 'reader');
    const foreign = await issueApiToken(
      tokenKeys(Buffer.from(generateSecret())),
      { subject: 'ana', role: 'admin', ttlMs: 3_600_000 },
      clock.nowMs(),
    );
    const expired = await issueApiToken(
      keys,
      { subject: 'ana', role: 'reader', ttlMs: 60_000 },
      clock.nowMs() - 3_600_000,
    );
    const tampered = `${good.slice(0, -3)}${good.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    for (const [what, value] of Object.entries({ foreign, expired, tampered })) {
      const response = await signIn({ token: value });
      assert.equal(response.statusCode, 401, what);
      assert.equal(response.json<{ code: string }>().code, 'UNAUTHORIZED', what);
      assert.equal(response.headers['set-cookie'], undefined, what);
    }
    assert.match((await signIn({ token: expired })).json<{ detail: string }>().detail, /expired/);
    assert.equal((await signIn({ token: '' })).statusCode, 400);
    assert.equal((await signIn({})).statusCode, 400);
  });

  test('a good token sets the cookie for its remaining life; the cookie then passes', async () => {
    const value = await token('ana', 'reader', 3_600_000);
    clock.advance(600_000);
    const response = await signIn({ token: value });
    assert.equal(response.statusCode, 200);
    const view = response.json<SessionView>();
    assert.deepEqual(view, {
      auth: true,
      subject: 'ana',
      role: 'reader',
      groups: ['staff'],
      expires_at_ms: START_MS + 3_600_000,
    });
    const cookie = parseSetCookie(String(response.headers['set-cookie']));
    assert.equal(cookie.name, SESSION_COOKIE);
    assert.equal(cookie.value, value);
    assert.equal(cookie.attrs.get('max-age'), String(3_000));
    assert.equal(cookie.attrs.has('httponly'), true);
    assert.equal(cookie.attrs.get('samesite'), 'Strict');
    assert.equal(cookie.attrs.has('secure'), false);

    const thing = await app.inject({ url: '/api/thing', headers: withCookie(value) });
    assert.deepEqual(thing.json(), { who: 'ana' });
    const session = await app.inject({ url: '/api/session', headers: withCookie(value) });
    assert.deepEqual(session.json(), view);
    clock.set(START_MS);
  });

  test('the role table still decides: a reader with the cookie may not write', async () => {
    const reader = await token('rita', 'reader');
    const response = await app.inject({
      method: 'POST',
      url: '/api/thing',
      headers: { ...withCookie(reader), 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.equal(response.statusCode, 403);
    assert.match(response.json<{ detail: string }>().detail, /rita has role reader/);
  });

  test('a writing request with the cookie needs a JSON type or the CSRF header', async () => {
    const writer = await token('wes', 'writer');
    const bare = await app.inject({
      method: 'DELETE',
      url: '/api/thing',
      headers: withCookie(writer),
    });
    assert.equal(bare.statusCode, 403);
    assert.match(bare.json<{ detail: string }>().detail, /x-tessera-csrf/);
    const form = await app.inject({
      method: 'POST',
      url: '/api/thing',
      headers: { ...withCookie(writer), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    assert.equal(form.statusCode, 403);
    const marked = await app.inject({
      method: 'DELETE',
      url: '/api/thing',
      headers: { ...withCookie(writer), [CSRF_HEADER]: '1' },
    });
    assert.deepEqual(marked.json(), { who: 'wes' });
    const json = await app.inject({
      method: 'POST',
      url: '/api/thing',
      headers: { ...withCookie(writer), 'content-type': 'application/json' },
      payload: '{}',
    });
    assert.deepEqual(json.json(), { who: 'wes' });
    // A bearer token is not a cookie a foreign page could make the browser send.
    const bearer = await app.inject({
      method: 'DELETE',
      url: '/api/thing',
      headers: { authorization: `Bearer ${writer}` },
    });
    assert.deepEqual(bearer.json(), { who: 'wes' });
  });

  test('a bearer header wins over the cookie', async () => {
    const reader = await token('rita', 'reader');
    const response = await app.inject({
      url: '/api/thing',
      headers: { ...withCookie(reader), authorization: 'Bearer not-a-token' },
    });
    assert.equal(response.statusCode, 401);
  });

  test('the cookie stops passing when its token expires', async () => {
    const value = await token('ana', 'reader', 60_000);
    assert.equal(
      (await app.inject({ url: '/api/thing', headers: withCookie(value) })).statusCode,
      200,
    );
    clock.advance(60_000 + 31_000);
    const later = await app.inject({ url: '/api/thing', headers: withCookie(value) });
    assert.equal(later.statusCode, 401);
    assert.match(later.json<{ detail: string }>().detail, /expired/);
    clock.set(START_MS);
  });

  test('sign-out clears the cookie, also without a valid token', async () => {
    const response = await app.inject({ method: 'DELETE', url: '/api/session' });
    assert.equal(response.statusCode, 200);
    const cookie = parseSetCookie(String(response.headers['set-cookie']));
    assert.equal(cookie.name, SESSION_COOKIE);
    assert.equal(cookie.value, '');
    assert.equal(cookie.attrs.get('max-age'), '0');
  });
});

describe('sign-in routes without --auth, and under TLS', () => {
  test('without --auth the session says so and sign-in is a 409', async () => {
    const app = await webApp(new ManualClock(START_MS), { auth: false });
    try {
      assert.deepEqual((await app.inject({ url: '/api/session' })).json(), { auth: false });
      const response = await app.inject({
        method: 'POST',
        url: '/api/session',
        payload: { token: 'aa.bb.cc' },
      });
      assert.equal(response.statusCode, 409);
      assert.equal((await app.inject({ url: '/api/thing' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('the cookie is Secure when the web server serves HTTPS', async () => {
    const clock = new ManualClock(START_MS);
    const app = await webApp(clock, { auth: true, secure: true });
    try {
      const value = await issueApiToken(
        keys,
        { subject: 'ana', role: 'writer', ttlMs: 120_000 },
        clock.nowMs(),
      );
      const response = await app.inject({
        method: 'POST',
        url: '/api/session',
        payload: { token: value },
      });
      const cookie = parseSetCookie(String(response.headers['set-cookie']));
      assert.equal(cookie.attrs.has('secure'), true);
      assert.equal(cookie.attrs.get('max-age'), '120');
    } finally {
      await app.close();
    }
  });

  test('the app itself loads without a token, so that it can show its sign-in panel', async () => {
    const dir = tempDir('web-static');
    const app = await webApp(new ManualClock(START_MS), { auth: true });
    try {
      writeFileSync(join(dir.path, 'index.html'), '<!doctype html><title>app</title>');
      await registerStaticFiles(app, dir.path, silentLogger());
      const page = await app.inject({ url: '/' });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<title>app<\/title>/);
      assert.equal((await app.inject({ url: '/api/thing' })).statusCode, 401);
      assert.equal((await app.inject({ url: '/metrics' })).statusCode, 401);
    } finally {
      await app.close();
      dir.cleanup();
    }
  });
});
