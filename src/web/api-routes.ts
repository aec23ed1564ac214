import type { Clock } from '../core/clock.js';
import type { HttpClient } from '../core/http-client.js';
import { TESSERA_VERSION, type HttpApp } from '../core/http-server.js';
import type { DfsClient, NodeInfo } from '../dfs/index.js';
import type {
  DatanodesView,
  DfsStats,
  NodesSnapshot,
  Overview,
  WebInfo,
  WireDatanode,
} from './api-types.js';
import { readJobsSummary } from './job-routes.js';
import type { MetricsSampler } from './metrics-sampler.js';
import type { NodeWatcher } from './node-watcher.js';
import { section } from './peer-errors.js';
import { readSearchSummary } from './search-routes.js';
import type { RoleCaller } from './service-calls.js';

export interface ApiRouteDeps {
  readonly watcher: NodeWatcher;
  readonly sampler: MetricsSampler;
  readonly dfs: DfsClient;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly registryUrl: string;
  /** Reaches the search nodes and the MapReduce master found in the registry. */
  readonly caller: RoleCaller;
  /** Time between keep-alive comments on event streams. */
  readonly keepAliveMs?: number;
}

const tags = ['web'];

/** The dashboard's read API: overview, node table (JSON and live stream), datanodes, metrics. */
export function registerApiRoutes(app: HttpApp, deps: ApiRouteDeps): void {
  app.get('/api/info', { schema: { tags, summary: 'The dashboard server itself' } }, async () => {
    const info: WebInfo = {
      version: TESSERA_VERSION,
      registry_url: deps.registryUrl,
    };
    return info;
  });

  app.get(
    '/api/overview',
    {
      schema: { tags, summary: 'Nodes, storage and file figures, search and job figures' },
    },
    async () => {
      const services = { caller: deps.caller, http: deps.http };
      // Each part is read at once and on its own: a slow or dead service costs only its part.
      const [nodes, dfs, search, jobs] = await Promise.all([
        deps.watcher.readNow(),
        section(async () => {
          const metaUrl = await deps.dfs.metaUrl();
          const [stats, datanodes] = await Promise.all([
            deps.http.getJson<DfsStats>(`${metaUrl}/api/v1/stats`, quick),
            readDatanodes(deps.http, metaUrl),
          ]);
          return { meta_url: metaUrl, stats, datanodes };
        }),
        section(() =>
          readSearchSummary({
            ...services,
            watcher: deps.watcher,
            nowMs: () => deps.clock.nowMs(),
          }),
        ),
        section(() => readJobsSummary(services)),
      ]);
      const overview: Overview = {
        generated_at_ms: deps.clock.nowMs(),
        nodes,
        dfs,
        search,
        jobs,
      };
      return overview;
    },
  );

  app.get(
    '/api/nodes',
    { schema: { tags, summary: "The registry's table (every status)" } },
    async () => deps.watcher.latest(),
  );

  app.get(
    '/api/nodes/events',
    { schema: { tags, summary: "The registry's table as server-sent events, one per change" } },
    async (request, reply) => {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (snapshot: NodesSnapshot): void => {
        raw.write(`event: nodes\ndata: ${JSON.stringify(snapshot)}\n\n`);
      };
      raw.write('retry: 2000\n\n');
      send(deps.watcher.latest());
      const unsubscribe = deps.watcher.subscribe(send);
      const keepAlive = setInterval(
        () => raw.write(': keep-alive\n\n'),
        deps.keepAliveMs ?? 15_000,
      );
      request.raw.once('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
      });
    },
  );

  app.get(
    '/api/dfs/nodes',
    { schema: { tags, summary: 'Datanodes as the DFS master sees them' } },
    async () => {
      const view: DatanodesView = await section(async () => {
        const metaUrl = await deps.dfs.metaUrl();
        return { meta_url: metaUrl, datanodes: await readDatanodes(deps.http, metaUrl) };
      });
      return view;
    },
  );

  app.get(
    '/api/metrics',
    { schema: { tags, summary: 'Request rate, latency and throughput per role' } },
    async () => deps.sampler.view(),
  );
}

/** Dashboard reads fail fast: a slow service shows as failing, the page does not hang. */
const quick = { timeoutMs: 3_000, maxRetries: 0 } as const;

async function readDatanodes(http: HttpClient, metaUrl: string): Promise<WireDatanode[]> {
  const { nodes } = await http.getJson<{ nodes: NodeInfo[] }>(`${metaUrl}/api/v1/nodes`, quick);
  return nodes satisfies WireDatanode[];
}
