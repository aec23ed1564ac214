/**
 * Search benchmark (issue 4, "Benchmark"), in one run on a local cluster of real processes
 * (`tessera registry` + 4 `tessera search-node`, default settings, k = 2 copies):
 *
 * 1. relevance on Cranfield (title + text, graded qrels): nDCG@10, MAP, P@10 of Tessera through
 *    the cluster (documents bulk-indexed with `POST /docs`, every query through `GET /search`),
 *    next to MiniSearch and SQLite FTS5 `bm25()` on the same fields and the published figures;
 *    and the check that the cluster ranks exactly as one node holding every document
 *    (bench/search-relevance.ts's index, every ranking variant);
 * 2. bulk-indexing rate into the cluster (Cranfield, then a generated Zipf collection);
 * 3. query latency p50/p99 over all queries, sequential, after a warm-up pass (and, first, one
 *    pass where every query goes to a node that has not coordinated it before);
 * 4. leader failover: SIGKILL the leader; time until the survivors agree on a new one (their
 *    `GET /status`) and until searches answer completely again.
 *
 * Run: `npm run bench -- search [--data=DIR] [--synthetic=20000] [--batch=1000]
 * [--in-flight=4] [--latency-passes=1] [--profile]`. `--profile` adds passes on fresh clusters:
 * nodes under `--cpu-prof` for queries and for bulk indexing (where the nodes' time went), and
 * `--fanout hypercube` against the default direct fan-out, query by query (docs/benchmarks.md).
 */
import { join } from 'node:path';
import { DEFAULT_ELECTION_CONFIG } from '../src/search/election/index.js';
import { ROOT } from './lib/child-service.js';
import {
  numberOption,
  RESULTS_DIR,
  type BenchContext,
  type BenchReport,
  type Benchmark,
} from './lib/harness.js';
import { clusterRouteCounters, routeShares, type RouteShare } from './lib/search-anatomy.js';
import { BenchSearchCluster, type SearchParams } from './lib/search-cluster.js';
import {
  indexInProcess,
  runFts5,
  runMiniSearch,
  runSingleNode,
  variantParams,
} from './lib/search-engines.js';
import {
  bulkIndex,
  clusterRun,
  differingQueries,
  measureFailover,
  measureAfterWrite,
  measureLatency,
  measureStatusLatency,
  type LatencyResult,
} from './lib/search-phases.js';
import { profilePasses } from './lib/search-profile-passes.js';
import { buildSearchReport, type SearchRun, type VariantResult } from './lib/search-report.js';
import { DEFAULT_SYNTHETIC, syntheticDocuments } from './lib/search-synthetic.js';
import {
  evaluate,
  loadCranfield,
  toStored,
  VARIANTS,
  type CranfieldQuery,
  type Qrels,
  type Run,
} from './search-relevance.js';

const NODES = 4;
/** The default pipeline (BM25 + proximity + RM3) is measured first and at depth 1000. */
const DEFAULT_VARIANT = 'bm25+proximity+rm3';

interface Settings {
  dataDir: string;
  syntheticDocs: number;
  batchSize: number;
  inFlight: number;
  latencyPasses: number;
}

function settingsOf(context: BenchContext): Settings {
  const data = context.options['data'];
  return {
    dataDir: typeof data === 'string' ? data : join(ROOT, '..', 'shared', 'data', 'cranfield'),
    syntheticDocs: numberOption(context.options, 'synthetic', DEFAULT_SYNTHETIC.docs),
    batchSize: numberOption(context.options, 'batch', 1_000),
    inFlight: numberOption(context.options, 'in-flight', 4),
    latencyPasses: numberOption(context.options, 'latency-passes', 1),
  };
}

