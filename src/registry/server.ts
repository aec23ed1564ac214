import { join } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { option, type ConfigOf, type ConfigSchema } from '../core/config.js';
import { createHttpServer, listen } from '../core/http-server.js';
import type { Logger } from '../core/logger.js';
import { systemRandom, type Random } from '../core/random.js';
import { commonServiceOptions, type ServiceHandle } from '../core/service.js';
import { Registry } from './registry.js';
import { registerRegistryRoutes } from './routes.js';
import { RegistryStore } from './store.js';

/** The registry's options: the common ones plus the seed's timeouts. */
export const registryConfigSchema = {
  ...commonServiceOptions({
    name: 'registry',
    defaultPort: 9000,
    portEnv: ['TESSERA_REGISTRY_PORT'],
  }),
  heartbeatTimeoutMs: option.durationMs({
    flag: 'heartbeat-timeout',
    env: ['HEARTBEAT_TIMEOUT'],
    defaultValue: 30_000,
    description: 'Silence after which a server is marked inactive.',
  }),
  cleanupIntervalMs: option.durationMs({
    flag: 'cleanup-interval',
    env: ['CLEANUP_INTERVAL'],
    defaultValue: 10_000,
    description: 'How often inactive servers are detected and old records removed.',
  }),
  retentionMs: option.durationMs({
    flag: 'retention',
    env: ['TESSERA_REGISTRY_RETENTION'],
    defaultValue: 3_600_000,
    description: 'How long an inactive server is kept before its record is removed.',
  }),
  inMemory: option.boolean({
    flag: 'in-memory',
    env: ['TESSERA_REGISTRY_IN_MEMORY'],
    defaultValue: false,
    description: 'Keep the table in memory only (nothing survives a restart).',
  }),
} satisfies ConfigSchema;

export type RegistryConfig = ConfigOf<typeof registryConfigSchema>;

export interface RegistryHandle extends ServiceHandle {
  readonly registry: Registry;
}

/** Starts a registry service; the handle stops it (tests run it in-process this way). */
export async function startRegistry(
  config: RegistryConfig,
  deps: { logger: Logger; clock?: Clock; random?: Random },
): Promise<RegistryHandle> {
  const store = config.inMemory
    ? undefined
    : new RegistryStore(join(config.dataDir, 'registry.db'));
  const registry = new Registry({
    timeoutMs: config.heartbeatTimeoutMs,
    retentionMs: config.retentionMs,
    clock: deps.clock ?? systemClock,
    random: deps.random ?? systemRandom,
    ...(store ? { store } : {}),
  });
  const app = await createHttpServer({
    name: 'registry',
    logger: deps.logger,
    description: 'Service discovery: registration, heartbeats and the list of active servers.',
    bodyLimitBytes: 256 * 1024,
    health: () => ({ servers: registry.counts().total, index: registry.index }),
  });
  registerRegistryRoutes(app, registry, config);
  const sweeper = setInterval(() => {
    const { expired, removed, durable } = registry.sweep();
    if (expired.length > 0) deps.logger.warn({ expired }, 'servers marked inactive');
    if (removed.length > 0) deps.logger.info({ removed }, 'inactive servers removed');
    durable.catch((error: unknown) =>
      deps.logger.error({ err: error }, 'could not write the changes of a sweep to disk'),
    );
  }, config.cleanupIntervalMs);
  const url = await listen(app, config.host, config.port);
  deps.logger.info({ url }, 'registry listening');
  return {
    name: 'registry',
    url,
    registry,
    async stop() {
      clearInterval(sweeper);
      registry.releaseWaiters();
      await app.close();
      registry.flushHeartbeats();
      store?.close();
    },
  };
}
