/**
 * A real local DFS with security switched on, for the tests of test/security: a registry, a
 * metadata master and datanodes as child processes on 127.0.0.1 with ephemeral ports, started
 * with the flags the test asks for (auth, TLS, encryption). Tokens for test users are signed
 * in-process with the cluster's secret.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient, type HttpClientOptions } from '../../src/core/http-client.js';
import type { ClientSecurity } from '../../src/core/security-context.js';
import { generateSecret, tokenKeys, type TokenKeys } from '../../src/security/keys.js';
import type { Role } from '../../src/security/roles.js';
import { issueApiToken } from '../../src/security/tokens.js';
import { startTessera, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';

export interface SecureClusterOptions {
  readonly datanodes: number;
  /** Flags every service gets (e.g. `--auth`, the TLS flags). */
  readonly common: readonly string[];
  /** Extra flags of the datanodes (e.g. `--encrypt --key-file F`). */
  readonly datanodeArgs?: readonly string[];
  /** Client settings of the test's own HTTP clients (CA, client certificate). */
  readonly client?: Omit<ClientSecurity, 'authorization'>;
}

/** The cluster's secret file: every service and the test sign and check tokens with it. */
export function writeSecret(dir: string): { path: string; keys: TokenKeys } {
  const secret = generateSecret();
  const path = join(dir, 'secret.txt');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return { path, keys: tokenKeys(Buffer.from(secret)) };
}

export class SecureCluster {
  readonly dir = tempDir('secure');
  readonly secret = writeSecret(this.dir.path);
  registry!: RunningProcess;
  meta!: RunningProcess;
  readonly datanodes: RunningProcess[] = [];
  /** The dashboard, when `startWeb` started it. */
  web: RunningProcess | undefined;
  private readonly clients: HttpClient[] = [];

  constructor(readonly options: SecureClusterOptions) {}

  /** The flags every service of this cluster gets. */
  commonArgs(): string[] {
    return ['--auth-secret-file', this.secret.path, ...this.options.common];
  }

  async start(): Promise<void> {
    this.registry = await startTessera([
      'registry',
      '--port',
      '0',
      '--in-memory',
      '--heartbeat-timeout',
      '3',
      ...this.commonArgs(),
    ]);
    this.meta = await startTessera([
      'meta',
      '--port',
      '0',
      '--data-dir',
      join(this.dir.path, 'meta'),
      '--registry',
      this.registry.url,
      '--heartbeat-interval',
      '0.3',
      '--datanode-timeout',
      '3',
      ...this.commonArgs(),
    ]);
    await Promise.all(
      Array.from({ length: this.options.datanodes }, (_unused, index) => this.startDatanode(index)),
    );
    await this.waitForDatanodes(this.options.datanodes);
  }

  /** Starts (or restarts) datanode `index` on its data directory. */
  async startDatanode(index: number, extra: readonly string[] = []): Promise<RunningProcess> {
    const process = await startTessera([
      'datanode',
      '--port',
      '0',
      '--data-dir',
      join(this.dir.path, `datanode-${index}`),
      '--registry',
      this.registry.url,
      '--meta',
      this.meta.url,
      '--heartbeat-interval',
      '0.3',
      '--scrub-rate',
      '0',
      ...this.commonArgs(),
      ...(this.options.datanodeArgs ?? []),
      ...extra,
    ]);
    this.datanodes[index] = process;
    return process;
  }

  /** Starts `tessera web` with this cluster's flags (the dashboard's sign-in tests). */
  async startWeb(extra: readonly string[] = []): Promise<RunningProcess> {
    this.web = await startTessera([
      ...['web', '--port', '0', '--registry', this.registry.url, '--meta', this.meta.url],
      ...['--data-dir', join(this.dir.path, 'web'), '--heartbeat-interval', '0.5'],
      ...['--sample-interval', '1'],
      ...this.commonArgs(),
      ...extra,
    ]);
    return this.web;
  }

  datanodeDir(index: number): string {
    return join(this.dir.path, `datanode-${index}`, 'chunks');
  }

  /** A signed API token for a test user. */
  async token(subject: string, role: Role, groups: string[] = [], ttlMs = 600_000) {
    return issueApiToken(this.secret.keys, { subject, role, groups, ttlMs }, Date.now());
  }

  /** An HTTP client of this test that sends `token` (none when undefined). */
  client(token?: string, options: HttpClientOptions = {}): HttpClient {
    const authorization = token === undefined ? undefined : `Bearer ${token}`;
    const client = new HttpClient({
      maxRetries: 0,
      timeoutMs: 15_000,
      breaker: { failureThreshold: 1e9 },
      ...options,
      security: {
        httpsOnly: false,
        ...this.options.client,
        ...(authorization === undefined ? {} : { authorization: async () => authorization }),
      },
    });
    this.clients.push(client);
    return client;
  }

  /** Waits until the master sees `count` active datanodes. */
  async waitForDatanodes(count: number): Promise<void> {
    const admin = this.client(await this.token('test-admin', 'admin'));
    await waitFor(
      `${count} active datanodes`,
      async () => {
        const { nodes } = await admin.getJson<{ nodes: { state: string }[] }>(
          `${this.meta.url}/api/v1/nodes`,
        );
        return nodes.filter((node) => node.state === 'active').length >= count;
      },
      { timeoutMs: 30_000 },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.web, this.registry, this.meta, ...this.datanodes].map(
        (process) => process?.kill('SIGKILL') ?? Promise.resolve(),
      ),
    );
    await Promise.all(this.clients.map((client) => client.close()));
    this.dir.cleanup();
  }
}