/** Every variant, the default pipeline first (depth 1000), the others at depth 10. */
async function compareVariants(
  cluster: BenchSearchCluster,
  queries: readonly CranfieldQuery[],
  qrels: Qrels,
  single: Map<string, Run>,
  context: BenchContext,
): Promise<VariantResult[]> {
  const ordered = [...VARIANTS].sort(
    ([a], [b]) => Number(b === DEFAULT_VARIANT) - Number(a === DEFAULT_VARIANT),
  );
  const results: VariantResult[] = [];
  for (const [name, options] of ordered) {
    const depth = name === DEFAULT_VARIANT ? 1000 : 10;
    context.log(`cluster: ${queries.length} queries, ${name}, k = ${depth}`);
    const clustered = await clusterRun(cluster, queries, depth, variantParams(options));
    const singleRun = single.get(name) ?? new Map<string, string[]>();
    const truncated: Run = new Map(
      [...singleRun].map(([id, ranked]) => [id, ranked.slice(0, depth)]),
    );
    results.push({
      name,
      single: evaluate(singleRun, qrels),
      cluster: evaluate(clustered.run, qrels),
      clusterDepth: depth,
      differingTop10: differingQueries(clustered.run, singleRun, 10).length,
      differingFullDepth: differingQueries(clustered.run, truncated, depth).length,
      partialAnswers: clustered.partialAnswers,
      seconds: clustered.seconds,
    });
  }
  return results;
}

/** The ranking passes whose latency is measured, by label. */
const LATENCY_PASSES: readonly (readonly [string, SearchParams])[] = [
  ['search (default pipeline)', {}],
  ['search, BM25 only (no proximity, no RM3)', { feedback: false, proximity: false }],
];
/** The pass of queries new to their coordinator (its caches have not seen them). */
const NEW_QUERY_PASS = 'search (default pipeline), each query new to its coordinator';

/**
 * Sequential latency of every query (k = 10) after one warm-up pass, per ranking pass, with the
 * node-to-node requests each query caused; then bare `GET /status` round trips for the floor.
 * First, one pass of the default pipeline with every query sent to a node that has not
 * coordinated it before: the cost of a query when the coordinator's caches cannot answer it.
 */
async function measureQueryLatency(
  cluster: BenchSearchCluster,
  queries: readonly CranfieldQuery[],
  passes: number,
): Promise<{ latency: Record<string, LatencyResult>; anatomy: Record<string, RouteShare[]> }> {
  const latency: Record<string, LatencyResult> = {};
  const anatomy: Record<string, RouteShare[]> = {};
  const beforeNew = await clusterRouteCounters(cluster);
  const fresh = await measureLatency(cluster, queries, {}, 0, 1, 1);
  anatomy[NEW_QUERY_PASS] = routeShares(
    beforeNew,
    await clusterRouteCounters(cluster),
    queries.length,
  );
  for (const [label, params] of LATENCY_PASSES) {
    await measureLatency(cluster, queries, params, 1, 0);
    const before = await clusterRouteCounters(cluster);
    latency[label] = await measureLatency(cluster, queries, params, 0, passes);
    const after = await clusterRouteCounters(cluster);
    anatomy[label] = routeShares(before, after, queries.length * passes);
  }
  latency[NEW_QUERY_PASS] = fresh;
  latency['GET /status (one HTTP round trip)'] = await measureStatusLatency(
    cluster,
    queries.length,
  );
  return { latency, anatomy };
}

/**
 * On the larger index: BM25 queries when nothing changed, then each right after a one-document
 * write (the first query after a change of a node's index or of the live set pays for
 * refreshing the node's statistics).
 */
async function measureWriteEffect(
  cluster: BenchSearchCluster,
  queries: readonly CranfieldQuery[],
  docs: number,
): Promise<Record<string, LatencyResult>> {
  const bm25 = { feedback: false, proximity: false };
  const sample = queries.slice(0, 40);
  return {
    [`search, BM25 only, ${docs} docs, nothing written`]: await measureLatency(
      cluster,
      sample,
      bm25,
      1,
      1,
    ),
    [`same, each right after a 1-doc write (CPU incl. the write)`]: await measureAfterWrite(
      cluster,
      sample,
      bm25,
      sample.length,
    ),
  };
}

