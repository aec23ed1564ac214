/**
 * The search benchmark's figures, targets and tables (issue 4, "Benchmark"): relevance next to
 * the peers and the published figures, distributed = single-node ranking, bulk-indexing rate,
 * query latency and leader failover.
 */
import type { Metrics } from '../search-relevance.js';
import { round, type BenchReport } from './harness.js';
import { anatomyTable, type RouteShare } from './search-anatomy.js';
import type { FailoverResult, IndexingResult, LatencyResult } from './search-phases.js';
import type { Table } from './table.js';

/** nDCG@10 of engines measured elsewhere on Cranfield, title + text (issue 4). */
export const PUBLISHED_NDCG10: Readonly<Record<string, number>> = {
  'Lucene 8 BM25': 0.3695,
  'SQLite FTS5': 0.3622,
  Xapian: 0.3501,
  MiniSearch: 0.3121,
};

/** The targets. */
export const TARGETS = {
  indexingDocsPerS: 5_000,
  queryP50Ms: 5,
  queryP99Ms: 25,
  /** "A new leader within a few heartbeat intervals": read as at most 5 election heartbeats. */
  failoverHeartbeats: 5,
} as const;

/** One ranking variant: single node (depth 1000) next to the cluster. */
export interface VariantResult {
  readonly name: string;
  readonly single: Metrics;
  readonly cluster: Metrics;
  /** Depth the cluster was asked for (1000 for the default pipeline, else 10). */
  readonly clusterDepth: number;
  /** Queries whose top 10 differ from the single node's (ids and order). */
  readonly differingTop10: number;
  /** Queries whose whole answer (to the cluster depth) differs. */
  readonly differingFullDepth: number;
  readonly partialAnswers: number;
  readonly seconds: number;
}

/** Everything one run measured. */
export interface SearchRun {
  readonly nodes: number;
  readonly queries: number;
  readonly minisearch: Metrics;
  readonly fts5: Metrics;
  /** The default pipeline first. */
  readonly variants: readonly VariantResult[];
  readonly cranfieldIndexing: IndexingResult;
  readonly syntheticIndexing: IndexingResult;
  /** The same generated documents into one in-memory index of the benchmark process. */
  readonly inProcessIndexing: { docs: number; seconds: number; docsPerS: number };
  /** Sum of `doc_count` over the nodes after indexing, and what k copies would give. */
  readonly storedCopies: number;
  readonly expectedCopies: number;
  readonly latency: Readonly<Record<string, LatencyResult>>;
  /** Node-to-node requests per query, by latency pass. */
  readonly anatomy: Readonly<Record<string, readonly RouteShare[]>>;
  readonly electionHeartbeatMs: number;
  readonly failover: FailoverResult;
}

const fixed = (value: number | undefined, digits = 4): string =>
  value === undefined ? '-' : value.toFixed(digits);
const ms = (value: number | undefined): string =>
  value === undefined ? 'never' : `${Math.round(value)} ms`;

function relevanceTable(run: SearchRun): Table {
  const main = run.variants[0];
  const rows: (string | number)[][] = Object.entries(PUBLISHED_NDCG10).map(([name, ndcg]) => [
    `${name} (published)`,
    fixed(ndcg),
    '',
    '',
  ]);
  rows.push(['MiniSearch 7 (default options), measured', ...metricsCells(run.minisearch)]);
  rows.push(['SQLite FTS5 bm25(), porter unicode61, measured', ...metricsCells(run.fts5)]);
  if (main) {
    rows.push([`Tessera single node (${main.name})`, ...metricsCells(main.single)]);
    rows.push([`Tessera ${run.nodes}-node cluster (${main.name})`, ...metricsCells(main.cluster)]);
  }
  return {
    title: `relevance on Cranfield (${run.queries} queries, title + text, graded qrels)`,
    columns: ['engine', 'nDCG@10', 'MAP', 'P@10'],
    rows,
  };
}

function metricsCells(metrics: Metrics): string[] {
  return [fixed(metrics.ndcg10), fixed(metrics.map), fixed(metrics.p10)];
}

function variantsTable(run: SearchRun): Table {
  return {
    title: 'distributed = single-node ranking, per ranking variant',
    columns: [
      'variant',
      'single nDCG@10',
      'single MAP',
      'cluster nDCG@10',
      'cluster MAP',
      'depth',
      'top-10 differ',
      'depth differ',
      'partial',
      's',
    ],
    rows: run.variants.map((v) => [
      v.name,
      fixed(v.single.ndcg10),
      fixed(v.single.map),
      fixed(v.cluster.ndcg10),
      v.clusterDepth >= 1000 ? fixed(v.cluster.map) : '-',
      v.clusterDepth,
      v.differingTop10,
      v.differingFullDepth,
      v.partialAnswers,
      round(v.seconds, 1),
    ]),
  };
}

function indexingTable(run: SearchRun): Table {
  const row = (name: string, r: IndexingResult): (string | number)[] => [
    name,
    r.docs,
    r.batchSize,
    r.inFlight,
    round(r.seconds, 2),
    Math.round(r.docsPerS),
    round(r.nodeCpuMs / 1000, 1),
    Math.round(r.docsPerCpuS),
    round(r.otherCores, 2),
  ];
  return {
    title: `bulk indexing through POST /docs (k = 2 copies; stored copies ${run.storedCopies} of ${run.expectedCopies})`,
    columns: [
      'collection',
      'docs',
      'batch',
      'in flight',
      's',
      'docs/s',
      'node CPU s',
      'docs per CPU s',
      'other cores',
    ],
    rows: [
      row('Cranfield (into an empty cluster)', run.cranfieldIndexing),
      row('synthetic Zipf collection', run.syntheticIndexing),
      [
        'same, one in-memory index in process (1 copy)',
        run.inProcessIndexing.docs,
        '',
        '',
        round(run.inProcessIndexing.seconds, 2),
        Math.round(run.inProcessIndexing.docsPerS),
        '',
        '',
        '',
      ],
    ],
  };
}

