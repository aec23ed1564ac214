import { systemClock, type Clock } from '../core/clock.js';
import { option, type ConfigOf, type ConfigSchema } from '../core/config.js';
import { HttpClient } from '../core/http-client.js';
import { createHttpServer, listen } from '../core/http-server.js';
import type { Logger } from '../core/logger.js';
import { processServerSecurity, type ServerSecurity } from '../core/security-context.js';
import {
  commonServiceOptions,
  registeredServiceOptions,
  type ServiceHandle,
} from '../core/service.js';
import { DfsClient } from '../dfs/index.js';
import { DiscoveryClient, RegistrationAgent } from '../registry/index.js';
import { registerApiRoutes } from './api-routes.js';
import { registerFileRoutes } from './file-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { MetricsSampler } from './metrics-sampler.js';
import { NodeWatcher } from './node-watcher.js';
import { registerSearchRoutes } from './search-routes.js';
import { RoleCaller } from './service-calls.js';
import { registerSessionRoutes, SESSION_COOKIE } from './session-routes.js';
import { defaultStaticDirs, findStaticDir, registerStaticFiles } from './static-files.js';

/** The dashboard server's options. */
export const webConfigSchema = {
  ...commonServiceOptions({ name: 'web', defaultPort: 8080, portEnv: ['TESSERA_WEB_PORT'] }),
  ...registeredServiceOptions(),
  metaUrl: option.optionalUrl({
    flag: 'meta',
    env: ['TESSERA_META_URL'],
    defaultValue: undefined,
    description: 'URL of the DFS metadata master (default: found in the registry, role dfs-meta).',
  }),
  sampleIntervalMs: option.durationMs({
    flag: 'sample-interval',
    env: ['TESSERA_WEB_SAMPLE_INTERVAL'],
    defaultValue: 3_000,
    description: "How often the services' /metrics are scraped for the charts.",
  }),
  chartWindowMs: option.durationMs({
    flag: 'chart-window',
    env: ['TESSERA_WEB_CHART_WINDOW'],
    defaultValue: 10 * 60_000,
    description: 'How much history the charts keep.',
  }),
  staticDir: option.optionalString({
    flag: 'static-dir',
    env: ['TESSERA_WEB_STATIC_DIR'],
    defaultValue: undefined,
    description: 'Directory of the built app (default: dist/web/public of this installation).',
    valueName: '<dir>',
  }),
  uploadTimeoutMs: option.durationMs({
    flag: 'upload-timeout',
    env: ['TESSERA_WEB_UPLOAD_TIMEOUT'],
    defaultValue: 60 * 60_000,
    description: 'Longest time a browser may take to send one request (an upload).',
  }),
} satisfies ConfigSchema;

export type WebConfig = ConfigOf<typeof webConfigSchema>;

export interface WebHandle extends ServiceHandle {
  readonly watcher: NodeWatcher;
  readonly sampler: MetricsSampler;
}

/**
 * Starts the dashboard (issue 6): the built single-page app and its API under `/api`, which
 * finds the registry's servers, the DFS master, the search nodes, the MapReduce master and
 * every service's metrics through the registry. It registers itself with role `web`. With
 * `--auth`, users sign in with their own token, kept in a session cookie (session-routes.ts).
 */
export async function startWeb(
  config: WebConfig,
  deps: { logger: Logger; clock?: Clock; security?: ServerSecurity },
): Promise<WebHandle> {
  const clock = deps.clock ?? systemClock;
  const security = deps.security ?? processServerSecurity();
  const app = await createHttpServer({
    name: 'web',
    logger: deps.logger,
    description: 'The Tessera dashboard: the single-page app and its API.',
    requestTimeoutMs: config.uploadTimeoutMs,
    security,
    authCookie: SESSION_COOKIE,
  });
  registerSessionRoutes(app, {
    authorizer: security.authorizer,
    secureCookie: security.tls !== undefined,
    nowMs: () => clock.nowMs(),
  });
  // Short breaker pauses: the dashboard should see a restarted service again within seconds.
  const http = new HttpClient({
    registry: app.metrics.registry,
    timeoutMs: 10_000,
    maxRetries: 1,
    breaker: { openMs: 2_000, successThreshold: 1 },
  });
  const dfsHttp = new HttpClient({
    timeoutMs: 60_000,
    connectionsPerOrigin: 16,
    breaker: { openMs: 5_000 },
  });
  const discovery = new DiscoveryClient({
    registryUrl: config.registryUrl,
    http,
    cacheTtlMs: 3_000,
  });
  const dfs = new DfsClient({
    discovery,
    http: dfsHttp,
    ...(config.metaUrl ? { metaUrl: config.metaUrl } : {}),
  });
  const watcher = new NodeWatcher({
    registryUrl: config.registryUrl,
    http,
    clock,
    logger: deps.logger,
  });
  const sampler = new MetricsSampler({
    http,
    clock,
    logger: deps.logger,
    // The registry is not in its own table: it is scraped at the URL this server was given.
    targets: () => [
      { server_id: 'registry', role: 'registry', url: config.registryUrl },
      ...watcher.activeServers(),
    ],
    intervalMs: config.sampleIntervalMs,
    windowMs: config.chartWindowMs,
  });
  const caller = new RoleCaller(discovery);
  registerApiRoutes(app, {
    watcher,
    sampler,
    dfs,
    http,
    clock,
    caller,
    registryUrl: config.registryUrl,
  });
  registerSearchRoutes(app, { caller, http, watcher, nowMs: () => clock.nowMs() });
  registerJobRoutes(app, { caller, http });
  await registerFileRoutes(app, dfs);
  const staticDir = findStaticDir(config.staticDir ? [config.staticDir] : defaultStaticDirs());
  await registerStaticFiles(app, staticDir, deps.logger);

  const url = await listen(app, config.host, config.port);
  const port = Number(new URL(url).port);
  const host = config.advertiseHost ?? new URL(url).hostname;
  const agent = new RegistrationAgent({
    registryUrl: config.registryUrl,
    role: 'web',
    host,
    port,
    url: `http://${host}:${port}`,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    dataDir: config.dataDir,
    logger: deps.logger,
    ...(config.serverId ? { serverId: config.serverId } : {}),
    metadata: () => ({ live_streams: watcher.subscriberCount }),
  });
  watcher.start();
  await Promise.race([
    watcher.ready(),
    new Promise((resolve) => setTimeout(resolve, 3_000).unref()),
  ]);
  sampler.start();
  await agent.start();
  deps.logger.info({ url, static_dir: staticDir ?? null }, 'web dashboard listening');
  return {
    name: 'web',
    url,
    watcher,
    sampler,
    async stop() {
      await agent.stop();
      await sampler.stop();
      await watcher.stop();
      await app.close();
      await dfs.close();
      await Promise.all([http.close(), dfsHttp.close()]);
    },
  };
}
