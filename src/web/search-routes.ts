import { Type } from '@sinclair/typebox';
import type { HttpClient } from '../core/http-client.js';
import type { HttpApp } from '../core/http-server.js';
import { SEARCH_NODE_ROLE, type SearchResponse } from '../search/index.js';
import type {
  SearchClusterView,
  SearchNodeView,
  SearchSummary,
  SearchView,
  WireBalancerStats,
  WireSearchAnswer,
  WireSearchStatus,
  WireServer,
} from './api-types.js';
import { buildCubeView } from './hypercube-view.pure.js';
import type { NodeWatcher } from './node-watcher.js';
import { section } from './peer-errors.js';
import type { RoleCaller, RoleSpec } from './service-calls.js';

/** Search nodes, as the messages name them. */
export const SEARCH_NODES: RoleSpec = { role: SEARCH_NODE_ROLE, label: 'search node' };

export interface SearchRouteDeps {
  readonly caller: RoleCaller;
  readonly http: HttpClient;
  readonly watcher: NodeWatcher;
  readonly nowMs: () => number;
}

const SearchQuery = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: 1_000, description: 'The query text' }),
    k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  },
  { additionalProperties: false },
);

const tags = ['web-search'];

/** Status reads fail fast: a silent node is drawn dead, the page does not wait for it. */
const quick = { timeoutMs: 2_500, maxRetries: 0 } as const;

/**
 * The Search page's API: `GET /api/search` sends the query to any live search node (each
 * coordinates a whole distributed search), failing over to the next; `GET /api/search/cluster`
 * reads every registered node's `/status` and the leader's `/balancer/stats` and derives the
 * hypercube drawing.
 */
export function registerSearchRoutes(app: HttpApp, deps: SearchRouteDeps): void {
  app.get(
    '/api/search',
    {
      schema: {
        tags,
        summary: 'Search the cluster (through any live search node, with failover)',
        querystring: SearchQuery,
      },
    },
    async (request) => {
      const params = new URLSearchParams({ q: request.query.q });
      if (request.query.k !== undefined) params.set('k', String(request.query.k));
      if (request.query.offset !== undefined) params.set('offset', String(request.query.offset));
      const { value, answeredBy } = await deps.caller.call(SEARCH_NODES, (server) =>
        deps.http.getJson<SearchResponse>(`${server.url}/search?${params.toString()}`, {
          timeoutMs: 10_000,
          maxRetries: 0,
        }),
      );
      const answer: WireSearchAnswer = value;
      const view: SearchView = { ...answer, answered_by: answeredBy };
      return view;
    },
  );

  app.get(
    '/api/search/cluster',
    {
      schema: { tags, summary: 'Search nodes, the hypercube, the leader and the balancer stats' },
    },
    async () => readSearchCluster(deps),
  );
}

/** Every registered search node with its status, the cube, and the balancer's figures. */
export async function readSearchCluster(deps: SearchRouteDeps): Promise<SearchClusterView> {
  const snapshot = await deps.watcher.readNow();
  const nodes = await section(async () => {
    if (!snapshot.servers.ok) throw new Error(snapshot.servers.error);
    const records = snapshot.servers.data.servers.filter((s) => s.role === SEARCH_NODES.role);
    return Promise.all(records.map((record) => readNode(deps.http, record)));
  });
  const cube = nodes.ok ? buildCubeView(nodes.data) : null;
  const statuses = nodes.ok
    ? nodes.data.flatMap((node) => (node.status.ok ? [node.status.data] : []))
    : [];
  const balancer = await section(async () => {
    if (!nodes.ok) throw new Error(`the registry did not list the search nodes: ${nodes.error}`);
    if (statuses.length === 0) throw new Error('no search node answered');
    const leader = statuses.find((status) => status.node_id === cube?.leader_id);
    const leaderUrl = leader?.url ?? statuses.find((s) => s.leader_url)?.leader_url ?? null;
    if (leaderUrl === null) throw new Error('no leader is elected yet');
    return readBalancer(deps.http, leaderUrl, statuses);
  });
  return { generated_at_ms: deps.nowMs(), nodes, cube, balancer };
}

async function readNode(http: HttpClient, record: WireServer): Promise<SearchNodeView> {
  const nodeId = record.metadata['node_id'];
  return {
    server_id: record.server_id,
    url: record.url,
    registry_status: record.status,
    node_id: typeof nodeId === 'number' && Number.isSafeInteger(nodeId) ? nodeId : null,
    status:
      record.status === 'active'
        ? await section(() => http.getJson<WireSearchStatus>(`${record.url}/status`, quick))
        : { ok: false, error: 'inactive in the registry: its heartbeats stopped' },
  };
}

/**
 * The balancer's stats from the leader; when the leader does not answer, from another node
 * (a follower forwards the read to the leader it knows). At most two tries.
 */
async function readBalancer(
  http: HttpClient,
  leaderUrl: string,
  statuses: readonly WireSearchStatus[],
): Promise<{ leader_url: string; stats: WireBalancerStats }> {
  const others = statuses.map((status) => status.url).filter((url) => url !== leaderUrl);
  const failures: string[] = [];
  for (const url of [leaderUrl, ...others.slice(0, 1)]) {
    try {
      const stats = await http.getJson<WireBalancerStats>(`${url}/balancer/stats`, quick);
      return { leader_url: leaderUrl, stats };
    } catch (error) {
      failures.push(error instanceof Error ? error.message : String(error));
    }
  }
  throw new Error(`the balancer did not answer: ${failures.join('; ')}`);
}

/** The Overview's search figures, from any live search node and the leader's balancer. */
export async function readSearchSummary(deps: SearchRouteDeps): Promise<SearchSummary> {
  const { value: status, answeredBy } = await deps.caller.call(SEARCH_NODES, (server) =>
    deps.http.getJson<WireSearchStatus>(`${server.url}/status`, quick),
  );
  let stats: WireBalancerStats | null = null;
  let balancerError: string | null = null;
  try {
    const url = status.leader_url ?? answeredBy.url;
    stats = await deps.http.getJson<WireBalancerStats>(`${url}/balancer/stats`, quick);
  } catch (error) {
    balancerError = error instanceof Error ? error.message : String(error);
  }
  return {
    nodes_live: status.live_nodes.length,
    leader_id: status.leader_id,
    dimensions: status.dimensions,
    documents: stats?.doc_count ?? null,
    terms: stats?.total_terms ?? null,
    balancer_error: balancerError,
  };
}
