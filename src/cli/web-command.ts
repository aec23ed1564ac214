import type { Command } from 'commander';
import { createLogger } from '../core/logger.js';
import { logEffectiveConfig, stopOnSignals } from '../core/service.js';
import { startWeb, webConfigSchema } from '../web/index.js';
import { addSchemaOptions, resolveFromCommand } from './options.js';

/** `tessera web`: runs the dashboard (the single-page app and its API; port 8080). */
export function addWebCommand(program: Command): void {
  const command = program
    .command('web')
    .description(
      'Run the web dashboard: overview, files, search, jobs, nodes (port 8080; finds the services through the registry).',
    );
  addSchemaOptions(command, webConfigSchema);
  command.action(async () => {
    const resolved = resolveFromCommand(command, webConfigSchema);
    const logger = createLogger({ name: 'web', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    const handle = await startWeb(resolved.values, { logger });
    stopOnSignals(handle, logger);
  });
}
