// Rule checked (issue 4; distrisearch-architecture.md, "Algoritmo de Ruteo"): on a 10-bit cube
// (1024 slots) with 0-30% of the nodes dead, routing delivers every message whose destination is
// reachable in the live graph, within hop_limit 32, along a shortest live path, and never loops;
// unreachable destinations are dropped with a reason. Nodes that crash and restart while messages
// travel never make a message loop or exceed its hop bound, and once views converge every message
// ends as the live graph says. A failure prints `seed=N`; replay it with SIM_SEED=N.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Simulation,
  forEachSeed,
  formatSummary,
  seedRange,
  seedsFromEnv,
  summarize,
} from '../../sim/index.js';
import { popcount } from '../../../src/search/hypercube/index.js';
import { runRouting, type RouteOutcome } from './routing-harness.js';
import { runChurn } from './churn-harness.js';

const D = 10;
const HOP_LIMIT = 32;
const deadFractionOf = (seed: number): number => (seed % 7) * 0.05;

describe('routing simulation, d=10, 0-30% dead', () => {
  test('every reachable live destination is delivered on a shortest live path; others dropped', (t) => {
    const outcomes: RouteOutcome[] = [];
    let greedyDelivered = 0;
    let greedyReachable = 0;
    const seeds = seedsFromEnv(seedRange(1, 200));
    forEachSeed(seeds, (seed) => {
      const sim = new Simulation(seed);
      const run = runRouting(sim, {
        dimensions: D,
        deadFraction: deadFractionOf(seed),
        pairs: 15,
        hopLimit: HOP_LIMIT,
        modes: ['view', 'neighbours'],
      });
      outcomes.push(...run.outcomes.view);
      greedyDelivered += run.greedyDelivered;
      greedyReachable += run.greedyReachable;
    });
    const delivered = outcomes.filter((o) => o.result === 'deliver');
    const unreachable = outcomes.filter((o) => o.result === 'unreachable');
    if (seeds.length > 1) {
      assert.ok(delivered.length > 0 && unreachable.length > 0, 'both outcomes are exercised');
    }
    t.diagnostic(`delivered hops: ${formatSummary(summarize(delivered.map((o) => o.hops)))}`);
    t.diagnostic(
      `stretch over popcount: ${formatSummary(summarize(delivered.map((o) => o.hops - popcount(o.src ^ o.dst))))}`,
    );
    t.diagnostic(
      `unreachable dropped: ${unreachable.length}; seed rule alone: ${greedyDelivered}/${greedyReachable}`,
    );
  });

  test('without a view, a depth-first search with a large enough hop limit reaches every reachable id', () => {
    forEachSeed(seedsFromEnv(seedRange(1000, 40)), (seed) => {
      const sim = new Simulation(seed);
      const run = runRouting(sim, {
        dimensions: D,
        deadFraction: deadFractionOf(seed),
        pairs: 10,
        hopLimit: 2 * 2 ** D,
        modes: ['neighbours'],
      });
      for (const o of run.outcomes.neighbours) {
        assert.equal(
          o.result,
          o.shortest === null ? 'unreachable' : 'deliver',
          `${o.src} -> ${o.dst}`,
        );
      }
    });
  });
});

describe('routing under churn, d=10', () => {
  test('crashes and restarts: no loops, hop bound kept; after convergence all as the live graph says', (t) => {
    let during = 0;
    let lost = 0;
    let after = 0;
    forEachSeed(seedsFromEnv(seedRange(5000, 20)), (seed) => {
      const run = runChurn(new Simulation(seed), {
        dimensions: D,
        deadFraction: deadFractionOf(seed),
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
      during += run.during.delivered + run.during.dropped;
      lost += run.during.lost;
      after += run.after.length;
    });
    assert.ok(after > 0);
    t.diagnostic(
      `during churn: ${during} settled, ${lost} lost with a crashed holder; after: ${after} as expected`,
    );
  });
});
