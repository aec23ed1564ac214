/**
 * Configuration (DESIGN.md, rule 9): command-line flags > environment variables > defaults.
 * A service declares a schema of options once; the CLI builds its flags from it, the
 * operations guide's configuration reference is generated from it, and the effective values
 * (with where each came from) are logged at start.
 */

/** How to read one option from a flag value or an environment variable. */
export interface OptionSpec<T> {
  /** Long flag name without dashes, e.g. `heartbeat-timeout`. */
  readonly flag: string;
  /** Environment variables read, first match wins (seed names first, then `TESSERA_*`). */
  readonly env: readonly string[];
  readonly defaultValue: T;
  readonly description: string;
  /** Placeholder shown in help, e.g. `<seconds>`. Absent for boolean switches. */
  readonly valueName?: string;
  /** Parses a raw string; throws `ConfigError` with a helpful message when invalid. */
  readonly parse: (raw: string) => T;
  /** How the default is shown in help and docs. */
  readonly showDefault?: string;
}

export type ConfigSchema = Record<string, OptionSpec<unknown>>;

/** The typed configuration object a schema describes. */
export type ConfigOf<S extends ConfigSchema> = {
  [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never;
};

export type ConfigSource = 'flag' | 'env' | 'default';

/** A resolved configuration with the source of every value. */
export interface ResolvedConfig<S extends ConfigSchema> {
  readonly values: ConfigOf<S>;
  readonly sources: { readonly [K in keyof S]: ConfigSource | `env:${string}` };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Resolves a schema against parsed flag values (raw strings, keyed by schema key) and an
 * environment. Flags win over the environment, which wins over defaults.
 */
export function resolveConfig<S extends ConfigSchema>(
  schema: S,
  flags: Partial<Record<keyof S, string | boolean | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedConfig<S> {
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const flagValue = flags[key];
    if (flagValue !== undefined) {
      values[key] = parseWith(spec, String(flagValue), `--${spec.flag}`);
      sources[key] = 'flag';
      continue;
    }
    const envName = spec.env.find((name) => env[name] !== undefined && env[name] !== '');
    if (envName !== undefined) {
      values[key] = parseWith(spec, env[envName] ?? '', envName);
      sources[key] = `env:${envName}`;
      continue;
    }
    values[key] = spec.defaultValue;
    sources[key] = 'default';
  }
  return { values: values as ConfigOf<S>, sources: sources as ResolvedConfig<S>['sources'] };
}

function parseWith(spec: OptionSpec<unknown>, raw: string, origin: string): unknown {
  try {
    return spec.parse(raw);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for ${origin}: ${reason}`);
  }
}

/** Parses a duration: a number of seconds (fractions allowed) or `500ms`, `30s`, `5m`, `1h`. */
export function parseDurationMs(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$/.exec(raw);
  if (!match) throw new ConfigError('expected seconds, or a duration like 500ms, 30s, 5m, 1h');
  const amount = Number(match[1]);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  return Math.round(amount * unitMs);
}

/** Parses a size: bytes, or with a unit `KiB`, `MiB`, `GiB` (also `K`, `M`, `G`, `KB`, ...). */
export function parseBytes(raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(raw);
  if (!match) throw new ConfigError('expected a size such as 1048576, 64MiB or 1GiB');
  const power = ' kmgt'.indexOf((match[2] ?? '').toLowerCase() || ' ');
  return Math.round(Number(match[1]) * 1024 ** power);
}

function parsePort(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('expected a port number between 0 and 65535');
  }
  return port;
}

function parseNonNegativeInt(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError('expected an integer >= 0');
  return value;
}

function parseBoolean(raw: string): boolean {
  const lowered = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(lowered)) return false;
  throw new ConfigError('expected true or false');
}

function parseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new ConfigError('expected an http(s) URL such as http://127.0.0.1:9000');
  }
}

type SpecInput<T> = Omit<OptionSpec<T>, 'parse' | 'env'> & { env?: readonly string[] };

/** Option builders; each documents the unit it parses. */
export const option = {
  string: (spec: SpecInput<string>): OptionSpec<string> => ({
    valueName: '<value>',
    ...spec,
    env: spec.env ?? [],
    parse: (raw) => raw,
  }),
  optionalString: (spec: SpecInput<string | undefined>): OptionSpec<string | undefined> => ({
    valueName: '<value>',
    ...spec,
    env: spec.env ?? [],
    parse: (raw) => (raw === '' ? undefined : raw),
  }),
  url: (spec: SpecInput<string>): OptionSpec<string> => ({
    valueName: '<url>',
    ...spec,
    env: spec.env ?? [],
    parse: parseUrl,
  }),
  optionalUrl: (spec: SpecInput<string | undefined>): OptionSpec<string | undefined> => ({
    valueName: '<url>',
    ...spec,
    env: spec.env ?? [],
    parse: (raw) => (raw === '' ? undefined : parseUrl(raw)),
  }),
  port: (spec: SpecInput<number>): OptionSpec<number> => ({
    valueName: '<port>',
    ...spec,
    env: spec.env ?? [],
    parse: parsePort,
  }),
  int: (spec: SpecInput<number>): OptionSpec<number> => ({
    valueName: '<n>',
    ...spec,
    env: spec.env ?? [],
    parse: parseNonNegativeInt,
  }),
  number: (spec: SpecInput<number>): OptionSpec<number> => ({
    valueName: '<n>',
    ...spec,
    env: spec.env ?? [],
    parse: (raw) => {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new ConfigError('expected a number');
      return value;
    },
  }),
  /** A duration given in seconds (or with a unit); the value is in milliseconds. */
  durationMs: (spec: SpecInput<number>): OptionSpec<number> => ({
    valueName: '<seconds>',
    showDefault: `${spec.defaultValue / 1000}s`,
    ...spec,
    env: spec.env ?? [],
    parse: parseDurationMs,
  }),
  bytes: (spec: SpecInput<number>): OptionSpec<number> => ({
    valueName: '<size>',
    ...spec,
    env: spec.env ?? [],
    parse: parseBytes,
  }),
  boolean: (spec: Omit<SpecInput<boolean>, 'valueName'>): OptionSpec<boolean> => ({
    ...spec,
    env: spec.env ?? [],
    parse: parseBoolean,
  }),
  choice: <T extends string>(spec: SpecInput<T> & { choices: readonly T[] }): OptionSpec<T> => ({
    valueName: `<${spec.choices.join('|')}>`,
    ...spec,
    env: spec.env ?? [],
    parse: (raw) => {
      if (!(spec.choices as readonly string[]).includes(raw)) {
        throw new ConfigError(`expected one of ${spec.choices.join(', ')}`);
      }
      return raw as T;
    },
  }),
};

/** Renders a schema as a Markdown table (for docs/operations.md's configuration reference). */
export function configReferenceMarkdown(schema: ConfigSchema): string {
  const rows = Object.values(schema).map((spec) => {
    const flag = `\`--${spec.flag}${spec.valueName ? ` ${spec.valueName}` : ''}\``;
    const env = spec.env.length > 0 ? spec.env.map((name) => `\`${name}\``).join(', ') : '';
    const shown = spec.showDefault ?? formatDefault(spec.defaultValue);
    return `| ${flag} | ${env} | ${shown} | ${spec.description} |`;
  });
  return ['| flag | environment | default | meaning |', '| --- | --- | --- | --- |', ...rows].join(
    '\n',
  );
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value === 'string') return value === '' ? '(empty)' : `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}
