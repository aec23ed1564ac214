// Rule checked (issue 7, the dashboard under --auth; docs/web.md, "Signing in"; docs/security.md,
// "Delegation"): on a cluster whose every service runs with --auth, the dashboard's API refuses
// callers without a token (401) but serves the app itself; a user signs in with their own token
// (a bad or expired one is a 401) and gets an HttpOnly, SameSite=Strict session cookie that
// lives as long as the token; with it the API, the event stream and downloads work, while the
// dashboard still reaches the services with its own service token; the role table decides
// (a reader cannot upload: 403, a writer can); signing out clears the cookie. In Chromium: the
// app shows the sign-in panel, a pasted reader token opens the overview with the user in the
// header, an upload shows the server's 403 where it failed, and Sign out brings the panel back.
// Real processes: a registry, a DFS master, two datanodes and `tessera web`, all with --auth.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DfsClient, type FileMetadata } from '../../src/dfs/index.js';
import { generateSecret, tokenKeys } from '../../src/security/keys.js';
import { issueApiToken } from '../../src/security/tokens.js';
import type { Overview, SessionView } from '../../src/web/api-types.js';
import { SecureCluster } from '../security/secure-cluster.js';
import { ensureAppBuilt, ensureChromium, launchChromium, SCREENSHOT_DIR } from './browser.js';

const COOKIE = 'tessera_session';
const TOKEN_TTL_MS = 20 * 60_000;
const SHARED_FILE = '/shared/notes.txt';
const SHARED_TEXT = 'notes every reader may download\n';

/** The attributes of a `Set-Cookie` line, lower-cased names. */
function cookieAttributes(line: string): { value: string; attrs: Map<string, string> } {
  const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
  const attrs = new Map(
    rest.map((attribute): [string, string] => {
      const [key = '', value = ''] = attribute.split('=');
      return [key.toLowerCase(), value];
    }),
  );
  return { value: pair.slice(pair.indexOf('=') + 1), attrs };
}

