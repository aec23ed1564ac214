// Rule (issue 7: "Optional JWT authentication on every API", "TLS on every service"): the
// MapReduce master's gRPC port follows the same --auth and --tls-* settings as the HTTP ports.
// A worker registers over mutual TLS with its service token; a client without TLS cannot
// connect; a client without a token is UNAUTHENTICATED; a reader may list but not submit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ClientSecurity } from '../../src/core/security-context.js';
import { JobServiceClient } from '../../src/mapreduce/grpc/job-client.js';
import { freePort } from '../helpers/mapreduce-cluster.js';
import {
  startTessera,
  TESSERA_BIN,
  tempDir,
  waitFor,
  type RunningProcess,
} from '../helpers/processes.js';
import { SecureCluster } from './secure-cluster.js';

/** The gRPC status code of a failed call. */
async function grpcCode(call: Promise<unknown>): Promise<grpc.status> {
  try {
    await call;
    return grpc.status.OK;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    assert.equal(typeof code, 'number', `not a gRPC error: ${String(error)}`);
    return code as grpc.status;
  }
}

describe('the MapReduce gRPC port with --auth and mutual TLS', () => {
  const material = tempDir('grpc-certs');
  const certs = (name: string): string => join(material.path, name);
  let cluster: SecureCluster;
  let master: RunningProcess | undefined;
  let worker: RunningProcess | undefined;
  let grpcAddress: string;
  let tls: Omit<ClientSecurity, 'authorization'>;
  const clients: JobServiceClient[] = [];
  const jobClient = (token?: string, security: Omit<ClientSecurity, 'authorization'> = tls) => {
    const client = new JobServiceClient(grpcAddress, 10_000, {
      ...security,
      ...(token === undefined ? {} : { authorization: async () => `Bearer ${token}` }),
    });
    clients.push(client);
    return client;
  };

  before(async () => {
    const made = spawnSync(
      process.execPath,
      [TESSERA_BIN, 'certs', 'create', '--dir', material.path, '--hosts', '127.0.0.1,localhost'],
      { env: { ...process.env, TESSERA_FROM_SOURCE: '1' }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(made.status, 0, made.stderr);
    tls = {
      ca: readFileSync(certs('ca.crt')),
      cert: readFileSync(certs('client.crt')),
      key: readFileSync(certs('client.key')),
      httpsOnly: true,
    };
    const common = [
      ...['--auth', '--tls-cert', certs('node.crt'), '--tls-key', certs('node.key')],
      ...['--tls-ca', certs('ca.crt'), '--tls-client-auth'],
    ];
    cluster = new SecureCluster({ datanodes: 1, common, client: tls });
    await cluster.start();
    const port = await freePort();
    grpcAddress = `127.0.0.1:${port}`;
    master = await startTessera([
      ...['mapreduce', 'master', '--port', '0', '--grpc-port', String(port)],
      ...['--data-dir', join(cluster.dir.path, 'master'), '--registry', cluster.registry.url],
      ...['--meta', cluster.meta.url, '--heartbeat-interval', '0.3'],
      ...cluster.commonArgs(),
    ]);
    worker = await startTessera([
      ...['mapreduce', 'worker', '--port', '0', '--registry', cluster.registry.url],
      ...['--data-dir', join(cluster.dir.path, 'worker'), '--meta', cluster.meta.url],
      ...['--master', grpcAddress, '--server-id', 'worker-0', '--heartbeat-interval', '0.3'],
      ...cluster.commonArgs(),
    ]);
  });
  after(async () => {
    for (const client of clients) client.close();
    await worker?.kill('SIGKILL');
    await master?.kill('SIGKILL');
    await cluster?.stop();
    material.cleanup();
  });

  test('a worker registers and heartbeats over mutual TLS with its service token', async () => {
    const admin = cluster.client(await cluster.token('ops', 'admin'));
    await waitFor(
      'the worker active at the master',
      async () => {
        const { workers } = await admin.getJson<{ workers: { status: string }[] }>(
          `${master?.url}/workers`,
        );
        return workers.some((entry) => entry.status === 'active');
      },
      { timeoutMs: 30_000 },
    );
  });

  test('no token is UNAUTHENTICATED; a tampered one too', async () => {
    assert.equal(await grpcCode(jobClient().list()), grpc.status.UNAUTHENTICATED);
    const reader = await cluster.token('rita', 'reader');
    assert.equal(await grpcCode(jobClient(`${reader}x`).list()), grpc.status.UNAUTHENTICATED);
  });

  test('a reader lists jobs but may not submit; a writer may', async () => {
    const reader = jobClient(await cluster.token('rita', 'reader'));
    const { jobs } = await reader.list();
    assert.ok(Array.isArray(jobs));
    const spec = { input: ['/missing/input.txt'], output: '/out/x', builtin: 'wordcount' };
    assert.equal(await grpcCode(reader.submit(spec)), grpc.status.PERMISSION_DENIED);
    // The writer passes the check and reaches the master, which refuses the missing input.
    const writer = jobClient(await cluster.token('wendy', 'writer'));
    const code = await grpcCode(writer.submit(spec));
    assert.ok(
      code !== grpc.status.PERMISSION_DENIED && code !== grpc.status.UNAUTHENTICATED,
      `writer refused with ${code}`,
    );
  });

  test('a client without TLS, or without a client certificate, cannot call', async () => {
    const token = await cluster.token('rita', 'reader');
    assert.equal(
      await grpcCode(jobClient(token, { httpsOnly: false }).list()),
      grpc.status.UNAVAILABLE,
    );
    const noCert = { ca: tls.ca, httpsOnly: true } as Omit<ClientSecurity, 'authorization'>;
    assert.equal(await grpcCode(jobClient(token, noCert).list()), grpc.status.UNAVAILABLE);
  });
});
