import { Command } from 'commander';
import { TESSERA_VERSION } from '../core/http-server.js';
import { addDatanodeCommand } from './dfs-commands.js';
import { addFsCommand } from './fs-command.js';
import { addMetaCommand } from './meta-command.js';
import { addNodesCommand } from './nodes-command.js';
import { addRegistryCommand } from './registry-commands.js';
import { addSearchCommand, addSearchNodeCommand } from './search-commands.js';
import { addUpCommand } from './up/command.js';
import { addWebCommand } from './web-command.js';

/** Builds the `tessera` command with every command group. */
export function buildProgram(): Command {
  const program = new Command('tessera')
    .description(
      'Tessera: a self-hostable distributed data platform (registry, file system, search, MapReduce).',
    )
    .version(TESSERA_VERSION)
    .showHelpAfterError();
  addUpCommand(program);
  addRegistryCommand(program);
  addNodesCommand(program);
  addMetaCommand(program);
  addDatanodeCommand(program);
  addSearchNodeCommand(program);
  addSearchCommand(program);
  addFsCommand(program);
  addWebCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
