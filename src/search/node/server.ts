/**
 * `tessera search-node`: one DistriSearch node (distrisearch-architecture.md, "Nodo
 * Distribuido"): the HTTP API, the local inverted index (durable), the hypercube routing, the
 * Bully election, and the data balancer while it leads. See docs/search.md for the flows.
 */
import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.js';
import {
  ConfigError,
  option,
  type ConfigOf,
  type ConfigSchema,
  type OptionSpec,
} from '../../core/config.js';
import { UnavailableError } from '../../core/errors.js';
import { HttpClient } from '../../core/http-client.js';
import { createHttpServer, listen } from '../../core/http-server.js';
import type { Logger } from '../../core/logger.js';
import {
  commonServiceOptions,
  registeredServiceOptions,
  type ServiceHandle,
} from '../../core/service.js';
import { RegistrationAgent, type ServerList } from '../../registry/index.js';
import {
  BalancerSnapshotStore,
  DEFAULT_DEAD_AFTER_MS,
  DEFAULT_LOCATE_CACHE_SIZE,
  DEFAULT_SNAPSHOT_INTERVAL_MS,
  DEFAULT_SNAPSHOTS_KEPT,
  registerBalancerRoutes,
} from '../balancer/index.js';
import { DEFAULT_ELECTION_CONFIG } from '../election/index.js';
import { binaryId, DEFAULT_DIMENSIONS, isValidDimensions, isValidId } from '../hypercube/index.js';
import { IndexStore } from '../index/index.js';
import { BalancerLink } from './balancer-link.js';
import { ClusterView, peersFromServers, SEARCH_NODE_ROLE } from './cluster-view.js';
import { createNodeMetrics, type NodeContext } from './context.js';
import { ElectionDriver } from './election-driver.js';
import { registerInternalRoutes } from './internal-routes.js';
import { JoinAllocator, joinCluster, readStoredNodeId, storeNodeId } from './join.js';
import { LocalNode } from './local-node.js';
import { deliverPayload, runLocalOp } from './operations.js';
import { Departures } from './departures.js';
import { DeparturesFile, loadDepartures } from './departures-file.js';
import { Repairer } from './repair.js';
import { Router } from './router.js';
import { FeedbackCache } from './feedback-cache.js';
import { GlobalStatsCache } from './stats-cache.js';
import { registerPublicRoutes } from './routes.js';
import { PeerTransport, type FanoutMode } from './transport.js';

const optionalNodeId: OptionSpec<number | undefined> = {
  flag: 'node-id',
  env: ['NODE_ID', 'TESSERA_SEARCH_NODE_ID'],
  defaultValue: undefined,
  showDefault: 'kept from the last run, else the lowest free id from the leader',
  description: 'Hypercube id of this node, in [0, 2^dimensions).',
  valueName: '<n>',
  parse: (raw) => {
    if (raw.trim() === '') return undefined;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new ConfigError('expected an integer >= 0');
    return value;
  },
};

