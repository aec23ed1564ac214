/**
 * `tessera mapreduce master`: the HTTP API (port 9400), the gRPC services (port 50051), the
 * SQLite state store in the data dir, the scheduler's tick timer, registration in the registry
 * (role `mapreduce-master`, metadata `grpc`), and the optional MQTT bridge.
 */
import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.js';
import { TesseraError } from '../../core/errors.js';
import { HttpClient } from '../../core/http-client.js';
import { createHttpServer, listen } from '../../core/http-server.js';
import type { Logger } from '../../core/logger.js';
import { systemRandom, type Random } from '../../core/random.js';
import { processServerSecurity } from '../../core/security-context.js';
import type { ServiceHandle } from '../../core/service.js';
import { DfsClient } from '../../dfs/index.js';
import { DiscoveryClient, RegistrationAgent } from '../../registry/index.js';
import { startMasterGrpc } from '../grpc/master-server.js';
import type { JobEvents } from './events.js';
import { registerFaultToleranceRoutes } from './ft-routes.js';
import { MASTER_ROLE, masterSettings, type MasterConfig } from './config.js';
import { MapReduceMaster } from './master.js';
import { createMasterMetrics } from './metrics.js';
import { registerJobRoutes } from './routes.js';
import { MasterStore } from './store.js';
import type { JobView } from './views.js';
import { WorkerRpc } from './worker-rpc.js';

/** A running master. */
export interface MasterHandle extends ServiceHandle {
  readonly master: MapReduceMaster;
  /** `host:port` of the gRPC services. */
  readonly grpcAddress: string;
  /** The job event stream (for the MQTT bridge and in-process subscribers). */
  readonly events: JobEvents;
  /** Submits a job spec (validated); what the MQTT bridge calls for `tessera/jobs/submit`. */
  submitJob(spec: unknown): Promise<JobView>;
}

/** Starts the MapReduce master. */
export async function startMaster(
  config: MasterConfig,
  deps: { logger: Logger; clock?: Clock; random?: Random },
): Promise<MasterHandle> {
  const logger = deps.logger;
  const store = new MasterStore(join(config.dataDir, 'master.db'));
  const app = await createHttpServer({
    name: MASTER_ROLE,
    logger,
    description:
      'MapReduce master: jobs, tasks, workers, fault tolerance (retries, breakers, DLQ).',
    bodyLimitBytes: 8 * 1024 * 1024,
  });
  // The DFS master is a single peer with no alternative: a breaker held open for the default
  // 60 s after a short outage would refuse every job long after the DFS is back (chaos, seed 2).
  const http = new HttpClient({
    registry: app.metrics.registry,
    timeoutMs: 30_000,
    breaker: { openMs: 5_000 },
  });
  const discovery = new DiscoveryClient({ registryUrl: config.registryUrl, http });
  const dfs = new DfsClient({
    ...(config.metaUrl ? { metaUrl: config.metaUrl } : {}),
    discovery,
    http,
  });
  const metrics = createMasterMetrics(app.metrics.registry);
  const master = new MapReduceMaster(
    store,
    dfs,
    masterSettings(config),
    deps.clock ?? systemClock,
    deps.random ?? systemRandom,
    logger,
    metrics.observer,
  );
  master.restore();
  metrics.attach(master);
  const submitJob = async (spec: unknown, token?: string): Promise<JobView> => {
    await authorizeSubmission(token);
    return master.submit(spec);
  };
  let bridge: { stop(): Promise<void> } | undefined;
  try {
    bridge = config.mqttUrl
      ? await startMqttBridge(master.events, submitJob, config.mqttUrl, logger)
      : undefined;
  } catch (error) {
    await app.close();
    await http.close();
    store.close();
    throw error;
  }
  registerJobRoutes(app, master);
  registerFaultToleranceRoutes(app, master, metrics.totals);
  const grpcServer = await startMasterGrpc(
    master,
    new WorkerRpc(master),
    config.host,
    config.grpcPort,
    logger,
  );
  const url = await listen(app, config.host, config.port);
  const host = config.advertiseHost ?? new URL(url).hostname;
  const port = Number(new URL(url).port);
  const grpcAddress = `${host}:${grpcServer.port}`;
  const agent = new RegistrationAgent({
    registryUrl: config.registryUrl,
    role: MASTER_ROLE,
    host,
    port,
    url: `http://${host}:${port}`,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    dataDir: config.dataDir,
    logger,
    ...(config.serverId ? { serverId: config.serverId } : {}),
    metadata: () => ({ grpc: grpcAddress, jobs_running: master.list({ state: 'running' }).length }),
  });
  await agent.start();
  const timer = setInterval(() => master.tick(), config.tickIntervalMs);
  logger.info({ url, grpc: grpcAddress }, 'mapreduce master listening');
  return {
    name: MASTER_ROLE,
    url,
    master,
    grpcAddress,
    events: master.events,
    submitJob,
    async stop() {
      clearInterval(timer);
      master.stop();
      await bridge?.stop();
      await agent.stop();
      await grpcServer.stop();
      await app.close();
      await http.close();
      store.close();
    },
  };
}

/** Starts the MQTT bridge (src/mapreduce/mqtt/, docs/mqtt.md), loaded only when asked for. */
async function startMqttBridge(
  events: JobEvents,
  submitJob: (spec: unknown) => Promise<JobView>,
  url: string,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  const { startMqttBridge: start } = await import('../mqtt/index.js');
  return start(events, submitJob, url, { logger: logger.child({ component: 'mqtt' }) });
}

/**
 * With --auth, a job submitted over MQTT needs the submitter's token in the payload (`token`),
 * with the writer role, checked by the same authorizer as the HTTP and gRPC ports; the broker's
 * own access control only decides who may publish.
 */
async function authorizeSubmission(token: string | undefined): Promise<void> {
  const authorizer = processServerSecurity().authorizer;
  if (authorizer === undefined) return;
  const decision = await authorizer.authorize({
    method: 'POST',
    route: 'mqtt:jobs/submit',
    headers: { authorization: token === undefined ? undefined : `Bearer ${token}` },
    params: {},
    access: { role: 'writer' },
  });
  if (decision.ok) return;
  throw new TesseraError(decision.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', decision.detail);
}
