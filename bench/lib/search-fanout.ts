/**
 * Query fan-out through the hypercube (`--fanout hypercube`: neighbours directly, other nodes
 * through `POST /route` relays) against `--fanout direct` (the default), measured in
 * pairs: two clusters run side by side, and each query goes to one and then the other (the
 * order alternating), so that both see the same machine load.
 */
import type { CranfieldQuery } from '../search-relevance.js';
import { BenchSearchCluster, type BenchDocument, type SearchParams } from './search-cluster.js';
import { cpuWindow } from './search-cpu.js';
import { bulkIndex, percentile } from './search-phases.js';

/** One mode's latency in a paired pass. */
export interface FanoutLatency {
  readonly pass: string;
  readonly mode: 'hypercube' | 'direct';
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly nodeCpuMsPerQuery: number;
}

const PASSES: readonly (readonly [string, SearchParams])[] = [
  ['search (default pipeline)', {}],
  ['search, BM25 only', { feedback: false, proximity: false }],
];

/** Times one query on one cluster (k = 10). */
async function timed(
  cluster: BenchSearchCluster,
  entry: number,
  text: string,
  params: SearchParams,
): Promise<number> {
  const startedMs = performance.now();
  await cluster.search(entry, text, { ...params, k: 10 });
  return performance.now() - startedMs;
}

/** Paired latency of both fan-out modes, after a warm-up pass on each. */
export async function compareFanout(
  nodes: number,
  docs: readonly BenchDocument[],
  queries: readonly CranfieldQuery[],
): Promise<FanoutLatency[]> {
  const hypercube = new BenchSearchCluster(nodes, [], ['--fanout', 'hypercube']);
  const direct = new BenchSearchCluster(nodes, [], ['--fanout', 'direct']);
  const results: FanoutLatency[] = [];
  try {
    await Promise.all([hypercube.start(), direct.start()]);
    await bulkIndex(hypercube, docs, 500, 2);
    await bulkIndex(direct, docs, 500, 2);
    for (const [pass, params] of PASSES) {
      const times = { hypercube: [] as number[], direct: [] as number[] };
      for (const cluster of [hypercube, direct]) {
        for (const [at, query] of queries.entries())
          await timed(cluster, at % nodes, query.text, params);
      }
      const cpu = { hypercube: cpuWindow(hypercube.pids()), direct: cpuWindow(direct.pids()) };
      for (const [at, query] of queries.entries()) {
        const order =
          at % 2 === 0 ? (['hypercube', 'direct'] as const) : (['direct', 'hypercube'] as const);
        for (const mode of order) {
          const cluster = mode === 'hypercube' ? hypercube : direct;
          times[mode].push(await timed(cluster, at % nodes, query.text, params));
        }
      }
      for (const mode of ['hypercube', 'direct'] as const) {
        results.push({
          pass,
          mode,
          p50Ms: percentile(times[mode], 50),
          p90Ms: percentile(times[mode], 90),
          p99Ms: percentile(times[mode], 99),
          nodeCpuMsPerQuery: cpu[mode].end().nodeCpuMs / queries.length,
        });
      }
    }
  } finally {
    await Promise.all([hypercube.stop(), direct.stop()]);
  }
  return results;
}
