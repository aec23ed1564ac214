import { Command } from 'commander';
import { ConfigError } from '../core/config.js';
import { TESSERA_VERSION } from '../core/version.js';
import { takeTokenOption } from '../security/cli-token.js';

type AddCommand = (program: Command) => void;

/**
 * Every command group, loaded on demand: a command imports only its own modules, so that a
 * client command such as `tessera fs ls` starts fast (it does not load Fastify, SQLite, gRPC,
 * ...). `tessera --help` loads them all to list them.
 */
const COMMANDS: Record<string, () => Promise<AddCommand[]>> = {
  up: async () => [(await import('./up/command.js')).addUpCommand],
  registry: async () => [(await import('./registry-commands.js')).addRegistryCommand],
  nodes: async () => [(await import('./nodes-command.js')).addNodesCommand],
  meta: async () => [(await import('./meta-command.js')).addMetaCommand],
  datanode: async () => [(await import('./dfs-commands.js')).addDatanodeCommand],
  fs: async () => [(await import('./fs-command.js')).addFsCommand],
  'search-node': async () => [(await import('./search-commands.js')).addSearchNodeCommand],
  search: async () => [(await import('./search-commands.js')).addSearchCommand],
  web: async () => [(await import('./web-command.js')).addWebCommand],
  mapreduce: async () => [(await import('./mapreduce-commands.js')).addMapReduceCommand],
  job: async () => [(await import('./mapreduce-commands.js')).addJobCommand],
  token: async () => [(await import('./token-command.js')).addTokenCommand],
  certs: async () => [(await import('./certs-command.js')).addCertsCommand],
};

/** Builds the `tessera` command with the named command group, or every group when absent. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('tessera')
    .description(
      'Tessera: a self-hostable distributed data platform (registry, file system, search, MapReduce).',
    )
    .version(TESSERA_VERSION)
    .showHelpAfterError();
  const names = only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  for (const name of names) {
    const load = COMMANDS[name];
    if (load) for (const add of await load()) add(program);
  }
  return program;
}

const argv = takeTokenOption(process.argv, process.env);
const [, , first] = argv;
try {
  await (await buildProgram(first)).parseAsync(argv);
} catch (error) {
  // A configuration mistake found while starting (e.g. --encrypt without --key-file) is the
  // operator's to fix: one line that says what is wrong, no stack trace.
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tessera: ${error.message}\n`);
  process.exit(2);
}
