/**
 * The profiled passes of `npm run bench -- search --profile`: fresh clusters whose nodes run
 * with `--cpu-prof`, one per workload (queries of the default pipeline; bulk indexing), and
 * where the nodes' time went during the workload only (startup and shutdown cut out).
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { CranfieldQuery } from '../search-relevance.js';
import type { BenchContext } from './harness.js';
import { BenchSearchCluster, type BenchDocument } from './search-cluster.js';
import { round } from './harness.js';
import { compareFanout } from './search-fanout.js';
import { bulkIndex, measureLatency } from './search-phases.js';
import {
  categoriesTable,
  monotonicUs,
  searchProfile,
  sumCategories,
  type ProcessProfile,
  type ProfileWindow,
} from './search-profile.js';
import type { Table } from './table.js';

/** What the passes need. */
export interface ProfileInput {
  readonly nodes: number;
  readonly docs: readonly BenchDocument[];
  readonly queries: readonly CranfieldQuery[];
  readonly synthetic: readonly BenchDocument[];
  readonly settings: { readonly batchSize: number; readonly inFlight: number };
}

/** Runs a workload on a profiled cluster; answers each node's profile of the workload. */
async function profiled(
  dir: string,
  size: number,
  prepare: (cluster: BenchSearchCluster) => Promise<void>,
  workload: (cluster: BenchSearchCluster) => Promise<void>,
): Promise<ProcessProfile[]> {
  const cluster = new BenchSearchCluster(size, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  let window: ProfileWindow | undefined;
  const pids: number[] = [];
  try {
    await cluster.start();
    pids.push(...cluster.running().map((id) => cluster.pid(id)));
    await prepare(cluster);
    const fromUs = monotonicUs();
    await workload(cluster);
    window = { fromUs, toUs: monotonicUs() };
  } finally {
    await cluster.stop();
  }
  return pids.flatMap((pid) => searchProfile(dir, pid, window) ?? []);
}

function functionsTable(title: string, profiles: readonly ProcessProfile[]): Table {
  const sum = sumCategories(profiles.map((profile) => profile.functions));
  return {
    title,
    columns: ['function (self time, all nodes)', 'ms'],
    rows: Object.entries(sum)
      .slice(0, 15)
      .map(([name, value]) => [name, Math.round(value)]),
  };
}

/** The query pass, the indexing pass and the direct fan-out, as figures and tables. */
export async function profilePasses(
  dir: string,
  input: ProfileInput,
  context: BenchContext,
): Promise<{ figures: Record<string, unknown>; tables: Table[] }> {
  // Profiles of earlier runs are dropped: a run's profiles are ~50 MB.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  context.log(`profiled queries (CPU profiles in ${dir})`);
  const queries = await profiled(
    dir,
    input.nodes,
    async (cluster) => {
      await bulkIndex(cluster, input.docs, 500, 2);
      await measureLatency(cluster, input.queries, {}, 1, 0);
    },
    async (cluster) => {
      await measureLatency(cluster, input.queries, {}, 0, 2);
    },
  );
  context.log('profiled bulk indexing');
  const indexing = await profiled(
    dir,
    input.nodes,
    async () => {},
    async (cluster) => {
      await bulkIndex(cluster, input.synthetic, input.settings.batchSize, input.settings.inFlight);
    },
  );
  context.log('paired latency: hypercube fan-out vs --fanout direct (two clusters)');
  const fanout = await compareFanout(input.nodes, input.docs, input.queries);
  const queryCategories = sumCategories(queries.map((profile) => profile.categories));
  const indexCategories = sumCategories(indexing.map((profile) => profile.categories));
  return {
    figures: { queries: queryCategories, indexing: indexCategories, fanout },
    tables: [
      {
        title: 'query fan-out, paired (each query on both clusters in turn), k = 10, after warm-up',
        columns: ['request', 'fan-out', 'p50 ms', 'p90 ms', 'p99 ms', 'node CPU ms/query'],
        rows: fanout.map((f) => [
          f.pass,
          f.mode,
          round(f.p50Ms, 2),
          round(f.p90Ms, 2),
          round(f.p99Ms, 2),
          round(f.nodeCpuMsPerQuery, 2),
        ]),
      },
      categoriesTable(
        `CPU of ${input.nodes} nodes, 2 sequential passes of ${input.queries.length} queries (default pipeline)`,
        queryCategories,
      ),
      functionsTable('top functions, queries', queries),
      categoriesTable(
        `CPU of ${input.nodes} nodes, bulk indexing of ${input.synthetic.length} documents`,
        indexCategories,
      ),
      functionsTable('top functions, bulk indexing', indexing),
    ],
  };
}
