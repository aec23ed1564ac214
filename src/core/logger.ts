import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** The service name, attached to every line as `service`. */
  readonly name: string;
  readonly level?: string;
  /** Force JSON lines (default: JSON unless stdout is a terminal). */
  readonly json?: boolean;
}

/**
 * A pino logger: JSON lines for machines (and for `tessera up`, which formats its children's
 * lines itself), a readable coloured format when a person runs a service in a terminal.
 */
export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? process.env['TESSERA_LOG_LEVEL'] ?? 'info';
  const json =
    options.json ?? (process.env['TESSERA_LOG_FORMAT'] === 'json' || !process.stdout.isTTY);
  const base = { service: options.name };
  if (json) return pino({ level, base });
  return pino({ level, base }, pretty({ colorize: true, ignore: 'pid,hostname', sync: true }));
}

/** A logger that writes nothing; for tests and benchmarks. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
