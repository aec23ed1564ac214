import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { logEffectiveConfig, stopOnSignals } from '../core/service.js';
import { metaConfigSchema, startMeta } from '../dfs/index.js';
import { addSchemaOptions, resolveFromCommand } from './options.js';

/** `tessera meta`: runs the DFS metadata master. */
export function addMetaCommand(program: Command): void {
  const command = program
    .command('meta')
    .description('Run the DFS metadata master (namespace, chunks, replicas, leases; port 9100).');
  addSchemaOptions(command, metaConfigSchema);
  command.action(async () => {
    const resolved = resolveFromCommand(command, metaConfigSchema);
    const logger = createLogger({ name: 'dfs-meta', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    const handle = await startMeta(resolved.values, { logger });
    stopOnSignals(handle, logger);
  });
}
