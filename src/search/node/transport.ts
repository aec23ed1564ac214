/**
 * How a node reaches another one (DESIGN.md rule 4: always through the core HTTP client).
 *
 * Query fan-out (statistics, local search, term vectors, result details) is direct by default
 * (`fanout: 'direct'`: `POST /internal/...` to every node; one HTTP hop per call, which is what
 * a query's latency is made of). With `fanout: 'hypercube'`, the seed's "Flujo 2": a node that
 * is a hypercube neighbour of this one is called directly, any other node through the routing
 * layer (`POST /route` hop by hop, the payload delivered at the destination); if routing finds
 * no live route although the registry lists the destination, the call goes directly over HTTP,
 * the only way left to reach it (docs/search-overlay.md, "Small clusters"). The answers are the
 * same either way.
 *
 * Writes, reads of a document, repair and control traffic (election, balancer) are direct.
 */
import { TesseraError, UnavailableError } from '../../core/errors.js';
import type { HttpClient } from '../../core/http-client.js';
import { areNeighbors, createRouteMessage } from '../hypercube/index.js';
import type { ClusterView } from './cluster-view.js';
import type { Router } from './router.js';

/** The node-to-node query operations, by route payload type. */
export type PeerOp = 'stats' | 'search' | 'term_vectors' | 'details';

/** The direct path of each operation. */
export const PEER_OP_PATHS: Readonly<Record<PeerOp, string>> = {
  stats: '/internal/stats',
  search: '/internal/search',
  term_vectors: '/internal/term-vectors',
  details: '/internal/details',
};

/** How query fan-out reaches non-neighbours. */
export type FanoutMode = 'hypercube' | 'direct';

export interface PeerTransportOptions {
  readonly self: number;
  readonly view: ClusterView;
  readonly http: HttpClient;
  readonly router: Router;
  readonly fanout: FanoutMode;
  /** Timeout of a query call. */
  readonly timeoutMs: number;
  /** Runs an operation on this node, without the network. */
  readonly local: (op: PeerOp, body: Record<string, unknown>) => Promise<unknown>;
}

/** Counters of how calls went out. */
export interface TransportCounters {
  local: number;
  direct: number;
  routed: number;
  routedFallbacks: number;
}

/** The node's way to other nodes. */
export class PeerTransport {
  readonly counters: TransportCounters = { local: 0, direct: 0, routed: 0, routedFallbacks: 0 };

  constructor(private readonly options: PeerTransportOptions) {}

  /** A query operation on `nodeId`: local, direct to a neighbour, or routed through the cube. */
  async call<T>(nodeId: number, op: PeerOp, body: Record<string, unknown>): Promise<T> {
    const { self, fanout } = this.options;
    if (nodeId === self) {
      this.counters.local += 1;
      // Let the calls to the other nodes of the same fan-out go out first: their work then
      // overlaps this node's own.
      await new Promise((resolve) => setImmediate(resolve));
      return (await this.options.local(op, body)) as T;
    }
    if (fanout === 'direct' || areNeighbors(self, nodeId)) {
      this.counters.direct += 1;
      return this.post<T>(nodeId, PEER_OP_PATHS[op], body);
    }
    this.counters.routed += 1;
    try {
      const message = createRouteMessage(self, nodeId, { type: op, ...body });
      const outcome = await this.options.router.route(message);
      return outcome.result as T;
    } catch (error) {
      if (!isUnreachable(error) || this.options.view.urlOf(nodeId) === undefined) throw error;
      this.counters.routedFallbacks += 1;
      return this.post<T>(nodeId, PEER_OP_PATHS[op], body);
    }
  }

  /** POSTs JSON to `nodeId` directly. */
  async post<T>(nodeId: number, path: string, body: unknown, timeoutMs?: number): Promise<T> {
    return this.options.http.postJson<T>(`${this.urlOf(nodeId)}${path}`, body, {
      timeoutMs: timeoutMs ?? this.options.timeoutMs,
      maxRetries: 0,
    });
  }

  /** GETs JSON from `nodeId` directly. */
  async get<T>(nodeId: number, path: string): Promise<T> {
    return this.options.http.getJson<T>(`${this.urlOf(nodeId)}${path}`, {
      timeoutMs: this.options.timeoutMs,
      maxRetries: 0,
    });
  }

  /** DELETEs on `nodeId` directly. */
  async delete<T>(nodeId: number, path: string): Promise<T> {
    return this.options.http.deleteJson<T>(`${this.urlOf(nodeId)}${path}`, {
      timeoutMs: this.options.timeoutMs,
      maxRetries: 0,
    });
  }

  private urlOf(nodeId: number): string {
    const url = this.options.view.urlOf(nodeId);
    if (url === undefined) throw new UnavailableError(`search node ${nodeId} has no known address`);
    return url;
  }
}

function isUnreachable(error: unknown): boolean {
  return error instanceof TesseraError && error.extensions['reason'] === 'unreachable';
}
