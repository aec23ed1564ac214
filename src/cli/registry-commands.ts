import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { logEffectiveConfig, stopOnSignals } from '../core/service.js';
import { registryConfigSchema, startRegistry } from '../registry/index.js';
import { addSchemaOptions, resolveFromCommand } from './options.js';

/** `tessera registry`: runs the registry service. */
export function addRegistryCommand(program: Command): void {
  const command = program
    .command('registry')
    .description('Run the registry service (service discovery, port 9000).');
  addSchemaOptions(command, registryConfigSchema);
  command.action(async () => {
    const resolved = resolveFromCommand(command, registryConfigSchema);
    const logger = createLogger({ name: 'registry', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    const handle = await startRegistry(resolved.values, { logger });
    stopOnSignals(handle, logger);
  });
}