describe('the dashboard with --auth', { timeout: 180_000 }, () => {
  const cluster = new SecureCluster({ datanodes: 2, common: ['--auth'] });
  let webUrl: string;
  const tokens: Record<'reader' | 'writer', string> = { reader: '', writer: '' };
  let admin: DfsClient;

  const api = (path: string, init: RequestInit = {}) => fetch(`${webUrl}${path}`, init);
  const withCookie = (token: string, headers: Record<string, string> = {}) => ({
    ...headers,
    cookie: `${COOKIE}=${token}`,
  });
  const signIn = (token: string) =>
    api('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });

  before(
    async () => {
      await cluster.start();
      webUrl = (await cluster.startWeb()).url;
      tokens.reader = await cluster.token('rita', 'reader', ['staff'], TOKEN_TTL_MS);
      tokens.writer = await cluster.token('wes', 'writer', ['staff'], TOKEN_TTL_MS);
      admin = new DfsClient({
        metaUrl: cluster.meta.url,
        http: cluster.client(await cluster.token('root', 'admin'), { timeoutMs: 30_000 }),
      });
      await admin.putBuffer(SHARED_TEXT, SHARED_FILE, { replication: 2 });
    },
    { timeout: 120_000 },
  );
  after(async () => {
    await admin?.close();
    await cluster.stop();
  });

  describe('API', () => {
    test('without a token the API answers 401 problem+json; the app itself loads', async () => {
      for (const path of ['/api/overview', '/api/session', '/api/files?dir=/']) {
        const response = await api(path);
        assert.equal(response.status, 401, path);
        assert.match(String(response.headers.get('content-type')), /application\/problem\+json/);
        await response.body?.cancel();
      }
      const app = await api('/');
      await app.body?.cancel();
      assert.notEqual(app.status, 401);
      assert.notEqual(app.status, 403);
    });

    test('a bad or an expired token is refused with 401 and no cookie', async () => {
      const foreign = await issueApiToken(
        tokenKeys(Buffer.from(generateSecret())),
        { subject: 'mallory', role: 'admin', ttlMs: TOKEN_TTL_MS },
        Date.now(),
      );
      const expired = await issueApiToken(
        cluster.secret.keys,
        { subject: 'rita', role: 'reader', ttlMs: 60_000 },
        Date.now() - 3_600_000,
      );
      for (const [what, token] of Object.entries({ foreign, expired, garbage: 'not.a.token' })) {
        const response = await signIn(token);
        const problem = (await response.json()) as { code: string; detail: string };
        assert.equal(response.status, 401, what);
        assert.equal(problem.code, 'UNAUTHORIZED', what);
        assert.deepEqual(response.headers.getSetCookie(), [], what);
        if (what === 'expired') assert.match(problem.detail, /expired/);
      }
    });

    test('a good token sets the session cookie; the API, events and downloads pass', async () => {
      const response = await signIn(tokens.reader);
      assert.equal(response.status, 200);
      const view = (await response.json()) as SessionView;
      assert.equal(view.auth, true);
      assert.ok(view.auth);
      assert.equal(view.subject, 'rita');
      assert.equal(view.role, 'reader');
      const [line = ''] = response.headers.getSetCookie();
      const cookie = cookieAttributes(line);
      assert.equal(cookie.value, tokens.reader);
      assert.equal(cookie.attrs.has('httponly'), true);
      assert.equal(cookie.attrs.get('samesite'), 'Strict');
      assert.equal(cookie.attrs.get('path'), '/');
      assert.equal(cookie.attrs.has('secure'), false, 'plain HTTP: not Secure');
      const maxAgeS = Number(cookie.attrs.get('max-age'));
      assert.ok(maxAgeS > TOKEN_TTL_MS / 1000 - 60 && maxAgeS <= TOKEN_TTL_MS / 1000, line);

      const session = await api('/api/session', { headers: withCookie(tokens.reader) });
      assert.deepEqual(await session.json(), view);
      // The dashboard reads the registry and the DFS master with its own service token.
      const overview = await api('/api/overview', { headers: withCookie(tokens.reader) });
      assert.equal(overview.status, 200);
      const body = (await overview.json()) as Overview;
      assert.ok(body.dfs.ok, JSON.stringify(body.dfs));
      const table = body.nodes.servers;
      assert.ok(table.ok, JSON.stringify(table));
      const datanodes = table.data.servers.filter((server) => server.role === 'datanode');
      assert.equal(datanodes.length, 2);

      const download = await api(`/api/files/content?path=${encodeURIComponent(SHARED_FILE)}`, {
        headers: withCookie(tokens.reader),
      });
      assert.equal(download.status, 200);
      assert.equal(await download.text(), SHARED_TEXT);

      const controller = new AbortController();
      const events = await api('/api/nodes/events', {
        headers: withCookie(tokens.reader),
        signal: controller.signal,
      });
      assert.equal(events.status, 200);
      const reader = events.body?.getReader();
      assert.ok(reader);
      let received = '';
      while (!received.includes('event: nodes')) {
        const chunk = await reader.read();
        if (chunk.done) break;
        received += Buffer.from(chunk.value).toString('utf8');
      }
      controller.abort();
      assert.match(received, /event: nodes/);
    });

    test('the role table decides: a reader may not upload, a writer may', async () => {
      const upload = (token: string, path: string) =>
        api(`/api/files/content?path=${encodeURIComponent(path)}&replication=2`, {
          method: 'PUT',
          headers: withCookie(token, {
            'content-type': 'application/octet-stream',
            'x-tessera-csrf': '1',
          }),
          body: 'uploaded through the dashboard\n',
        });
      const refused = await upload(tokens.reader, '/rita/upload.txt');
      assert.equal(refused.status, 403);
      assert.match(((await refused.json()) as { detail: string }).detail, /rita has role reader/);
      const stored = await upload(tokens.writer, '/wes/upload.txt');
      assert.equal(stored.status, 201, await stored.clone().text());
      const back = await api('/api/files/content?path=%2Fwes%2Fupload.txt', {
        headers: withCookie(tokens.reader),
      });
      assert.equal(await back.text(), 'uploaded through the dashboard\n');
      // Delegation (docs/security.md): the dashboard wrote the file with its own service token.
      const stat = (await admin.stat('/wes/upload.txt')) as FileMetadata & {
        acl?: { owner: string };
      };
      assert.equal(stat.acl?.owner, 'service:web');
    });

    test('a writing request with the cookie alone (as a foreign form would send) is refused', async () => {
      const response = await api('/api/files?path=%2Fwes%2Fupload.txt', {
        method: 'DELETE',
        headers: withCookie(tokens.writer),
      });
      assert.equal(response.status, 403);
      assert.match(((await response.json()) as { detail: string }).detail, /x-tessera-csrf/);
    });

    test('sign-out clears the cookie', async () => {
      const response = await api('/api/session', {
        method: 'DELETE',
        headers: withCookie(tokens.reader, { 'x-tessera-csrf': '1' }),
      });
      assert.equal(response.status, 200);
      const [line = ''] = response.headers.getSetCookie();
      const cookie = cookieAttributes(line);
      assert.equal(cookie.value, '');
      assert.equal(cookie.attrs.get('max-age'), '0');
    });
  });

  describe('in Chromium', () => {
    let browser: Browser | undefined;
    let context: BrowserContext;
    let page: Page;
    const pageErrors: string[] = [];

    before(
      async () => {
        ensureChromium();
        ensureAppBuilt();
        browser = await launchChromium();
        context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        page = await context.newPage();
        page.setDefaultTimeout(20_000);
        page.on('pageerror', (error) => pageErrors.push(error.message));
      },
      { timeout: 180_000 },
    );
    after(async () => {
      await browser?.close();
    });

    test('sign in with a reader token, see the overview; an upload shows the 403', async () => {
      await page.goto(`${webUrl}/#/overview`);
      await page.getByTestId('sign-in').waitFor();
      await page.getByTestId('sign-in').getByText('tessera token create').waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'auth-sign-in.png') });

      await page.getByTestId('token-input').fill('not.a.token');
      await page.getByTestId('sign-in-button').click();
      await page.getByTestId('sign-in').getByText('Sign-in refused').waitFor();

      await page.getByTestId('token-input').fill(tokens.reader);
      await page.getByTestId('sign-in-button').click();
      await page.getByTestId('session-subject').getByText('rita').waitFor();
      await page.getByTestId('session-role').getByText('reader').waitFor();
      await page.getByTestId('role-datanode').getByText('2/2 active').waitFor();
      await page.getByTestId('stat-files').waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'auth-overview.png') });

      const cookies = await context.cookies(webUrl);
      const session = cookies.find((cookie) => cookie.name === COOKIE);
      assert.ok(session, 'the session cookie is set');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.equal(await page.evaluate<string>('document.cookie'), '', 'scripts cannot read it');

      await page.goto(`${webUrl}/#/files?dir=/shared`);
      await page.getByTestId('file-/shared/notes.txt').waitFor();
      await page.getByTestId('upload-input').setInputFiles({
        name: 'reader.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('a reader tries to write\n'),
      });
      await page.getByTestId('upload-button').click();
      const row = page.locator('[data-testid="upload-row"][data-status="failed"]');
      await row.getByText(/rita has role reader; PUT \/api\/files\/content needs writer/).waitFor();
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'auth-upload-refused.png') });

      await page.getByTestId('sign-out').click();
      await page.getByTestId('sign-in').getByText('You signed out.').waitFor();
      const left = await context.cookies(webUrl);
      assert.equal(
        left.some((cookie) => cookie.name === COOKIE),
        false,
      );
      assert.deepEqual(pageErrors, []);
    });
  });
});
