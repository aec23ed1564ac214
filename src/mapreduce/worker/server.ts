/**
 * `tessera mapreduce worker`: runs map and reduce tasks for the master (gRPC task loop), serves
 * its map outputs to reducers (`GET /shuffle/...`, port 9501, 9502, ...), reads input from and
 * writes output to the DFS, and registers in the registry (role `mapreduce-worker`).
 */
import { availableParallelism, hostname, loadavg } from 'node:os';
import { HttpClient } from '../../core/http-client.js';
import { createHttpServer, listen } from '../../core/http-server.js';
import type { Logger } from '../../core/logger.js';
import type { ServiceHandle } from '../../core/service.js';
import { DfsClient } from '../../dfs/index.js';
import { DiscoveryClient, RegistrationAgent, stableServerId } from '../../registry/index.js';
import type { WorkerInfo } from '../grpc/messages.js';
import { MASTER_ROLE } from '../master/config.js';
import { WORKER_ROLE, type WorkerConfig } from './config.js';
import { registerShuffleRoutes } from './shuffle.js';
import { TaskLoop } from './task-loop.js';

/** A running worker. */
export interface WorkerHandle extends ServiceHandle {
  readonly workerId: string;
}

/** Starts a MapReduce worker. */
export async function startWorker(
  config: WorkerConfig,
  deps: { logger: Logger },
): Promise<WorkerHandle> {
  const logger = deps.logger;
  const workerId = config.serverId ?? stableServerId(WORKER_ROLE, config.dataDir);
  const runtime: { loop?: TaskLoop } = {};
  const slots = Math.max(1, config.slots);
  const app = await createHttpServer({
    name: WORKER_ROLE,
    logger,
    description: 'MapReduce worker: runs tasks and serves map outputs to reducers (shuffle).',
    health: () => ({ worker_id: workerId, slots, running_tasks: runtime.loop?.runningCount ?? 0 }),
  });
  // Short breaker: the DFS master and a restarted worker come back within seconds, and a breaker
  // held open for the default 60 s would fail every task that needs them meanwhile.
  const http = new HttpClient({
    registry: app.metrics.registry,
    timeoutMs: 30_000,
    maxRetries: 2,
    breaker: { openMs: 5_000 },
  });
  const discovery = new DiscoveryClient({ registryUrl: config.registryUrl, http });
  const dfs = new DfsClient({
    ...(config.metaUrl ? { metaUrl: config.metaUrl } : {}),
    discovery,
    http,
  });
  registerShuffleRoutes(app, config.dataDir);
  const url = await listen(app, config.host, config.port);
  const host =
    config.advertiseHost ?? (config.host === '0.0.0.0' ? hostname() : new URL(url).hostname);
  const port = Number(new URL(url).port);
  const publicUrl = `http://${host}:${port}`;
  const info = (): WorkerInfo => ({
    worker_id: workerId,
    host,
    url: publicUrl,
    slots,
    health: Math.max(0, Math.min(1, 1 - (loadavg()[0] ?? 0) / availableParallelism())),
  });
  const loop = new TaskLoop({
    info,
    dataDir: config.dataDir,
    dfs,
    http,
    logger,
    resolveMaster: async () => {
      if (config.masterAddress) return config.masterAddress;
      const master = await discovery.select(MASTER_ROLE, 'first');
      const grpcAddress = master.metadata['grpc'];
      if (typeof grpcAddress !== 'string')
        throw new Error('the registered master announces no gRPC address');
      return grpcAddress;
    },
    spillMemoryBytes: config.spillMemoryBytes,
    parallelFetches: Math.max(1, config.parallelFetches),
  });
  runtime.loop = loop;
  await loop.start();
  const agent = new RegistrationAgent({
    registryUrl: config.registryUrl,
    role: WORKER_ROLE,
    host,
    port,
    url: publicUrl,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    serverId: workerId,
    logger,
    metadata: () => ({ slots, running_tasks: runtime.loop?.runningCount ?? 0 }),
  });
  await agent.start();
  logger.info({ url, worker_id: workerId, slots }, 'mapreduce worker listening');
  return {
    name: WORKER_ROLE,
    url,
    workerId,
    async stop() {
      await loop.stop();
      await agent.stop();
      await app.close();
      await http.close();
    },
  };
}
