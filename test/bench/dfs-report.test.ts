// Rule (issue 3, "Benchmark"; docs/benchmarks.md, "DFS"): a large-file round is compared with
// the ceiling measured in the same state of the machine, the mean of the passes just before and
// just after it; the share the targets use is the median of the rounds' shares, and the best
// round against the best pass is reported next to it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TransferRun } from '../../bench/lib/dfs-phases.js';
import {
  bestAgainstBest,
  bracketingCeiling,
  roundShares,
  transferShares,
  type DfsMeasurements,
} from '../../bench/lib/dfs-report.js';

function run(mbPerS: number): TransferRun {
  const stats = {
    peakRssBytes: {},
    startRssBytes: {},
    cpuCores: {},
    machineBusyCores: 0,
    windowS: 1,
  };
  return { bytes: 2 ** 30, ms: 1000, mbPerS, stats };
}

function measurements(ceilings: number[], rounds: number[]): DfsMeasurements {
  const pair = (rate: number) => ({ sizeMiB: 1024, upload: run(rate), download: run(rate) });
  return {
    ceilings: ceilings.map((rate) => ({ upload: run(rate), download: run(rate) })),
    small: pair(100),
    large: rounds.map(pair),
    variants: [],
    parallelChunks: undefined,
  } as unknown as DfsMeasurements;
}

describe('DFS benchmark shares', () => {
  test('each round against the mean of the ceilings around it; the median of the rounds', () => {
    const m = measurements([400, 200, 200, 160], [150, 180, 200]);
    assert.equal(bracketingCeiling(m, 0, 'upload'), 300);
    assert.equal(bracketingCeiling(m, 2, 'upload'), 180);
    assert.deepEqual(roundShares(m, 'upload'), [0.5, 0.9, 200 / 180]);
    assert.equal(transferShares(m).upload, 0.9);
    assert.equal(bestAgainstBest(m).upload, 0.5);
  });

  test('a round with only a pass before it is compared with that pass', () => {
    const m = measurements([200], [150]);
    assert.equal(bracketingCeiling(m, 0, 'download'), 200);
    assert.equal(transferShares(m).download, 0.75);
  });
});
