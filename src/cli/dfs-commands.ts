import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { logEffectiveConfig, stopOnSignals } from '../core/service.js';
import { datanodeConfigSchema, startDatanode } from '../dfs/index.js';
import { addSchemaOptions, resolveFromCommand } from './options.js';

/** `tessera datanode`: runs a DFS datanode (chunk storage, ports 9201, 9202, ...). */
export function addDatanodeCommand(program: Command): void {
  const command = program
    .command('datanode')
    .description(
      'Run a DFS datanode: stores checksummed chunks, heartbeats the metadata master (port 9201).',
    );
  addSchemaOptions(command, datanodeConfigSchema);
  command.action(async () => {
    const resolved = resolveFromCommand(command, datanodeConfigSchema);
    const logger = createLogger({ name: 'datanode', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    const handle = await startDatanode(resolved.values, { logger });
    stopOnSignals(handle, logger);
  });
}