/** The search node's options (flags > environment > defaults). */
export const searchNodeConfigSchema = {
  ...commonServiceOptions({
    name: 'search-node',
    defaultPort: 9301,
    portEnv: ['TESSERA_SEARCH_PORT'],
  }),
  ...registeredServiceOptions(),
  nodeId: optionalNodeId,
  dimensions: option.int({
    flag: 'dimensions',
    env: ['TESSERA_SEARCH_DIMENSIONS'],
    defaultValue: DEFAULT_DIMENSIONS,
    description: 'Bits of a hypercube id (the cube has 2^d slots).',
  }),
  replicas: option.int({
    flag: 'replicas',
    env: ['TESSERA_SEARCH_REPLICAS'],
    defaultValue: 2,
    description: 'Copies of every document (k), on the k first nodes of its rendezvous order.',
  }),
  electionHeartbeatMs: option.durationMs({
    flag: 'election-heartbeat',
    env: ['TESSERA_SEARCH_ELECTION_HEARTBEAT'],
    defaultValue: DEFAULT_ELECTION_CONFIG.heartbeatIntervalMs,
    description: 'How often the leader sends HEARTBEAT to every node.',
  }),
  leaderTimeoutMs: option.durationMs({
    flag: 'leader-timeout',
    env: ['TESSERA_SEARCH_LEADER_TIMEOUT'],
    defaultValue: DEFAULT_ELECTION_CONFIG.leaderTimeoutMs,
    description: 'Silence of the leader after which a node starts an election.',
  }),
  okTimeoutMs: option.durationMs({
    flag: 'ok-timeout',
    env: ['TESSERA_SEARCH_OK_TIMEOUT'],
    defaultValue: DEFAULT_ELECTION_CONFIG.okTimeoutMs,
    description: 'How long a candidate waits for an OK from a higher id.',
  }),
  coordinatorTimeoutMs: option.durationMs({
    flag: 'coordinator-timeout',
    env: ['TESSERA_SEARCH_COORDINATOR_TIMEOUT'],
    defaultValue: DEFAULT_ELECTION_CONFIG.coordinatorTimeoutMs,
    description: 'How long a candidate that got an OK waits for the COORDINATOR.',
  }),
  balancerHeartbeatMs: option.durationMs({
    flag: 'balancer-heartbeat',
    env: ['TESSERA_SEARCH_BALANCER_HEARTBEAT'],
    defaultValue: 5_000,
    description: 'How often a node sends its figures to the leader’s balancer.',
  }),
  balancerDeadAfterMs: option.durationMs({
    flag: 'balancer-dead-after',
    env: ['TESSERA_SEARCH_BALANCER_DEAD_AFTER'],
    defaultValue: DEFAULT_DEAD_AFTER_MS,
    description: 'Silence after which the balancer leaves a node out of locate answers.',
  }),
  balancerSnapshotIntervalMs: option.durationMs({
    flag: 'balancer-snapshot-interval',
    env: ['TESSERA_SEARCH_BALANCER_SNAPSHOT_INTERVAL'],
    defaultValue: DEFAULT_SNAPSHOT_INTERVAL_MS,
    description: 'How often the leader snapshots its balancer (when it changed).',
  }),
  balancerSnapshotsKept: option.int({
    flag: 'balancer-snapshots-kept',
    env: ['TESSERA_SEARCH_BALANCER_SNAPSHOTS_KEPT'],
    defaultValue: DEFAULT_SNAPSHOTS_KEPT,
    description: 'Balancer snapshots kept on disk.',
  }),
  locateCacheSize: option.int({
    flag: 'locate-cache-size',
    env: ['TESSERA_SEARCH_LOCATE_CACHE_SIZE'],
    defaultValue: DEFAULT_LOCATE_CACHE_SIZE,
    description: 'Terms in the leader’s LRU cache of locate answers (0 disables it).',
  }),
  fanout: option.choice<FanoutMode>({
    flag: 'fanout',
    env: ['TESSERA_SEARCH_FANOUT'],
    defaultValue: 'direct',
    choices: ['hypercube', 'direct'] as const,
    description:
      'Query fan-out: every node directly, or neighbours directly and the rest through hypercube routing.',
  }),
  queryTimeoutMs: option.durationMs({
    flag: 'query-timeout',
    env: ['TESSERA_SEARCH_QUERY_TIMEOUT'],
    defaultValue: 5_000,
    description: 'Timeout of one node-to-node query call; a node that misses it is skipped.',
  }),
  writeTimeoutMs: option.durationMs({
    flag: 'write-timeout',
    env: ['TESSERA_SEARCH_WRITE_TIMEOUT'],
    defaultValue: 15_000,
    description:
      'Timeout of one node-to-node write (up to 500 documents, durable on the answer); an owner that misses it is suspected and the next node takes the copy.',
  }),
  suspectMs: option.durationMs({
    flag: 'suspect-timeout',
    env: ['TESSERA_SEARCH_SUSPECT_TIMEOUT'],
    defaultValue: 5_000,
    description: 'How long a node that failed a call is left out before it is tried again.',
  }),
  repairDelayMs: option.durationMs({
    flag: 'repair-delay',
    env: ['TESSERA_SEARCH_REPAIR_DELAY'],
    defaultValue: 2_000,
    description: 'Quiet time after a change of the live nodes before re-replication runs.',
  }),
  repairIntervalMs: option.durationMs({
    flag: 'repair-interval',
    env: ['TESSERA_SEARCH_REPAIR_INTERVAL'],
    defaultValue: 30_000,
    description: 'How often re-replication retries while something is left to do.',
  }),
  indexSnapshotEvery: option.int({
    flag: 'index-snapshot-every',
    env: ['TESSERA_SEARCH_INDEX_SNAPSHOT_EVERY'],
    defaultValue: 10_000,
    description: 'Logged operations between snapshots of the local index.',
  }),
} satisfies ConfigSchema;

export type SearchNodeConfig = ConfigOf<typeof searchNodeConfigSchema>;

/** A running search node. */
export interface SearchNodeHandle extends ServiceHandle {
  readonly nodeId: number;
  /** The node's parts (for in-process tests and tools). */
  readonly context: NodeContext;
}

function checkConfig(config: SearchNodeConfig): void {
  if (!isValidDimensions(config.dimensions) || config.dimensions < 1)
    throw new ConfigError(`--dimensions must be between 1 and 30, got ${config.dimensions}`);
  if (config.replicas < 1) throw new ConfigError('--replicas must be at least 1');
  if (config.nodeId !== undefined && !isValidId(config.nodeId, config.dimensions))
    throw new ConfigError(`--node-id ${config.nodeId} is not an id of a ${config.dimensions}-cube`);
}

