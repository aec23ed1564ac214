import type { Logger } from 'pino';
import { applyServiceSecurity, securityServiceOptions } from '../security/service-security.js';
import { ConfigError, option, type ConfigSchema, type ResolvedConfig } from './config.js';
import { applyHttpLimits, httpLimitOptions } from './http-limits.js';

/** A started service, as seen by the CLI and by tests that run services in-process. */
export interface ServiceHandle {
  readonly name: string;
  /** Base URL the service listens on, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  /** Graceful stop: stop accepting work, finish or hand off what is in flight, close stores. */
  stop(): Promise<void>;
}

/** Options every Tessera service takes (the registry leaves out `registryUrl` and `serverId`). */
export function commonServiceOptions(service: {
  name: string;
  defaultPort: number;
  portEnv: readonly string[];
}) {
  return {
    host: option.string({
      flag: 'host',
      env: ['TESSERA_HOST'],
      defaultValue: '127.0.0.1',
      description: 'Address to listen on (0.0.0.0 for every interface).',
      valueName: '<address>',
    }),
    port: option.port({
      flag: 'port',
      env: service.portEnv,
      defaultValue: service.defaultPort,
      description: `Port to listen on (0 picks a free one).`,
    }),
    dataDir: option.string({
      flag: 'data-dir',
      env: ['TESSERA_DATA_DIR'],
      defaultValue: `./.tessera/${service.name}`,
      description: 'Directory for this service’s durable state.',
      valueName: '<dir>',
    }),
    advertiseHost: option.optionalString({
      flag: 'advertise-host',
      env: ['TESSERA_ADVERTISE_HOST'],
      defaultValue: undefined,
      description: 'Host name other machines use to reach this service (default: --host).',
      valueName: '<host>',
    }),
    logLevel: option.choice({
      flag: 'log-level',
      env: ['TESSERA_LOG_LEVEL'],
      defaultValue: 'info',
      choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      description: 'Log verbosity.',
    }),
    // Token checks and TLS (docs/security.md); all off by default.
    ...securityServiceOptions(),
    // Header, request and idle timeouts of the HTTP server (docs/fuzzing.md).
    ...httpLimitOptions(),
  } satisfies ConfigSchema;
}

/** Options of a service that registers itself in the registry. */
export function registeredServiceOptions() {
  return {
    registryUrl: option.url({
      flag: 'registry',
      env: ['REGISTRY_URL', 'TESSERA_REGISTRY_URL'],
      defaultValue: 'http://127.0.0.1:9000',
      description: 'URL of the registry this service registers with.',
    }),
    heartbeatIntervalMs: option.durationMs({
      flag: 'heartbeat-interval',
      env: ['HEARTBEAT_INTERVAL'],
      defaultValue: 10_000,
      description: 'Time between heartbeats to the registry.',
    }),
    serverId: option.optionalString({
      flag: 'server-id',
      env: ['SERVER_ID'],
      defaultValue: undefined,
      description: 'Id in the registry (default: generated once, kept in the data dir).',
      valueName: '<id>',
    }),
  } satisfies ConfigSchema;
}

/**
 * Logs the effective configuration, with where each value came from, and applies its
 * process-wide part: the HTTP timeouts and the security options of `commonServiceOptions`
 * (token checks, service tokens, TLS; docs/security.md). Every service command calls this once, before it starts its
 * service. Security options that do not fit together end the process (exit code 2).
 */
export function logEffectiveConfig<S extends ConfigSchema>(
  logger: Logger,
  resolved: ResolvedConfig<S>,
): void {
  logger.info({ config: resolved.values, sources: resolved.sources }, 'effective configuration');
  const values: Record<string, unknown> = resolved.values;
  applyHttpLimits({
    httpHeadersTimeoutMs: optionalNumber(values['httpHeadersTimeoutMs']),
    httpRequestTimeoutMs: optionalNumber(values['httpRequestTimeoutMs']),
    httpIdleTimeoutMs: optionalNumber(values['httpIdleTimeoutMs']),
  });
  if (typeof values['auth'] !== 'boolean' || typeof values['tlsClientAuth'] !== 'boolean') return;
  const service: unknown = logger.bindings()['service'];
  let applied: ReturnType<typeof applyServiceSecurity>;
  try {
    applied = applyServiceSecurity(
      typeof service === 'string' ? service : 'tessera',
      values as Parameters<typeof applyServiceSecurity>[1],
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A start-up mistake of the operator: say what is wrong, without a stack trace.
    logger.fatal(error.message);
    process.stderr.write(`tessera: ${error.message}\n`);
    process.exit(2);
  }
  if (applied.auth || applied.serviceTokens || applied.tls) {
    logger.info({ security: applied }, 'security settings applied');
  }
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/**
 * Runs a service until SIGTERM or SIGINT, then stops it gracefully. A second signal, or a stop
 * that takes longer than `stopTimeoutMs`, exits at once.
 */
export function stopOnSignals(handle: ServiceHandle, logger: Logger, stopTimeoutMs = 10_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, `stopping ${handle.name}`);
    const force = setTimeout(() => {
      logger.error('graceful stop took too long; exiting');
      process.exit(1);
    }, stopTimeoutMs);
    force.unref();
    handle.stop().then(
      () => {
        logger.info(`${handle.name} stopped`);
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
