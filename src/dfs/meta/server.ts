import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.js';
import { option, type ConfigOf, type ConfigSchema } from '../../core/config.js';
import { HttpClient } from '../../core/http-client.js';
import { createHttpServer, listen } from '../../core/http-server.js';
import type { Logger } from '../../core/logger.js';
import { systemRandom, type Random } from '../../core/random.js';
import {
  commonServiceOptions,
  registeredServiceOptions,
  type ServiceHandle,
} from '../../core/service.js';
import { RegistrationAgent } from '../../registry/index.js';
import { chunkTokenIssuer } from '../../security/service-security.js';
import { MetaAccess } from './access.js';
import { FileAcls } from './file-acls.js';
import { MetaMaster } from './master.js';
import { ReplicationManager } from './replication-manager.js';
import { counts, registerMetaRoutes } from './routes.js';
import { MetaStore } from './store.js';
import { DEFAULT_CHUNK_SIZE_BYTES, DEFAULT_REPLICATION_FACTOR } from './types.js';

/** The metadata master's options. */
export const metaConfigSchema = {
  ...commonServiceOptions({ name: 'meta', defaultPort: 9100, portEnv: ['TESSERA_META_PORT'] }),
  ...registeredServiceOptions(),
  replication: option.int({
    flag: 'replication',
    env: ['TESSERA_DFS_REPLICATION'],
    defaultValue: DEFAULT_REPLICATION_FACTOR,
    description: 'Default replication factor of new files.',
  }),
  minReplicas: option.int({
    flag: 'min-replicas',
    env: ['TESSERA_DFS_MIN_REPLICAS'],
    defaultValue: 2,
    description: 'Confirmed replicas a commit needs (capped by the factor and the live datanodes).',
  }),
  chunkSizeBytes: option.bytes({
    flag: 'chunk-size',
    env: ['TESSERA_DFS_CHUNK_SIZE'],
    defaultValue: DEFAULT_CHUNK_SIZE_BYTES,
    showDefault: '64MiB',
    description: 'Default chunk size of new files.',
  }),
  leaseTimeoutMs: option.durationMs({
    flag: 'lease-timeout',
    env: ['TESSERA_DFS_LEASE_TIMEOUT'],
    defaultValue: 60_000,
    description: 'Write lease timeout; an upload whose lease lapses is aborted.',
  }),
  datanodeTimeoutMs: option.durationMs({
    flag: 'datanode-timeout',
    env: ['TESSERA_DFS_DATANODE_TIMEOUT'],
    defaultValue: 30_000,
    description: 'Silence after which a datanode is dead and its chunks are re-replicated.',
  }),
  replicationIntervalMs: option.durationMs({
    flag: 'replication-interval',
    env: ['TESSERA_DFS_REPLICATION_INTERVAL'],
    defaultValue: 3_000,
    description: 'How often the replication manager plans copies and deletes.',
  }),
  maxCopiesPerNode: option.int({
    flag: 'max-copies-per-node',
    env: ['TESSERA_DFS_MAX_COPIES_PER_NODE'],
    defaultValue: 2,
    description: 'Re-replication copies a datanode takes part in at once (throttle).',
  }),
} satisfies ConfigSchema;

export type MetaConfig = ConfigOf<typeof metaConfigSchema>;

export interface MetaHandle extends ServiceHandle {
  readonly master: MetaMaster;
}

/** Starts the DFS metadata master. */
export async function startMeta(
  config: MetaConfig,
  deps: { logger: Logger; clock?: Clock; random?: Random },
): Promise<MetaHandle> {
  const clock = deps.clock ?? systemClock;
  const store = new MetaStore(join(config.dataDir, 'meta.db'));
  const master = new MetaMaster(
    store,
    {
      defaultReplication: config.replication,
      defaultChunkSizeBytes: config.chunkSizeBytes,
      minReplicas: config.minReplicas,
      leaseTimeoutMs: config.leaseTimeoutMs,
    },
    clock,
    deps.random ?? systemRandom,
    config.datanodeTimeoutMs,
  );
  const app = await createHttpServer({
    name: 'dfs-meta',
    logger: deps.logger,
    description: 'DFS metadata master: namespace, chunks, replicas, leases, datanodes.',
    bodyLimitBytes: 64 * 1024 * 1024,
    health: () => counts(master),
  });
  const http = new HttpClient({ registry: app.metrics.registry, timeoutMs: 30_000 });
  master.nodes.onNodeBack = (nodeId, nodeUrl) => {
    http.peerIsBack(nodeUrl);
    deps.logger.info({ node: nodeId, url: nodeUrl }, 'datanode is back');
  };
  const replication = new ReplicationManager(master, http, clock, deps.logger, {
    maxCopiesPerNode: config.maxCopiesPerNode,
    maxCopiesTotal: 32,
    maxDeletesPerNode: 1000,
  });
  const access = new MetaAccess(master, new FileAcls(store), chunkTokenIssuer());
  registerMetaRoutes(app, master, replication, {
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    access,
  });
  const url = await listen(app, config.host, config.port);
  const port = Number(new URL(url).port);
  const host = config.advertiseHost ?? new URL(url).hostname;
  const agent = new RegistrationAgent({
    registryUrl: config.registryUrl,
    role: 'dfs-meta',
    host,
    port,
    url: `${new URL(url).protocol}//${host}:${port}`,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    dataDir: config.dataDir,
    logger: deps.logger,
    ...(config.serverId ? { serverId: config.serverId } : {}),
    metadata: () => ({ files: master.files.size, datanodes: master.nodes.activeCount() }),
  });
  await agent.start();
  const timer = setInterval(() => {
    replication
      .tick()
      .catch((error: unknown) => deps.logger.error({ err: error }, 'replication round failed'));
  }, config.replicationIntervalMs);
  deps.logger.info({ url }, 'dfs metadata master listening');
  return {
    name: 'dfs-meta',
    url,
    master,
    async stop() {
      clearInterval(timer);
      await agent.stop();
      await app.close();
      await http.close();
      store.close();
    },
  };
}
