import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, option, type ConfigSchema } from '../../core/config.js';
import { generateSecret, loadSecret, tokenKeys } from '../../security/keys.js';
import { addSchemaOptions, resolveFromCommand } from '../options.js';
import { planCluster, type ChildSpec } from './plan.js';
import { currentLauncher, Supervisor } from './supervisor.js';

/** The options of `tessera up` (also listed in the generated reference of docs/operations.md). */
export const upConfigSchema = {
  basePort: option.port({
    flag: 'base-port',
    env: ['TESSERA_BASE_PORT'],
    defaultValue: 8000,
    description: 'Shift every default port by N - 8000 (the dashboard is at N + 80).',
  }),
  host: option.string({
    flag: 'host',
    env: ['TESSERA_HOST'],
    defaultValue: '127.0.0.1',
    description: 'Address every service listens on.',
    valueName: '<address>',
  }),
  dataDir: option.string({
    flag: 'data-dir',
    env: ['TESSERA_DATA_DIR'],
    defaultValue: './.tessera',
    description: 'Root directory of the cluster’s data (one subdirectory per service).',
    valueName: '<dir>',
  }),
  heartbeatIntervalMs: option.durationMs({
    flag: 'heartbeat-interval',
    env: ['HEARTBEAT_INTERVAL'],
    defaultValue: 10_000,
    description: 'Heartbeat interval of every service.',
  }),
  heartbeatTimeoutMs: option.durationMs({
    flag: 'heartbeat-timeout',
    env: ['HEARTBEAT_TIMEOUT'],
    defaultValue: 30_000,
    description: 'Silence after which a service is considered down.',
  }),
  datanodes: option.int({
    flag: 'datanodes',
    env: ['TESSERA_DATANODES'],
    defaultValue: 3,
    description: 'DFS datanodes to start.',
  }),
  searchNodes: option.int({
    flag: 'search-nodes',
    env: ['TESSERA_SEARCH_NODES'],
    defaultValue: 4,
    description: 'DistriSearch nodes to start (ids 0..N-1; 0 starts none).',
  }),
  workers: option.int({
    flag: 'workers',
    env: ['TESSERA_WORKERS'],
    defaultValue: 2,
    description: 'MapReduce workers to start (0 starts neither the workers nor the master).',
  }),
  auth: option.boolean({
    flag: 'auth',
    env: ['TESSERA_UP_AUTH'],
    defaultValue: false,
    description:
      'Require tokens on every API: a secret is kept in DATA_DIR/auth-secret.txt and an admin token is printed.',
  }),
} satisfies ConfigSchema;

/** `tessera up`: starts a whole local cluster as child processes. */
export function addUpCommand(program: Command): void {
  const command = program
    .command('up')
    .description('Start a local cluster (every service as a child process) and supervise it.');
  addSchemaOptions(command, upConfigSchema);
  command.action(async () => {
    const { values } = resolveFromCommand(command, upConfigSchema);
    const dataDir = resolve(values.dataDir);
    const auth = values.auth ? ensureAuthSecret(dataDir) : undefined;
    const plan = planCluster({
      ...values,
      dataDir,
      ...(auth === undefined ? {} : { authSecretFile: auth.path }),
    });
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    const supervisor = new Supervisor(plan, {
      launcher: currentLauncher(),
      out,
      colors: process.stdout.isTTY,
      healthTimeoutMs: 60_000,
    });
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      out(`tessera: ${signal} received, stopping every service`);
      supervisor.stop().then(
        () => {
          out('tessera: stopped');
          process.exit(0);
        },
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    try {
      await supervisor.start();
    } catch (error) {
      out(`tessera: ${error instanceof Error ? error.message : String(error)}`);
      await supervisor.stop(2_000);
      process.exit(1);
    }
    out(readyTable(plan));
    if (auth !== undefined) out(await adminTokenLines(auth.secret));
    out('tessera is ready');
  });
}

function readyTable(plan: readonly ChildSpec[]): string {
  const width = Math.max(...plan.map((child) => child.name.length), 'service'.length);
  const web = plan.find((child) => child.name === 'web');
  const lines = [
    ...(web ? [`dashboard: ${web.url}`, ''] : []),
    `${'service'.padEnd(width)}  url`,
    ...plan.map((child) => `${child.name.padEnd(width)}  ${child.url}`),
  ];
  return lines.join('\n');
}

/** The cluster's auth secret file, created (owner-only) on the first `up --auth`. */
function ensureAuthSecret(dataDir: string): { path: string; secret: Buffer } {
  const path = join(dataDir, 'auth-secret.txt');
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, `${generateSecret()}\n`, { mode: 0o600 });
  }
  const secret = loadSecret(path, {});
  if (secret === undefined) throw new ConfigError(`${path} is empty: delete it to get a new one`);
  return { path, secret };
}

/** An admin token valid for 24 h, and how to use it. */
async function adminTokenLines(secret: Buffer): Promise<string> {
  const { issueApiToken } = await import('../../security/tokens.js');
  const token = await issueApiToken(
    tokenKeys(secret),
    { subject: 'admin', role: 'admin', ttlMs: 24 * 3_600_000 },
    Date.now(),
  );
  return [
    'authentication is on; an admin token (24 h) for the CLI and the dashboard sign-in:',
    `  export TESSERA_TOKEN=${token}`,
    'more tokens: tessera token create --help',
  ].join('\n');
}
