import type { Command } from 'commander';
import { resolve } from 'node:path';
import { option, type ConfigSchema } from '../../core/config.js';
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
} satisfies ConfigSchema;

/** `tessera up`: starts a whole local cluster as child processes. */
export function addUpCommand(program: Command): void {
  const command = program
    .command('up')
    .description('Start a local cluster (every service as a child process) and supervise it.');
  addSchemaOptions(command, upConfigSchema);
  command.action(async () => {
    const { values } = resolveFromCommand(command, upConfigSchema);
    const plan = planCluster({ ...values, dataDir: resolve(values.dataDir) });
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
