/**
 * The datanode service (`tessera datanode`; dfs-architecture.md, "DataNode"): the chunk store
 * behind its HTTP API, the heartbeat to the metadata master, the registration in the registry
 * (role `datanode`) and the background scrubber, wired together and stopped together.
 *
 * Chunks live in `<data-dir>/chunks/` as `{chunk_id}.chunk` + `{chunk_id}.checksum`; the
 * registry id is kept in `<data-dir>/server-id` and is also the node id unless `--node-id`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/clock.js';
import {
  ConfigError,
  option,
  parseBytes,
  type ConfigOf,
  type ConfigSchema,
  type OptionSpec,
} from '../../core/config.js';
import { HttpClient } from '../../core/http-client.js';
import { createHttpServer, listen, type HttpApp } from '../../core/http-server.js';
import type { Logger } from '../../core/logger.js';
import {
  commonServiceOptions,
  registeredServiceOptions,
  type ServiceHandle,
} from '../../core/service.js';
import { DiscoveryClient, RegistrationAgent, stableServerId } from '../../registry/index.js';
import { loadKeyFile, type KeyRing } from '../../security/encryption.js';
import { isValidChunkId, type ChunkId } from '../meta/types.js';
import { ChunkStore } from './chunk-store.js';
import { HeartbeatLoop, type DatanodeHeartbeat } from './heartbeat.js';
import { DatanodeState } from './node-state.js';
import { createDatanodeMetrics, type DatanodeMetrics } from './metrics.js';
import { healthFigures, registerDatanodeRoutes } from './routes.js';
import { Scrubber, type ScrubPassReport } from './scrubber.js';

/** Sub-directory of `--data-dir` holding the chunk files. */
export const CHUNK_DIR = 'chunks';
/** The registry role of datanodes, and the one of the master they look for. */
export const DATANODE_ROLE = 'datanode';
export const META_ROLE = 'dfs-meta';

const nonNegativeNumber = (raw: string): number => {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError('expected a number >= 0');
  }
  return value;
};

const scrubRate: OptionSpec<number> = {
  flag: 'scrub-rate',
  env: ['TESSERA_SCRUB_RATE'],
  defaultValue: 20,
  valueName: '<MB/s>',
  description: 'Rate at which the background scrubber re-reads chunks, in MB/s (0 turns it off).',
  parse: nonNegativeNumber,
};

const capacity: OptionSpec<number | undefined> = {
  flag: 'capacity',
  env: ['TESSERA_CAPACITY'],
  defaultValue: undefined,
  valueName: '<size>',
  description: 'Cap on the total space advertised to the master, e.g. 10GiB (default: the disk).',
  parse: parseBytes,
};

/** The datanode's options: the common ones, the registration ones and its own. */
export const datanodeConfigSchema = {
  ...commonServiceOptions({
    name: 'datanode',
    defaultPort: 9201,
    portEnv: ['TESSERA_DATANODE_PORT'],
  }),
  ...registeredServiceOptions(),
  metaUrl: option.optionalUrl({
    flag: 'meta',
    env: ['TESSERA_META_URL'],
    defaultValue: undefined,
    description: `URL of the metadata master (default: found in the registry, role ${META_ROLE}).`,
  }),
  nodeId: option.optionalString({
    flag: 'node-id',
    env: ['TESSERA_NODE_ID'],
    defaultValue: undefined,
    description: 'Id of this datanode at the master (default: its registry server id).',
    valueName: '<id>',
  }),
  rack: option.optionalString({
    flag: 'rack',
    env: ['TESSERA_RACK'],
    defaultValue: undefined,
    description: 'Rack of this datanode; the master spreads replicas over racks.',
    valueName: '<name>',
  }),
  scrubRateMBps: scrubRate,
  scrubIntervalMs: option.durationMs({
    flag: 'scrub-interval',
    env: ['TESSERA_SCRUB_INTERVAL'],
    defaultValue: 3_600_000,
    description: 'Pause between two scrubbing passes over every chunk.',
  }),
  capacityBytes: capacity,
  maxChunkBytes: option.bytes({
    flag: 'max-chunk-size',
    env: ['TESSERA_MAX_CHUNK_SIZE'],
    defaultValue: 1024 ** 3,
    showDefault: '1GiB',
    description: 'Largest chunk accepted; a bigger PUT answers 413.',
  }),
  encrypt: option.boolean({
    flag: 'encrypt',
    env: ['TESSERA_ENCRYPT'],
    defaultValue: false,
    description: 'Encrypt new chunks at rest with AES-256-GCM, with the newest key of --key-file.',
  }),
  keyFile: option.optionalString({
    flag: 'key-file',
    env: ['TESSERA_KEY_FILE'],
    defaultValue: undefined,
    description:
      'File of named 256-bit keys, one "<id> <base64>" per line; the last encrypts new chunks, every one reads the chunks written with it.',
    valueName: '<file>',
  }),
} satisfies ConfigSchema;

