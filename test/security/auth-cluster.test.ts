// Rule (dfs-architecture.md, "Autenticación": "Tokens JWT incluyen permisos y expiración",
// "DataNodes validan tokens antes de servir chunks"; "Autorización": ACLs por archivo, validación
// en cada operación; tbfs-registry.md, future work "Autenticación y autorización"; issue 7):
// with --auth every API but /health needs a valid token (401 without one, or with a tampered or
// expired one), the role must suffice (403), files carry owner/group/mode ACLs that every read,
// write, delete, rename and list respects, and datanodes serve chunks only to callers holding a
// chunk token the master signed for that chunk and operation.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpStatusError } from '../../src/core/errors-http-client.js';
import { DfsClient, type FileMetadata } from '../../src/dfs/index.js';
import { generateSecret, tokenKeys } from '../../src/security/keys.js';
import { issueApiToken, issueChunkToken } from '../../src/security/tokens.js';
import { runCli } from '../helpers/cli.js';
import { SecureCluster } from './secure-cluster.js';

const CHUNK_TOKEN = 'x-tessera-chunk-token';

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof HttpStatusError) return error.status;
    throw error;
  }
}

describe('authentication and authorization on a real cluster (--auth)', () => {
  const cluster = new SecureCluster({ datanodes: 2, common: ['--auth'] });
  const tokens: Record<string, string> = {};
  const dfsAs = (user: string): DfsClient =>
    new DfsClient({
      metaUrl: cluster.meta.url,
      http: cluster.client(tokens[user], { timeoutMs: 30_000 }),
    });

  before(async () => {
    await cluster.start();
    tokens['ana'] = await cluster.token('ana', 'writer', ['staff']);
    tokens['bob'] = await cluster.token('bob', 'writer');
    tokens['carol'] = await cluster.token('carol', 'writer', ['team']);
    tokens['rita'] = await cluster.token('rita', 'reader');
    tokens['root'] = await cluster.token('root', 'admin');
  });
  after(() => cluster.stop());

  test('no token gives 401 problem+json on every service; /health stays open', async () => {
    const anonymous = cluster.client();
    const urls = [
      `${cluster.registry.url}/servers`,
      `${cluster.meta.url}/api/v1/files`,
      `${cluster.datanodes[0]?.url}/metrics`,
    ];
    for (const url of urls) {
      const response = await anonymous.request(url);
      const body = (await response.body.json()) as { code: string; status: number };
      assert.equal(response.status, 401, url);
      assert.match(String(response.headers['content-type']), /application\/problem\+json/);
      assert.match(String(response.headers['www-authenticate']), /^Bearer/);
      assert.equal(body.code, 'UNAUTHORIZED');
    }
    for (const base of [cluster.registry.url, cluster.meta.url, cluster.datanodes[0]?.url]) {
      const health = await anonymous.request(`${base}/health`);
      await health.body.dump();
      assert.equal(health.status, 200, `${base}/health`);
    }
  });

  test('the wrong role gives 403; a sufficient one passes', async () => {
    const reader = cluster.client(tokens['rita']);
    const writer = cluster.client(tokens['bob']);
    const admin = cluster.client(tokens['root']);
    const init = { path: '/rita/x', size: 1 };
    assert.equal(
      await status(reader.postJson(`${cluster.meta.url}/api/v1/files/upload-init`, init)),
      403,
    );
    assert.equal(await status(writer.deleteJson(`${cluster.registry.url}/servers/someone`)), 403);
    const register = { server_id: 'fake', role: 'datanode', host: '127.0.0.1', port: 1 };
    assert.equal(await status(writer.postJson(`${cluster.registry.url}/register`, register)), 403);
    assert.equal(await status(admin.deleteJson(`${cluster.registry.url}/servers/someone`)), 404);
    assert.equal(await status(reader.getJson(`${cluster.registry.url}/servers`)), 200);
  });

  test('tampered, expired, foreign and malformed tokens are rejected with 401', async () => {
    const [header, payload, signature] = (tokens['rita'] ?? '').split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as object;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    const otherKeys = tokenKeys(Buffer.from(generateSecret()));
    const hourMs = 3_600_000;
    const candidates = {
      tampered: `${header}.${forged}.${signature}`,
      expired: await issueApiToken(
        cluster.secret.keys,
        { subject: 'rita', role: 'reader', ttlMs: hourMs },
        Date.now() - 2 * hourMs,
      ),
      'other secret': await issueApiToken(
        otherKeys,
        { subject: 'rita', role: 'admin', ttlMs: hourMs },
        Date.now(),
      ),
      'chunk token': await issueChunkToken(
        cluster.secret.keys,
        { chunkId: 'c', op: 'read', subject: 'rita' },
        Date.now(),
        hourMs,
      ),
      garbage: 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(candidates)) {
      const response = await cluster.client(token).request(`${cluster.registry.url}/servers`);
      const body = (await response.body.json()) as { detail: string };
      assert.equal(response.status, 401, name);
      if (name === 'expired') assert.match(body.detail, /expired/);
      if (name === 'tampered') assert.match(body.detail, /signature/);
    }
  });

  test('services reach each other with their own tokens', async () => {
    const reader = cluster.client(tokens['rita']);
    const { servers } = await reader.getJson<{ servers: { role: string; status: string }[] }>(
      `${cluster.registry.url}/servers`,
    );
    const roles = servers
      .filter((s) => s.status === 'active')
      .map((s) => s.role)
      .sort();
    assert.deepEqual(roles, ['datanode', 'datanode', 'dfs-meta']);
  });

  test('the fs CLI says a token is needed, or that its role is too low; with one it works', async () => {
    const ls = (token?: string) =>
      runCli(
        ['fs', 'ls', '/', '--registry', cluster.registry.url],
        token === undefined ? {} : { TESSERA_TOKEN: token },
      );
    const anonymous = await ls();
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /needs a valid token .*--token JWT or set TESSERA_TOKEN/);
    assert.doesNotMatch(anonymous.stderr, /cannot reach/);
    const tampered = await ls(`${tokens['rita'] ?? ''}x`);
    assert.match(tampered.stderr, /needs a valid token/);
    const reader = await ls(tokens['rita']);
    assert.equal(reader.code, 0, reader.stderr);
    const local = join(cluster.dir.path, 'cli-denied.txt');
    writeFileSync(local, 'a reader may not write\n');
    const put = await runCli(
      ['fs', 'put', local, '/cli-denied.txt', '--registry', cluster.registry.url],
      { TESSERA_TOKEN: tokens['rita'] ?? '' },
    );
    assert.notEqual(put.code, 0);
    assert.match(put.stderr, /refused the request for this token's role/);
  });

  test('fs put --mode/--group and fs acl set and show a file’s ACL from the CLI', async () => {
    const registry = ['--registry', cluster.registry.url];
    const as = (user: string) => ({ TESSERA_TOKEN: tokens[user] ?? '' });
    const local = join(cluster.dir.path, 'cli-private.txt');
    writeFileSync(local, 'for ana and her group only\n');
    const put = await runCli(
      ['fs', 'put', local, '/cli/private.txt', '--mode', '640', '--group', 'staff', ...registry],
      as('ana'),
    );
    assert.equal(put.code, 0, put.stderr);
    const shown = await runCli(['fs', 'acl', '/cli/private.txt', ...registry], as('ana'));
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /rw-r-----\s+owner ana\s+group staff/);
    const bobReads = await runCli(['fs', 'get', '/cli/private.txt', '-', ...registry], as('bob'));
    assert.notEqual(bobReads.code, 0, 'bob is neither owner nor in staff');
    const opened = await runCli(
      ['fs', 'acl', '/cli/private.txt', '--mode', '644', '--json', ...registry],
      as('ana'),
    );
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal((JSON.parse(opened.stdout) as { acl: { mode: number } }).acl.mode, 0o644);
    const bobAgain = await runCli(['fs', 'get', '/cli/private.txt', '-', ...registry], as('bob'));
    assert.equal(bobAgain.code, 0, bobAgain.stderr);
    assert.equal(bobAgain.stdout, 'for ana and her group only\n');
    const badMode = await runCli(['fs', 'acl', '/cli/private.txt', '--mode', '999', ...registry]);
    assert.notEqual(badMode.code, 0);
    assert.match(badMode.stderr, /octal/);
  });

  test('file ACLs: another user’s private file is forbidden, the owner and admins pass', async () => {
    const ana = dfsAs('ana');
    const bob = dfsAs('bob');
    const root = dfsAs('root');
    await ana.putBuffer('only ana', '/ana/private.txt', { mode: 0o600 });
    assert.equal(await status(bob.stat('/ana/private.txt')), 403);
    assert.equal(await status(bob.getBuffer('/ana/private.txt')), 403);
    assert.equal(await status(bob.delete('/ana/private.txt')), 403);
    assert.equal(await status(bob.rename('/ana/private.txt', '/bob/stolen.txt')), 403);
    const listed = await bob.list({ prefix: '/ana/' });
    assert.equal(
      listed.files.some((f) => f.path === '/ana/private.txt'),
      false,
    );
    assert.equal((await ana.getBuffer('/ana/private.txt')).toString(), 'only ana');
    assert.equal((await root.getBuffer('/ana/private.txt')).toString(), 'only ana');
    const stat = (await ana.stat('/ana/private.txt')) as FileMetadata & {
      acl?: { owner: string; permissions: string };
    };
    assert.deepEqual(
      { owner: stat.acl?.owner, permissions: stat.acl?.permissions },
      { owner: 'ana', permissions: 'rw-------' },
    );
  });

  test('file ACLs: group and other bits, overwrite, and changing permissions', async () => {
    const ana = dfsAs('ana');
    const bob = dfsAs('bob');
    const carol = dfsAs('carol');
    await ana.putBuffer('team notes', '/ana/team.txt', { mode: 0o640, group: 'team' });
    assert.equal((await carol.getBuffer('/ana/team.txt')).toString(), 'team notes');
    assert.equal(await status(carol.delete('/ana/team.txt')), 403);
    assert.equal(await status(bob.getBuffer('/ana/team.txt')), 403);
    await ana.putBuffer('for everyone', '/ana/public.txt');
    assert.equal((await bob.getBuffer('/ana/public.txt')).toString(), 'for everyone');
    assert.equal(
      await status(bob.putBuffer('mine now', '/ana/public.txt', { overwrite: true })),
      403,
    );
    assert.equal(await status(bob.delete('/ana/public.txt')), 403);
    const aclUrl = `${cluster.meta.url}/api/v1/files/acl`;
    const change = { path: '/ana/public.txt', mode: 0o666 };
    assert.equal(await status(bob.http.postJson(aclUrl, change)), 403);
    await ana.http.postJson(aclUrl, change);
    await bob.delete('/ana/public.txt');
  });

  test('datanodes serve chunks only with a valid chunk token for that chunk and operation', async () => {
    const ana = dfsAs('ana');
    const data = Buffer.alloc(10_000, 7);
    await ana.putBuffer(data, '/ana/chunks.bin', { chunkSize: 4096, replication: 1 });
    const stat = await ana.stat('/ana/chunks.bin');
    const [first, second] = stat.chunks;
    assert.ok(first?.token && second?.token, 'the file answer carries a token per chunk');
    const replica = first.replicas[0]?.url ?? '';
    const chunkUrl = `${replica}/api/v1/chunks/${first.chunk_id}`;
    const anonymous = cluster.client();
    const get = async (client = anonymous, headers: Record<string, string> = {}) => {
      const response = await client.request(chunkUrl, { headers });
      const body = Buffer.from(await response.body.arrayBuffer());
      return { status: response.status, body };
    };
    assert.equal((await get()).status, 401, 'no token');
    assert.equal((await get(cluster.client(tokens['bob']))).status, 403, 'a user token');
    assert.equal(
      (await get(anonymous, { [CHUNK_TOKEN]: second.token })).status,
      403,
      'other chunk',
    );
    const tampered = `${first.token.slice(0, -4)}AAAA`;
    assert.equal((await get(anonymous, { [CHUNK_TOKEN]: tampered })).status, 401, 'tampered');
    const expired = await issueChunkToken(
      cluster.secret.keys,
      { chunkId: first.chunk_id, op: 'read', subject: 'ana' },
      Date.now() - 3_600_000,
      60_000,
    );
    assert.equal((await get(anonymous, { [CHUNK_TOKEN]: expired })).status, 401, 'expired');
    const good = await get(anonymous, { [CHUNK_TOKEN]: first.token });
    assert.equal(good.status, 200);
    assert.deepEqual(good.body, data.subarray(0, 4096));
    const put = await anonymous.request(chunkUrl, {
      method: 'PUT',
      body: Buffer.alloc(4096),
      headers: { 'content-type': 'application/octet-stream', [CHUNK_TOKEN]: first.token },
    });
    await put.body.dump();
    assert.equal(put.status, 403, 'a read token does not write');
  });

  test('upload-init hands out one write token per chunk', async () => {
    const http = cluster.client(tokens['ana']);
    const plan = await http.postJson<{ file_id: string; chunks: { token?: string }[] }>(
      `${cluster.meta.url}/api/v1/files/upload-init`,
      { path: '/ana/planned.bin', size: 9000, chunk_size: 4096 },
    );
    assert.equal(plan.chunks.length, 3);
    assert.ok(plan.chunks.every((chunk) => typeof chunk.token === 'string'));
    const bob = cluster.client(tokens['bob']);
    const abort = { file_id: plan.file_id };
    assert.equal(await status(bob.postJson(`${cluster.meta.url}/api/v1/files/abort`, abort)), 403);
    await http.postJson(`${cluster.meta.url}/api/v1/files/abort`, abort);
  });
});
