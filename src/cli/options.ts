import { Command, Option } from 'commander';
import {
  ConfigError,
  resolveConfig,
  type ConfigSchema,
  type ResolvedConfig,
} from '../core/config.js';

/** Commander's attribute name for a long flag: `heartbeat-timeout` -> `heartbeatTimeout`. */
function attributeName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Adds one flag per schema option, with its default and environment variables in the help. */
export function addSchemaOptions(command: Command, schema: ConfigSchema): Command {
  for (const spec of Object.values(schema)) {
    const flags = spec.valueName ? `--${spec.flag} ${spec.valueName}` : `--${spec.flag}`;
    const shownDefault =
      spec.showDefault ??
      (spec.defaultValue === undefined
        ? 'none'
        : typeof spec.defaultValue === 'string'
          ? spec.defaultValue
          : JSON.stringify(spec.defaultValue));
    const env = spec.env.length > 0 ? `; env ${spec.env.join(', ')}` : '';
    command.addOption(new Option(flags, `${spec.description} (default: ${shownDefault}${env})`));
  }
  return command;
}

/** Resolves a schema from a command's parsed flags and the process environment. */
export function resolveFromCommand<S extends ConfigSchema>(
  command: Command,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedConfig<S> {
  const parsed = command.opts<Record<string, string | boolean | undefined>>();
  const flags: Partial<Record<keyof S, string | boolean | undefined>> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = parsed[attributeName(spec.flag)];
    if (value !== undefined) flags[key as keyof S] = value;
  }
  try {
    return resolveConfig(schema, flags, env);
  } catch (error) {
    if (error instanceof ConfigError) command.error(`tessera: ${error.message}`);
    throw error;
  }
}