export type DatanodeConfig = ConfigOf<typeof datanodeConfigSchema>;

/** A running datanode; tests run it in-process through this handle. */
export interface DatanodeHandle extends ServiceHandle {
  readonly nodeId: string;
  /** The URL given to the master and the registry (`--advertise-host` or the listen URL). */
  readonly advertisedUrl: string;
  readonly store: ChunkStore;
  readonly state: DatanodeState;
  /** Sends a heartbeat to the master now; true when it answered. */
  heartbeatNow(): Promise<boolean>;
  /** The heartbeat body as it would be sent now (re-reads the disk). */
  heartbeatBody(): Promise<DatanodeHeartbeat>;
  /** Runs one scrubbing pass now (even when background scrubbing is off). */
  scrubOnce(): Promise<ScrubPassReport>;
}

/** What `startDatanode` needs besides its configuration. */
export interface DatanodeDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
}

/** Starts a datanode: store, HTTP API, registration, heartbeats to the master, scrubber. */
export async function startDatanode(
  config: DatanodeConfig,
  deps: DatanodeDeps,
): Promise<DatanodeHandle> {
  const { logger } = deps;
  const serverId = config.serverId ?? stableServerId(DATANODE_ROLE, config.dataDir);
  const nodeId = config.nodeId ?? serverId;
  const chunkDir = join(config.dataDir, CHUNK_DIR);
  await mkdir(chunkDir, { recursive: true });
  let reportCorrupt = (_id: ChunkId, _source: 'read' | 'scrub', _reason?: string): void => {};
  const keys = loadKeys(config);
  const store = await ChunkStore.open(chunkDir, {
    maxChunkBytes: config.maxChunkBytes,
    onCorrupt: (id, reason) => reportCorrupt(id, 'read', reason),
    ...(keys === undefined ? {} : { encryption: { keys, encryptWrites: config.encrypt } }),
  });
  if (keys !== undefined) {
    const newest = keys.newest().id;
    logger.info(
      { encrypt: config.encrypt, keys: keys.keys.length, newest_key: newest },
      'chunk keys loaded',
    );
  }
  const state = new DatanodeState(store, config.capacityBytes);
  await state.refresh();
  const app = await createHttpServer({
    name: 'datanode',
    logger,
    description: 'DFS datanode: stores checksummed chunks and streams them.',
    requestTimeoutMs: 15 * 60_000,
    health: () => healthFigures({ state, nodeId }),
  });
  const metrics = createDatanodeMetrics(app.metrics.registry, state);
  reportCorrupt = (id, source, reason) => {
    metrics.corruptFound.inc({ source });
    if (state.markCorrupt(id)) {
      logger.error({ chunk_id: id, source, reason }, 'corrupt chunk; reporting it to the master');
    }
  };
  const http = new HttpClient({ registry: app.metrics.registry, timeoutMs: 30_000 });
  const heartbeatHttp = heartbeatClient(config.heartbeatIntervalMs, app);
  try {
    const ctx = {
      store,
      state,
      http,
      nodeId,
      maxChunkBytes: config.maxChunkBytes,
      metrics,
      logger,
    };
    registerDatanodeRoutes(app, ctx);
    const url = await listen(app, config.host, config.port);
    const advertised = advertisedAddress(url, config.advertiseHost);
    const parts = { config, deps, store, state, metrics, nodeId, serverId, heartbeatHttp };
    const running = startBackground(parts, advertised, reportCorrupt);
    await running.agent.start();
    running.heartbeat.start();
    if (running.scrubInBackground) running.scrubber.start();
    logger.info(
      { url, advertised_url: advertised.url, node_id: nodeId, data_dir: config.dataDir },
      'datanode listening',
    );
    return handle(parts, { url, advertised }, running, app, http);
  } catch (error) {
    await app.close();
    await Promise.all([http.close(), heartbeatHttp.close()]);
    throw error;
  }
}