/** Refuses an id that another live server already uses. */
async function checkIdFree(
  http: HttpClient,
  config: SearchNodeConfig,
  nodeId: number,
  serverId: string,
): Promise<void> {
  const list = await http
    .getJson<ServerList>(`${config.registryUrl}/servers/active?role=${SEARCH_NODE_ROLE}`, {
      timeoutMs: 5_000,
      maxRetries: 1,
    })
    .catch(() => undefined);
  const holder = list === undefined ? undefined : peersFromServers(list.servers).get(nodeId);
  if (holder !== undefined && holder.serverId !== serverId)
    throw new ConfigError(
      `node id ${nodeId} is already used by ${holder.serverId} at ${holder.url}`,
    );
}

/** Starts a search node. */
export async function startSearchNode(
  config: SearchNodeConfig,
  deps: { logger: Logger; clock?: Clock },
): Promise<SearchNodeHandle> {
  checkConfig(config);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger;
  const store = await IndexStore.open(join(config.dataDir, 'index'), {
    snapshotEveryOps: config.indexSnapshotEvery,
    onBackgroundError: (error) => logger.warn({ err: error }, 'index snapshot failed'),
  });
  let context: NodeContext | undefined;
  const node = (): NodeContext => {
    if (context === undefined) throw new UnavailableError('this search node is still starting');
    return context;
  };
  const app = await createHttpServer({
    name: 'search-node',
    logger,
    description:
      'DistriSearch node: documents, distributed search, hypercube routing, Bully leader, data balancer.',
    bodyLimitBytes: 16 * 1024 * 1024,
    health: () => ({ node_id: context?.self ?? null, doc_count: store.index.docCount }),
  });
  const snapshots = new BalancerSnapshotStore({
    dataDir: config.dataDir,
    keep: config.balancerSnapshotsKept,
    clock,
  });
  registerPublicRoutes(app, node);
  registerInternalRoutes(app, node);
  registerBalancerRoutes(
    app,
    () => context?.balancer.balancer,
    (request, reply) => node().balancer.notLeader(request, reply),
    {
      clock,
      snapshots,
    },
  );
  const listenedUrl = await listen(app, config.host, config.port);
  const port = Number(new URL(listenedUrl).port);
  const host = config.advertiseHost ?? new URL(listenedUrl).hostname;
  const url = `http://${host}:${port}`;
  const http = new HttpClient({
    registry: app.metrics.registry,
    maxRetries: 0,
    timeoutMs: config.queryTimeoutMs,
    connectionsPerOrigin: 16,
    breaker: { failureThreshold: 3, openMs: 1_000, successThreshold: 1 },
  });
  // Control traffic (election messages, balancer reports, the registry) has its own client:
  // its short timeouts must not open the breakers that query and write traffic relies on.
  const controlHttp = new HttpClient({
    registry: app.metrics.registry,
    maxRetries: 0,
    connectionsPerOrigin: 4,
    breaker: { failureThreshold: 1_000_000 },
  });
  try {
    const self =
      config.nodeId ??
      readStoredNodeId(config.dataDir) ??
      (await joinCluster({
        registryUrl: config.registryUrl,
        url,
        http: controlHttp,
        logger,
        deadlineMs: 60_000,
      }));
    if (!isValidId(self, config.dimensions))
      throw new ConfigError(`node id ${self} is not an id of a ${config.dimensions}-cube`);
    storeNodeId(config.dataDir, self);
    const agent = new RegistrationAgent({
      registryUrl: config.registryUrl,
      role: SEARCH_NODE_ROLE,
      host,
      port,
      url,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      dataDir: config.dataDir,
      logger,
      ...(config.serverId === undefined ? {} : { serverId: config.serverId }),
      metadata: () => ({
        node_id: self,
        binary_id: binaryId(self, config.dimensions),
        dimensions: config.dimensions,
      }),
    });
    await checkIdFree(controlHttp, config, self, agent.serverId);
    const departedBefore = await loadDepartures(config.dataDir, logger);
    if (departedBefore.length > 0) {
      logger.warn({ departed: departedBefore }, 'peers recorded as departed before this start');
    }
    context = buildContext(config, {
      departedBefore,
      self,
      url,
      clock,
      logger,
      http,
      controlHttp,
      store,
      snapshots,
      registry: app.metrics.registry,
    });
    const ctx = context;
    const departuresFile = new DeparturesFile(config.dataDir, logger, departedBefore);
    ctx.departures.onChange = (uncovered) => void departuresFile.save(uncovered);
    await agent.start();
    await ctx.view.start();
    ctx.departures.liveChanged(ctx.view.liveIds());
    ctx.view.onChange(() => {
      ctx.departures.liveChanged(ctx.view.liveIds());
      ctx.repairer.markDirty();
    });
    ctx.election.start();
    ctx.balancer.start();
    ctx.repairer.start();
    logger.info(
      {
        url,
        node_id: self,
        binary_id: binaryId(self, config.dimensions),
        docs: store.index.docCount,
      },
      'search node listening',
    );
    return {
      name: 'search-node',
      url,
      nodeId: self,
      context: ctx,
      async stop() {
        ctx.election.stop();
        await ctx.repairer.stop();
        await ctx.balancer.stop();
        await agent.stop();
        await ctx.view.stop();
        await app.close();
        await http.close();
        await controlHttp.close();
        await store.close();
      },
    };
  } catch (error) {
    await app.close();
    await http.close();
    await controlHttp.close();
    await store.close();
    throw error;
  }
}

