/**
 * The anatomy of a query: the HTTP requests the nodes served for it, by route, and the nodes'
 * own time per route, read from every node's Prometheus `GET /metrics`
 * (`tessera_http_requests_total`, `tessera_http_request_duration_seconds`) before and after a
 * pass of queries. It shows how many node-to-node calls one `GET /search` fans out into.
 */
import type { BenchSearchCluster } from './search-cluster.js';
import type { Table } from './table.js';

/** Requests and summed server seconds per `METHOD route`. */
export type RouteCounters = Map<string, { requests: number; seconds: number }>;

const LINE =
  /^tessera_http_(requests_total|request_duration_seconds_sum)\{([^}]*)\}\s+([0-9.eE+-]+)$/;

/** Parses the request counters and duration sums of one Prometheus text exposition. */
export function parseRouteCounters(text: string, into: RouteCounters = new Map()): RouteCounters {
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const labels = new Map<string, string>();
    for (const label of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) {
      labels.set(label[1] ?? '', label[2] ?? '');
    }
    const key = `${labels.get('method') ?? '?'} ${labels.get('route') ?? '?'}`;
    const entry = into.get(key) ?? { requests: 0, seconds: 0 };
    if (match[1] === 'requests_total') entry.requests += Number(match[3]);
    else entry.seconds += Number(match[3]);
    into.set(key, entry);
  }
  return into;
}

/** The counters of every running node, summed. */
export async function clusterRouteCounters(cluster: BenchSearchCluster): Promise<RouteCounters> {
  const counters: RouteCounters = new Map();
  for (const id of cluster.running()) parseRouteCounters(await cluster.metrics(id), counters);
  return counters;
}

/** One route's share of a pass: requests and server milliseconds per query. */
export interface RouteShare {
  readonly route: string;
  readonly requestsPerQuery: number;
  readonly meanServerMs: number;
}

/** Routes a query uses; election, heartbeat and monitoring traffic is left out. */
const QUERY_ROUTES = /^(GET \/search|POST \/internal\/|POST \/route|GET \/locate)/;

/** What happened between two readings, per query of the pass (query routes only). */
export function routeShares(
  before: RouteCounters,
  after: RouteCounters,
  queries: number,
): RouteShare[] {
  const shares: RouteShare[] = [];
  for (const [route, now] of after) {
    if (!QUERY_ROUTES.test(route)) continue;
    const then = before.get(route) ?? { requests: 0, seconds: 0 };
    const requests = now.requests - then.requests;
    if (requests <= 0) continue;
    shares.push({
      route,
      requestsPerQuery: requests / queries,
      meanServerMs: ((now.seconds - then.seconds) / requests) * 1000,
    });
  }
  return shares.sort((a, b) => b.requestsPerQuery - a.requestsPerQuery);
}

/** A table of the shares of each measured pass. */
export function anatomyTable(passes: Readonly<Record<string, readonly RouteShare[]>>): Table {
  const rows: (string | number)[][] = [];
  for (const [pass, shares] of Object.entries(passes)) {
    const total = shares.reduce((sum, share) => sum + share.requestsPerQuery, 0);
    for (const share of shares) {
      rows.push([
        pass,
        share.route,
        Math.round(share.requestsPerQuery * 100) / 100,
        Math.round(share.meanServerMs * 100) / 100,
      ]);
    }
    rows.push([pass, 'all requests', Math.round(total * 100) / 100, '']);
  }
  return {
    title: 'anatomy of a query: HTTP requests the nodes served per GET /search (from /metrics)',
    columns: ['pass', 'route', 'requests per query', 'mean node ms'],
    rows,
  };
}
