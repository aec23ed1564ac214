// Rule (issue 7, "Chaos"; tigerbeetle's VOPR): one seed drives the faults, so a failing run
// replays from its seed. The schedule kills one or two distinct processes at a time, covers every
// kind of service (the registry, the DFS master and datanodes, search nodes and the search leader,
// the MapReduce master and workers), and fills the fault window without running past it unbounded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  countTargets,
  DEFAULT_TIMINGS,
  faultKinds,
  planSchedule,
  targetName,
  type ScheduleConfig,
} from './schedule.pure.js';

const shape = { datanodes: 4, searchNodes: 4, workers: 2 };
const config = (seed: number, durationMs = 120_000): ScheduleConfig => ({
  seed,
  durationMs,
  shape,
  ...DEFAULT_TIMINGS,
});

describe('the chaos fault schedule', () => {
  test('the same seed gives the same schedule; another seed another one', () => {
    assert.deepEqual(planSchedule(config(42)), planSchedule(config(42)));
    assert.notDeepEqual(planSchedule(config(42)), planSchedule(config(43)));
  });

  test('every episode kills one or two distinct targets that exist in the cluster', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        for (const episode of planSchedule(config(seed, 60_000))) {
          assert.ok(episode.targets.length === 1 || episode.targets.length === 2);
          const names = episode.targets.map(targetName);
          assert.equal(new Set(names).size, names.length);
          const kinds = new Set(episode.targets.map((t) => t.kind));
          assert.ok(!(kinds.has('search-leader') && kinds.has('search-node')));
          for (const target of episode.targets) {
            if (target.kind === 'datanode') assert.ok(target.index < shape.datanodes);
            if (target.kind === 'search-node') assert.ok(target.index < shape.searchNodes);
            if (target.kind === 'mapreduce-worker') assert.ok(target.index < shape.workers);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test('pauses and downtimes stay in their ranges and fill the window, bounded', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 300_000 }),
        (seed, durationMs) => {
          const episodes = planSchedule(config(seed, durationMs));
          let plannedMs = 0;
          for (const { pauseMs, downMs } of episodes) {
            assert.ok(
              pauseMs >= DEFAULT_TIMINGS.pauseMs[0] && pauseMs <= DEFAULT_TIMINGS.pauseMs[1],
            );
            assert.ok(downMs >= DEFAULT_TIMINGS.downMs[0] && downMs <= DEFAULT_TIMINGS.downMs[1]);
            plannedMs += pauseMs + downMs;
          }
          assert.ok(plannedMs >= durationMs, 'the episodes fill the window');
          assert.ok(episodes.length <= durationMs / DEFAULT_TIMINGS.pauseMs[0] + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a two-minute run hits every kind of service, pairs included', () => {
    const episodes = planSchedule(config(7));
    const kinds = new Set(episodes.flatMap((episode) => episode.targets.map((t) => t.kind)));
    assert.deepEqual([...kinds].sort(), faultKinds(shape).sort());
    assert.ok(episodes.some((episode) => episode.targets.length === 2));
    assert.ok(episodes.some((episode) => episode.targets.length === 1));
    const counts = countTargets(episodes);
    assert.equal(
      [...counts.values()].reduce((sum, n) => sum + n, 0),
      episodes.reduce((sum, episode) => sum + episode.targets.length, 0),
    );
  });

  test('a cluster without search nodes or workers is never asked to kill them', () => {
    const bare = { datanodes: 3, searchNodes: 0, workers: 0 };
    const episodes = planSchedule({ ...config(3), shape: bare });
    const kinds = new Set(episodes.flatMap((episode) => episode.targets.map((t) => t.kind)));
    assert.deepEqual([...kinds].sort(), ['datanode', 'dfs-meta', 'mapreduce-master', 'registry']);
  });

  test('invalid ranges are refused', () => {
    assert.throws(() => planSchedule({ ...config(1), pauseMs: [5, 1] }), /ranges/);
    assert.throws(() => planSchedule({ ...config(1), pairProbability: 2 }), /pairProbability/);
  });
});