/** The key ring of `--key-file`; `--encrypt` without one is a configuration error. */
function loadKeys(config: DatanodeConfig): KeyRing | undefined {
  if (config.keyFile === undefined) {
    if (config.encrypt) throw new ConfigError('--encrypt needs --key-file');
    return undefined;
  }
  try {
    return loadKeyFile(config.keyFile);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`--key-file ${config.keyFile}: ${reason}`);
  }
}

interface Parts {
  readonly config: DatanodeConfig;
  readonly deps: DatanodeDeps;
  readonly store: ChunkStore;
  readonly state: DatanodeState;
  readonly metrics: DatanodeMetrics;
  readonly nodeId: string;
  readonly serverId: string;
  readonly heartbeatHttp: HttpClient;
}

interface Advertised {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

interface Background {
  readonly agent: RegistrationAgent;
  readonly heartbeat: HeartbeatLoop;
  readonly scrubber: Scrubber;
  readonly scrubInBackground: boolean;
  readonly buildBody: () => Promise<DatanodeHeartbeat>;
}

/** The heartbeat loop is its own retry: no retries inside, a breaker that reopens each interval. */
function heartbeatClient(intervalMs: number, app: HttpApp): HttpClient {
  return new HttpClient({
    registry: app.metrics.registry,
    maxRetries: 0,
    timeoutMs: Math.max(2_000, Math.min(intervalMs, 10_000)),
    breaker: { openMs: intervalMs, successThreshold: 1 },
    connectionsPerOrigin: 2,
  });
}

function advertisedAddress(listenUrl: string, advertiseHost: string | undefined): Advertised {
  const parsed = new URL(listenUrl);
  const port = Number(parsed.port);
  if (advertiseHost === undefined) {
    return { url: listenUrl, host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  }
  const shown = advertiseHost.includes(':') ? `[${advertiseHost}]` : advertiseHost;
  return { url: `http://${shown}:${port}`, host: advertiseHost, port };
}

/** Builds the registration agent, the master heartbeat and the scrubber (not yet started). */
function startBackground(
  parts: Parts,
  advertised: Advertised,
  reportCorrupt: (id: ChunkId, source: 'read' | 'scrub') => void,
): Background {
  const { config, state, nodeId, deps } = parts;
  const rack = config.rack ?? null;
  const startedAtMs = (deps.clock ?? systemClock).nowMs();
  const agent = new RegistrationAgent({
    registryUrl: config.registryUrl,
    role: DATANODE_ROLE,
    host: advertised.host,
    port: advertised.port,
    url: advertised.url,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    serverId: parts.serverId,
    dataDir: config.dataDir,
    logger: deps.logger,
    metadata: () => {
      const space = state.space();
      return {
        node_id: nodeId,
        rack,
        free_space: space.freeBytes,
        total_space: space.totalBytes,
        chunk_count: space.chunkCount,
      };
    },
  });
  const buildBody = async (): Promise<DatanodeHeartbeat> => {
    const chunkIds = await state.refresh();
    const space = state.space();
    return {
      node_id: nodeId,
      url: advertised.url,
      host: advertised.host,
      port: advertised.port,
      rack,
      free_space: space.freeBytes,
      total_space: space.totalBytes,
      chunk_ids: chunkIds,
      corrupt_chunk_ids: state.corruptChunkIds(),
      load: state.load(),
      started_at_ms: startedAtMs,
    };
  };
  const heartbeat = masterHeartbeat(parts, buildBody);
  const scrubber = new Scrubber(parts.store, {
    // 0 means "off"; the scrubber still serves `scrubOnce()`, then unthrottled.
    rateBytesPerSecond: config.scrubRateMBps > 0 ? config.scrubRateMBps * 1e6 : Infinity,
    passIntervalMs: config.scrubIntervalMs,
    clock: deps.clock ?? systemClock,
    onCorrupt: (id) => reportCorrupt(id, 'scrub'),
    onError: (error) => deps.logger.warn({ err: error }, 'scrubbing pass failed'),
  });
  return { agent, heartbeat, scrubber, scrubInBackground: config.scrubRateMBps > 0, buildBody };
}

/** The heartbeat loop to the master (`--meta`, or role `dfs-meta` in the registry). */
function masterHeartbeat(parts: Parts, buildBody: () => Promise<DatanodeHeartbeat>): HeartbeatLoop {
  const { config, deps, heartbeatHttp } = parts;
  const fixedUrl = config.metaUrl;
  const discovery =
    fixedUrl === undefined
      ? new DiscoveryClient({
          registryUrl: config.registryUrl,
          http: heartbeatHttp,
          cacheTtlMs: Math.max(config.heartbeatIntervalMs, 5_000),
          strategy: 'first',
        })
      : undefined;
  return new HeartbeatLoop({
    intervalMs: config.heartbeatIntervalMs,
    http: heartbeatHttp,
    logger: deps.logger,
    locateMaster: async () =>
      discovery === undefined ? (fixedUrl ?? '') : (await discovery.select(META_ROLE)).url,
    onMasterFailure: () => discovery?.invalidate(),
    buildBody,
    onReply: async (reply) => deleteChunks(parts, reply.delete_chunk_ids),
    onOutcome: (outcome) => parts.metrics.heartbeats.inc({ outcome }),
  });
}

/** Deletes what the master asked for, a few at a time; ids that are not chunk ids are skipped. */
async function deleteChunks(parts: Parts, ids: readonly string[]): Promise<void> {
  const valid = ids.filter(isValidChunkId);
  if (valid.length < ids.length) {
    parts.deps.logger.warn({ count: ids.length - valid.length }, 'master sent invalid chunk ids');
  }
  let deleted = 0;
  for (let i = 0; i < valid.length; i += 8) {
    const batch = valid.slice(i, i + 8).map(async (id) => {
      if (await parts.store.deleteChunk(id)) deleted += 1;
      parts.state.recordDelete(id);
    });
    await Promise.all(batch);
  }
  if (valid.length > 0) {
    parts.deps.logger.info({ asked: valid.length, deleted }, 'deleted chunks the master let go');
  }
}

function handle(
  parts: Parts,
  addresses: { url: string; advertised: Advertised },
  running: Background,
  app: HttpApp,
  http: HttpClient,
): DatanodeHandle {
  return {
    name: 'datanode',
    url: addresses.url,
    advertisedUrl: addresses.advertised.url,
    nodeId: parts.nodeId,
    store: parts.store,
    state: parts.state,
    heartbeatNow: () => running.heartbeat.beatNow(),
    heartbeatBody: running.buildBody,
    scrubOnce: () => running.scrubber.scrubOnce(),
    async stop() {
      await running.scrubber.stop();
      await running.heartbeat.stop();
      await running.agent.stop();
      await app.close();
      await Promise.all([http.close(), parts.heartbeatHttp.close()]);
    },
  };
}
