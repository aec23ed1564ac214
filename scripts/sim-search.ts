/**
 * The long random run of DistriSearch's overlay protocols (the CI tests run a fixed few hundred
 * seeds): hypercube routing at d=10 with 0-30% of the slots dead, routing under churn, sparse
 * clusters, and the Bully election under delay, loss, duplicates, crashes, restarts and
 * partitions. Prints hop and convergence figures; exits non-zero on the first broken invariant,
 * naming its seed.
 *
 *   node --import tsx scripts/sim-search.ts --seeds 5000 [--first 1] [--only routing|churn|sparse|election]
 */
/* eslint-disable no-restricted-imports -- a script reusing the test harnesses, like test/ files
   may; the rule guards subsystem boundaries, which these imports do not cross. */
import { parseArgs } from 'node:util';
import { Simulation, forEachSeed, formatSummary, seedRange, summarize } from '../test/sim/index.js';
import {
  checkerDistances,
  runRouting,
  type RouteOutcome,
  type RoutingRun,
} from '../test/search/hypercube/routing-harness.js';
import { runChurn } from '../test/search/hypercube/churn-harness.js';
import { randomElectionOptions, runElection } from '../test/search/election/election-harness.js';

const D = 10;
const HOP_LIMIT = 32;
const PAIRS = 20;

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    first: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const seeds = seedRange(Number(values.first), Number(values.seeds));

const popcount = (v: number): number => (v === 0 ? 0 : (v & 1) + popcount(v >>> 1));
const deadPercentOf = (seed: number): number => (seed % 7) * 5;
const stats = (values: readonly number[]): string => formatSummary(summarize(values));
const hopsOf = (os: readonly RouteOutcome[]): string => stats(os.map((o) => o.hops));
const delivered = (os: readonly RouteOutcome[]): RouteOutcome[] =>
  os.filter((o) => o.result === 'deliver');

interface Bucket {
  view: RouteOutcome[];
  dfs32: RouteOutcome[];
  dfs: RouteOutcome[];
  greedy: number;
  reachable: number;
}

function routeSeed(seed: number, hopLimit: number, modes: RoutingRun['outcomes']): RoutingRun {
  return runRouting(new Simulation(seed), {
    dimensions: D,
    deadFraction: deadPercentOf(seed) / 100,
    pairs: PAIRS,
    hopLimit,
    modes: Object.keys(modes) as (keyof typeof modes)[],
  });
}

function routingFigures(): void {
  const byDead = new Map<number, Bucket>();
  forEachSeed(seeds, (seed) => {
    const bounded = routeSeed(seed, HOP_LIMIT, { view: [], neighbours: [] });
    // A depth-first search without a hop limit costs O(n^2) per unreachable destination: sample it.
    const unbounded =
      seed % 10 === 0 ? routeSeed(seed, 2 * 2 ** D, { view: [], neighbours: [] }) : null;
    const b = byDead.get(deadPercentOf(seed)) ?? {
      view: [],
      dfs32: [],
      dfs: [],
      greedy: 0,
      reachable: 0,
    };
    b.view.push(...bounded.outcomes.view);
    b.dfs32.push(...bounded.outcomes.neighbours);
    b.dfs.push(...(unbounded?.outcomes.neighbours ?? []));
    b.greedy += bounded.greedyDelivered;
    b.reachable += bounded.greedyReachable;
    byDead.set(deadPercentOf(seed), b);
  });
  console.log(
    `\n== routing, d=${D}, hop_limit ${HOP_LIMIT}, ${seeds.length} seeds x ${PAIRS} pairs`,
  );
  for (const [deadPercent, b] of [...byDead].sort((x, y) => x[0] - y[0]))
    printBucket(deadPercent, b);
}

function printBucket(deadPercent: number, b: Bucket): void {
  const reachable = b.view.filter((o) => o.shortest !== null);
  const viewDelivered = delivered(b.view);
  const dfs = delivered(b.dfs);
  const giveUp = b.dfs.filter((o) => o.shortest === null);
  console.log(
    `-- ${deadPercent}% dead: ${reachable.length} reachable pairs, ${b.view.length - reachable.length} not`,
  );
  console.log(
    `   popcount(src^dst)        ${stats(reachable.map((o) => popcount(o.src ^ o.dst)))}`,
  );
  console.log(`   view: hops               ${hopsOf(viewDelivered)}`);
  console.log(
    `   view: hops - popcount    ${stats(viewDelivered.map((o) => o.hops - popcount(o.src ^ o.dst)))}`,
  );
  console.log(
    `   seed rule alone          ${b.greedy}/${b.reachable} delivered within ${HOP_LIMIT} hops`,
  );
  console.log(
    `   DFS, limit ${HOP_LIMIT}: ${delivered(b.dfs32).length}/${reachable.length} delivered; ${hopsOf(delivered(b.dfs32))}`,
  );
  console.log(
    `   DFS, no limit (1 seed in 10): ${hopsOf(dfs)}; ${dfs.filter((o) => o.hops > HOP_LIMIT).length} over ${HOP_LIMIT}`,
  );
  console.log(`   DFS, no limit, hops before giving up on an unreachable id: ${hopsOf(giveUp)}`);
}

