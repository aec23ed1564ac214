// Rule (dfs-architecture.md, "Encriptación": "En Tránsito: usar mTLS entre todos los componentes
// (cliente, metadata service, datanodes)"; "En Reposo: encriptar chunks en disco con
// AES-256-GCM, rotación periódica de claves"; issue 7): with --tls-* every service speaks HTTPS
// only (plaintext is refused), peers and clients verify the local CA, mutual TLS refuses a
// client without a certificate; with --encrypt a chunk file holds none of the plaintext, files
// still round-trip (whole and by range), new chunks use the newest key after a rotation while
// old ones stay readable, and the scrubber still finds a tampered chunk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as plainRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../../src/core/http-client.js';
import { DfsClient } from '../../src/dfs/index.js';
import { TESSERA_BIN, tempDir, waitFor } from '../helpers/processes.js';
import { SecureCluster } from './secure-cluster.js';

function tessera(args: string[], env: Record<string, string> = {}): string {
  const result = spawnSync(process.execPath, [TESSERA_BIN, ...args], {
    env: { ...process.env, TESSERA_FROM_SOURCE: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, `tessera ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** Plain HTTP to a TLS port: resolves the error, or fails the test if an answer comes back. */
function plaintextAttempt(url: string): Promise<Error> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = plainRequest(
      { host: target.hostname, port: target.port, path: '/health', timeout: 5_000 },
      (response) => reject(new Error(`plaintext got an answer: ${response.statusCode}`)),
    );
    req.on('error', resolve);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Whether any 16-byte window of `plain` appears in any `.chunk` file of `dir`. */
function chunksLeak(dir: string, plain: Buffer): boolean {
  const files = readdirSync(dir).filter((name) => name.endsWith('.chunk'));
  assert.ok(files.length > 0, 'no chunk files');
  return files.some((name) => {
    const file = readFileSync(join(dir, name));
    for (let at = 0; at + 16 <= plain.length; at += 16) {
      if (file.includes(plain.subarray(at, at + 16))) return true;
    }
    return false;
  });
}

function keyIdsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.checksum'))
    .map((name) => /key=(\S+)/.exec(readFileSync(join(dir, name), 'utf8'))?.[1] ?? 'none');
}

describe('TLS, mutual TLS and encryption at rest on a real cluster', () => {
  const material = tempDir('certs');
  const certs = (name: string): string => join(material.path, name);
  const keyFile = join(material.path, 'chunk-keys.txt');
  let cluster: SecureCluster;
  let ana: DfsClient;

  before(async () => {
    tessera(['certs', 'create', '--dir', material.path, '--hosts', '127.0.0.1,localhost']);
    tessera(['certs', 'encryption-key', '--key-file', keyFile]);
    cluster = new SecureCluster({
      datanodes: 1,
      common: [
        '--auth',
        '--tls-cert',
        certs('node.crt'),
        '--tls-key',
        certs('node.key'),
        '--tls-ca',
        certs('ca.crt'),
        '--tls-client-auth',
      ],
      datanodeArgs: ['--encrypt', '--key-file', keyFile],
      client: {
        ca: readFileSync(certs('ca.crt')),
        cert: readFileSync(certs('client.crt')),
        key: readFileSync(certs('client.key')),
        httpsOnly: true,
      },
    });
    await cluster.start();
    const token = await cluster.token('ana', 'writer');
    ana = new DfsClient({ metaUrl: cluster.meta.url, http: cluster.client(token) });
  });
  after(async () => {
    await cluster.stop();
    material.cleanup();
  });

  test('every service listens on HTTPS and they reach each other over mutual TLS', async () => {
    for (const service of [cluster.registry, cluster.meta, ...cluster.datanodes]) {
      assert.match(service.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    }
    const health = await cluster.client().getJson<{ status: string }>(`${cluster.meta.url}/health`);
    assert.equal(health.status, 'ok');
  });

  test('plaintext is refused when TLS is on', async () => {
    for (const service of [cluster.registry, cluster.meta, ...cluster.datanodes]) {
      const error = await plaintextAttempt(service.url);
      assert.match(error.message, /socket hang up|ECONNRESET|EPIPE|timeout/);
    }
  });

  test('mutual TLS refuses a client without a certificate; an untrusted CA fails too', async () => {
    const ca = readFileSync(certs('ca.crt'));
    const noCert = new HttpClient({ maxRetries: 0, security: { ca, httpsOnly: true } });
    const untrusted = new HttpClient({ maxRetries: 0, security: null });
    try {
      await assert.rejects(noCert.getJson(`${cluster.registry.url}/health`));
      await assert.rejects(untrusted.getJson(`${cluster.registry.url}/health`), /certificate/i);
    } finally {
      await Promise.all([noCert.close(), untrusted.close()]);
    }
  });

  test('the CLI works against the TLS cluster with TESSERA_TLS_* and --token', async () => {
    const token = await cluster.token('rita', 'reader');
    const out = tessera(['nodes', '--registry', cluster.registry.url, '--json', '--token', token], {
      TESSERA_TLS_CA: certs('ca.crt'),
      TESSERA_TLS_CERT: certs('client.crt'),
      TESSERA_TLS_KEY: certs('client.key'),
    });
    const roles = (JSON.parse(out) as { role: string }[]).map((server) => server.role).sort();
    assert.deepEqual(roles, ['datanode', 'dfs-meta']);
  });

  test('encrypted chunks hold no plaintext and round-trip, whole and by range', async () => {
    const plain = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(4000));
    await ana.putBuffer(plain, '/enc/first.txt', { chunkSize: 64 * 1024, replication: 1 });
    assert.equal(chunksLeak(cluster.datanodeDir(0), plain), false);
    assert.deepEqual(await ana.getBuffer('/enc/first.txt'), plain);
    const [start, end] = [65_000, 140_000];
    const pieces: Buffer[] = [];
    for await (const piece of ana.getStream('/enc/first.txt', { start, end })) {
      pieces.push(piece as Buffer);
    }
    assert.deepEqual(Buffer.concat(pieces), plain.subarray(start, end));
    assert.deepEqual(new Set(keyIdsIn(cluster.datanodeDir(0))), new Set(['k1']));
  });

  test('after a key rotation new chunks use the new key, old ones stay readable, scrubbing works', async () => {
    tessera(['certs', 'encryption-key', '--key-file', keyFile]);
    await cluster.datanodes[0]?.kill('SIGTERM');
    const restarted = await cluster.startDatanode(0, [
      '--scrub-rate',
      '50',
      '--scrub-interval',
      '0.3',
    ]);
    const admin = cluster.client(await cluster.token('root', 'admin'));
    await waitFor('the master to see the restarted datanode', async () => {
      const { nodes } = await admin.getJson<{ nodes: { url: string; state: string }[] }>(
        `${cluster.meta.url}/api/v1/nodes`,
      );
      return nodes.some((node) => node.url === restarted.url && node.state === 'active');
    });
    const second = Buffer.from('Pack my box with five dozen liquor jugs. '.repeat(2000));
    await ana.putBuffer(second, '/enc/second.txt', { chunkSize: 64 * 1024, replication: 1 });
    const keys = keyIdsIn(cluster.datanodeDir(0));
    assert.ok(keys.includes('k1') && keys.includes('k2'), `key ids ${keys.join(',')}`);
    assert.deepEqual(await ana.getBuffer('/enc/second.txt'), second);
    const first = await ana.getBuffer('/enc/first.txt');
    assert.equal(first.length, 4000 * 45);
    const victim = (await ana.stat('/enc/second.txt')).chunks[0];
    const path = join(cluster.datanodeDir(0), `${victim?.chunk_id ?? ''}.chunk`);
    const bytes = readFileSync(path);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    await waitFor('the scrubber to report the tampered chunk', async () => {
      const stat = await ana.stat('/enc/second.txt');
      return stat.chunks[0]?.replicas.every((replica) => replica.state === 'corrupt');
    });
  });
});