interface Parts {
  self: number;
  url: string;
  clock: Clock;
  logger: Logger;
  http: HttpClient;
  controlHttp: HttpClient;
  store: IndexStore;
  snapshots: BalancerSnapshotStore;
  registry: import('prom-client').Registry;
  /** Peers recorded as departed when the node last ran (departures-file.ts). */
  departedBefore: readonly number[];
}

/** Wires the node's parts together. */
function buildContext(config: SearchNodeConfig, parts: Parts): NodeContext {
  const { self, url, clock, logger, http } = parts;
  const local = new LocalNode(self, parts.store);
  const view = new ClusterView({
    self,
    selfUrl: url,
    registryUrl: config.registryUrl,
    http: parts.controlHttp,
    clock,
    logger,
    suspectMs: config.suspectMs,
  });
  const router = new Router({
    self,
    dimensions: config.dimensions,
    view,
    http,
    timeoutMs: config.queryTimeoutMs,
    deliver: async (payload) => deliverPayload(ctx, payload),
  });
  const transport = new PeerTransport({
    self,
    view,
    http,
    router,
    fanout: config.fanout,
    timeoutMs: config.queryTimeoutMs,
    local: async (op, body) => runLocalOp(ctx, op, body),
  });
  const election: ElectionDriver = new ElectionDriver({
    self,
    clock,
    logger,
    config: {
      okTimeoutMs: config.okTimeoutMs,
      coordinatorTimeoutMs: config.coordinatorTimeoutMs,
      heartbeatIntervalMs: config.electionHeartbeatMs,
      leaderTimeoutMs: config.leaderTimeoutMs,
    },
    peers: () => view.knownIds(),
    send: async (msg) => {
      const peerUrl = view.urlOf(msg.to);
      if (peerUrl === undefined) throw new Error(`no address for node ${msg.to}`);
      await parts.controlHttp.postJson(
        `${peerUrl}/election`,
        { ...msg, url },
        {
          timeoutMs: Math.max(200, Math.min(config.okTimeoutMs, 2_000)),
          maxRetries: 0,
        },
      );
    },
    onLeaderChanged: (leaderId) => balancer.leaderChanged(leaderId),
    onCoordinator: () => balancer.requestFull(),
  });
  const balancer = new BalancerLink({
    self,
    selfUrl: url,
    local,
    view,
    http: parts.controlHttp,
    clock,
    logger,
    leader: () => election.leaderId,
    snapshots: parts.snapshots,
    heartbeatMs: config.balancerHeartbeatMs,
    deadAfterMs: config.balancerDeadAfterMs,
    cacheSize: config.locateCacheSize,
    snapshotIntervalMs: config.balancerSnapshotIntervalMs,
    timeoutMs: config.queryTimeoutMs,
  });
  const chunkDocs = 500;
  const departures = new Departures(config.replicas, [], parts.departedBefore);
  const repairer = new Repairer({
    self,
    k: config.replicas,
    local,
    view,
    logger,
    delayMs: config.repairDelayMs,
    intervalMs: config.repairIntervalMs,
    chunkDocs,
    onClean: (live) => departures.repairedOver(live),
    transport: {
      missing: async (nodeId, docIds) =>
        (await transport.post<{ missing: string[] }>(nodeId, '/internal/have', { doc_ids: docIds }))
          .missing,
      store: async (nodeId, docs) => {
        await transport.post(nodeId, '/internal/docs', { documents: docs }, 60_000);
      },
    },
  });
  const ctx: NodeContext = {
    self,
    url,
    dimensions: config.dimensions,
    replicas: config.replicas,
    clock,
    logger,
    http,
    local,
    view,
    election,
    balancer,
    transport,
    router,
    repairer,
    departures,
    joins: new JoinAllocator(config.dimensions, Math.max(10_000, config.heartbeatIntervalMs * 3)),
    statsCache: new GlobalStatsCache(),
    feedbackCache: new FeedbackCache(),
    metrics: createNodeMetrics(parts.registry),
    chunkDocs,
    writeTimeoutMs: config.writeTimeoutMs,
  };
  return ctx;
}