function churnFigures(): void {
  let settled = 0;
  let lost = 0;
  let refused = 0;
  const after: RouteOutcome[] = [];
  forEachSeed(seeds, (seed) => {
    const run = runChurn(new Simulation(seed), {
      dimensions: D,
      deadFraction: deadPercentOf(seed) / 100,
      crashes: 60,
      restarts: 30,
      churnMs: 2000,
      registryLagMs: 300,
      suspicionMs: 500,
      messagesDuringChurn: 30,
      messagesAfter: 15,
      hopLimit: HOP_LIMIT,
      faults: { minDelayMs: 1, maxDelayMs: 20, dropRate: 0, duplicateRate: 0.05 },
    });
    settled += run.during.delivered + run.during.dropped;
    lost += run.during.lost;
    refused += run.refusedSends;
    after.push(...run.after);
  });
  console.log(`\n== routing under churn, d=${D}, ${seeds.length} seeds`);
  console.log(
    `   during churn: ${settled} delivered or dropped, ${lost} lost with a crashed holder`,
  );
  console.log(`   refused sends rerouted: ${refused}`);
  console.log(
    `   after convergence: ${delivered(after).length}/${after.length} delivered, the rest unreachable`,
  );
  console.log(`   after convergence, hops: ${hopsOf(delivered(after))}`);
}

/** Clusters of N nodes holding the lowest ids 0..N-1 (as the leader hands them out), each one dead in turn. */
function sparseFigures(): void {
  console.log(`\n== sparse clusters: ids 0..N-1, every single failure`);
  for (const [d, n] of [
    [4, 4],
    [4, 5],
    [4, 8],
    [4, 9],
    [4, 12],
    [10, 17],
    [10, 100],
  ] as const) {
    let pairs = 0;
    const hops: number[] = [];
    const cut: number[] = [];
    for (let dead = 0; dead < n; dead++) {
      const live = new Set(Array.from({ length: n }, (_, i) => i).filter((i) => i !== dead));
      const before = hops.length;
      for (const src of live) {
        const dist = checkerDistances(src, d, live);
        for (const dst of live) {
          if (dst === src) continue;
          pairs++;
          const h = dist.get(dst);
          if (h !== undefined) hops.push(h);
        }
      }
      if (hops.length - before < live.size * (live.size - 1)) cut.push(dead);
    }
    const share = ((100 * hops.length) / pairs).toFixed(1);
    const cuts = cut.length === 0 ? 'none' : cut.join(', ');
    console.log(
      `   d=${d} N=${n}: ${share}% of live pairs reachable; failures that cut the cluster: ${cuts}; hops ${stats(hops)}`,
    );
  }
}

function electionFigures(): void {
  const runs = forEachSeed(seeds, (seed) => {
    const sim = new Simulation(seed);
    return runElection(sim, randomElectionOptions(sim));
  });
  const lower = runs.filter((r) => r.leader < r.highestId).length;
  console.log(`\n== Bully election, ${seeds.length} seeds, 3-9 nodes, 20 s of faults`);
  console.log(
    `   convergence after faults stop (ms): ${stats(runs.map((r) => Math.round(r.convergedAfterMs)))}`,
  );
  console.log(`   elections started per run: ${stats(runs.map((r) => r.elections))}`);
  console.log(`   messages per run: ${stats(runs.map((r) => r.messages))}`);
  console.log(`   runs that ended under a lower leader (the highest id down): ${lower}`);
}

const sections: Record<string, () => void> = {
  routing: routingFigures,
  churn: churnFigures,
  sparse: sparseFigures,
  election: electionFigures,
};
const started = performance.now();
for (const [name, run] of Object.entries(sections)) {
  if (values.only === undefined || values.only === name) run();
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`\nall invariants held over ${seeds.length} seeds (${seconds} s)`);
