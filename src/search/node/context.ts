/**
 * Everything a search node's routes and operations share: its identity, its parts, and its
 * counters. Built once by `startSearchNode` (server.ts).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import type { HttpClient } from '../../core/http-client.js';
import type { Logger } from '../../core/logger.js';
import type { BalancerLink } from './balancer-link.js';
import type { ClusterView } from './cluster-view.js';
import type { ElectionDriver } from './election-driver.js';
import type { JoinAllocator } from './join.js';
import type { LocalNode } from './local-node.js';
import type { Departures } from './departures.js';
import type { Repairer } from './repair.js';
import type { Router } from './router.js';
import type { FeedbackCache } from './feedback-cache.js';
import type { GlobalStatsCache } from './stats-cache.js';
import type { PeerTransport } from './transport.js';

/** Prometheus metrics of a search node. */
export interface NodeMetrics {
  readonly searches: Counter<'outcome'>;
  readonly searchSeconds: Histogram;
  /** Rounds of node-to-node requests of the searches coordinated here, by kind. */
  readonly searchRounds: Counter<'kind'>;
  readonly documentsWritten: Counter;
}

/** Creates the node's metrics in the service registry. */
export function createNodeMetrics(registry: Registry): NodeMetrics {
  return {
    searches: new Counter({
      name: 'tessera_search_queries_total',
      help: 'Searches coordinated by this node, by outcome (complete, partial).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    searchSeconds: new Histogram({
      name: 'tessera_search_query_seconds',
      help: 'Latency of searches coordinated by this node.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    searchRounds: new Counter({
      name: 'tessera_search_rounds_total',
      help: 'Fan-out rounds of searches coordinated by this node: scoring (one search request per live node) or stats (a statistics request per live node, for terms not seen before).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    documentsWritten: new Counter({
      name: 'tessera_search_documents_written_total',
      help: 'Documents accepted by POST /doc and POST /docs on this node.',
      registers: [registry],
    }),
  };
}

/** The parts of a running search node. */
export interface NodeContext {
  readonly self: number;
  readonly url: string;
  readonly dimensions: number;
  /** Copies of every document (k). */
  readonly replicas: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Client for node-to-node calls. */
  readonly http: HttpClient;
  readonly local: LocalNode;
  readonly view: ClusterView;
  readonly election: ElectionDriver;
  readonly balancer: BalancerLink;
  readonly transport: PeerTransport;
  readonly router: Router;
  readonly repairer: Repairer;
  /** Peers that left the live set and whether documents may be unreachable (departures.ts). */
  readonly departures: Departures;
  readonly joins: JoinAllocator;
  /** Global statistics seen by this node's coordinators (a checked guess, stats-cache.ts). */
  readonly statsCache: GlobalStatsCache;
  /** RM3 expansions computed by this node's coordinators (checked by version, feedback-cache.ts). */
  readonly feedbackCache: FeedbackCache;
  readonly metrics: NodeMetrics;
  /** Documents per node-to-node write request. */
  readonly chunkDocs: number;
  /** Timeout of a write to an owner (durable indexing of a chunk). */
  readonly writeTimeoutMs: number;
}