/** A run longer than this is stuck: it is ended (its child processes die with it). */
const WATCHDOG_MS = 20 * 60_000;

async function run(context: BenchContext): Promise<BenchReport> {
  const watchdog = setTimeout(() => {
    context.log(`stuck: no result after ${WATCHDOG_MS / 60_000} min; giving up`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  try {
    return await runPhases(context);
  } finally {
    clearTimeout(watchdog);
  }
}

async function runPhases(context: BenchContext): Promise<BenchReport> {
  const settings = settingsOf(context);
  const { docs, queries, qrels } = loadCranfield(settings.dataDir);
  context.log(`Cranfield: ${docs.length} docs, ${queries.length} queries; peers in process`);
  const minisearch = evaluate(runMiniSearch(docs, queries), qrels);
  const fts5 = evaluate(runFts5(docs, queries), qrels);
  const single = runSingleNode(docs, queries, VARIANTS);
  const synthetic = syntheticDocuments({ ...DEFAULT_SYNTHETIC, docs: settings.syntheticDocs });
  const inProcess = indexInProcess(synthetic.map((doc) => ({ metadata: {}, ...doc })));
  context.log(`one in-process index: ${Math.round(inProcess.docsPerS)} docs/s`);

  context.log(`starting a registry and ${NODES} search nodes`);
  const cluster = new BenchSearchCluster(NODES);
  let result: SearchRun;
  try {
    await cluster.start();
    const cranfieldIndexing = await bulkIndex(cluster, docs.map(toStored), 500, 2);
    context.log(`indexed Cranfield: ${Math.round(cranfieldIndexing.docsPerS)} docs/s`);
    const variants = await compareVariants(cluster, queries, qrels, single, context);
    context.log('latency');
    const { latency, anatomy } = await measureQueryLatency(
      cluster,
      queries,
      settings.latencyPasses,
    );
    context.log(`bulk indexing ${synthetic.length} generated documents`);
    const syntheticIndexing = await bulkIndex(
      cluster,
      synthetic,
      settings.batchSize,
      settings.inFlight,
    );
    const statuses = await Promise.all(cluster.running().map((id) => cluster.status(id)));
    context.log('queries right after a write');
    Object.assign(
      latency,
      await measureWriteEffect(cluster, queries, docs.length + synthetic.length),
    );
    context.log('failover: SIGKILL the leader');
    const failover = await measureFailover(cluster, queries[0]?.text ?? 'flow', {
      settleMs: 2_000,
      timeoutMs: 30_000,
    });
    result = {
      nodes: NODES,
      queries: queries.length,
      minisearch,
      fts5,
      variants,
      cranfieldIndexing,
      syntheticIndexing,
      inProcessIndexing: { docs: synthetic.length, ...inProcess },
      storedCopies: statuses.reduce((sum, status) => sum + status.doc_count, 0),
      expectedCopies: 2 * (docs.length + synthetic.length),
      latency,
      anatomy,
      electionHeartbeatMs: DEFAULT_ELECTION_CONFIG.heartbeatIntervalMs,
      failover,
    };
  } finally {
    await cluster.stop();
  }
  const report = buildSearchReport(result);
  if (context.options['profile'] !== true) return report;
  const profiled = await profilePasses(
    join(RESULTS_DIR, 'tmp', 'search-profiles'),
    { nodes: NODES, docs: docs.map(toStored), queries, synthetic, settings },
    context,
  );
  return {
    ...report,
    figures: { ...report.figures, profiles: profiled.figures },
    tables: [...report.tables, ...profiled.tables],
  };
}

/** The search benchmark, for bench/run.ts. */
export const benchmark: Benchmark = {
  name: 'search',
  description:
    'Cranfield relevance on a 4-node cluster vs MiniSearch and FTS5; bulk indexing; latency; failover',
  run,
};