function latencyTable(run: SearchRun): Table {
  return {
    title: 'query latency, sequential, k = 10, after warm-up (client round trip; took_ms = node)',
    columns: [
      'request',
      'n',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'took p50',
      'took p99',
      'node CPU ms/query',
      'other cores',
    ],
    rows: Object.entries(run.latency).map(([name, l]) => [
      name,
      l.queries,
      round(l.p50Ms, 2),
      round(l.p90Ms, 2),
      round(l.p99Ms, 2),
      round(l.maxMs, 1),
      round(l.serverP50Ms, 2),
      round(l.serverP99Ms, 2),
      round(l.nodeCpuMsPerQuery, 2),
      round(l.otherCores, 2),
    ]),
  };
}

function failoverTable(run: SearchRun): Table {
  const f = run.failover;
  return {
    title: `leader failover: SIGKILL of leader ${f.oldLeader} (election heartbeat ${run.electionHeartbeatMs} ms)`,
    columns: ['event', 'after the kill'],
    rows: [
      ['a survivor names a new leader (GET /status)', ms(f.firstNewLeaderMs)],
      [`every survivor agrees on leader ${f.newLeader ?? '-'}`, ms(f.leaderAgreedMs)],
      ['first complete answer equal to the one before the kill', ms(f.searchesCorrectAgainMs)],
      ['longest stretch without an answer', ms(f.longestGapMs)],
      [
        'slowest search in the window (sent at)',
        `${ms(f.slowestSearchMs)} (${ms(f.slowestSearchSentMs)})`,
      ],
      ['documents re-replicated by the survivors meanwhile', String(f.reReplicatedDocs)],
      [
        'searches: sent / failed / partial / different',
        `${f.searches} / ${f.failedSearches} / ${f.partialSearches} / ${f.wrongSearches}`,
      ],
    ],
  };
}

/** Figures, targets, verdicts and tables of one run. */
export function buildSearchReport(run: SearchRun): BenchReport {
  const main = run.variants[0];
  const clusterNdcg = main?.cluster.ndcg10 ?? 0;
  const bestPeer = Math.max(run.minisearch.ndcg10, run.fts5.ndcg10);
  const bestPublished = Math.max(...Object.values(PUBLISHED_NDCG10));
  const latency = run.latency['search (default pipeline)'];
  const failoverLimitMs = TARGETS.failoverHeartbeats * run.electionHeartbeatMs;
  const f = run.failover;
  const targets = {
    ndcg10AbovePeers: `cluster nDCG@10 > MiniSearch and FTS5 measured here (${fixed(bestPeer)})`,
    ndcg10AbovePublished: `cluster nDCG@10 > every published figure (${fixed(bestPublished)})`,
    distributedEqualsSingleNode:
      'every query: same top 10 (and same list at the asked depth) as one node; same metrics',
    indexingDocsPerS: TARGETS.indexingDocsPerS,
    queryP50Ms: TARGETS.queryP50Ms,
    queryP99Ms: TARGETS.queryP99Ms,
    failoverLeaderMs: `all survivors agree on a new leader within ${TARGETS.failoverHeartbeats} heartbeats (${failoverLimitMs} ms)`,
    failoverSearchesKeepAnswering: 'no failed or wrong search while the leader is replaced',
  };
  const passed = {
    ndcg10AbovePeers: clusterNdcg > bestPeer,
    ndcg10AbovePublished: clusterNdcg > bestPublished,
    distributedEqualsSingleNode: run.variants.every(
      (v) =>
        v.differingTop10 === 0 &&
        v.differingFullDepth === 0 &&
        v.partialAnswers === 0 &&
        v.cluster.ndcg10 === v.single.ndcg10 &&
        (v.clusterDepth < 1000 || v.cluster.map === v.single.map),
    ),
    indexingDocsPerS: run.syntheticIndexing.docsPerS >= TARGETS.indexingDocsPerS,
    queryP50Ms: latency !== undefined && latency.p50Ms <= TARGETS.queryP50Ms,
    queryP99Ms: latency !== undefined && latency.p99Ms <= TARGETS.queryP99Ms,
    failoverLeaderMs: f.leaderAgreedMs !== undefined && f.leaderAgreedMs <= failoverLimitMs,
    failoverSearchesKeepAnswering:
      f.searches > 0 && f.failedSearches === 0 && f.wrongSearches === 0,
  };
  return {
    figures: roundFigures(run),
    targets,
    passed,
    tables: [
      relevanceTable(run),
      variantsTable(run),
      indexingTable(run),
      latencyTable(run),
      anatomyTable(run.anatomy),
      failoverTable(run),
    ],
  };
}

/** The run as JSON, numbers rounded so the file stays readable. */
function roundFigures(run: SearchRun): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(run, (_key, value: unknown) =>
      typeof value === 'number' && !Number.isInteger(value) ? round(value, 4) : value,
    ),
  ) as Record<string, unknown>;
}
