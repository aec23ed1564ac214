// Rule (issue 7, "Chaos"): while uploads and downloads, indexing and searches and word-count jobs
// run, a seeded schedule SIGKILLs and restarts datanodes, search nodes (the leader too), workers,
// the MapReduce master, the DFS master and the registry, one or two at a time; after convergence
// nothing acknowledged is lost or wrong, every chunk is at its replication factor, the search
// nodes agree on one leader and no process is dead. This is the short run of `npm run chaos`;
// TESSERA_CHAOS_SEED and TESSERA_CHAOS_DURATION change its seed and fault window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runChaos } from './run.js';

const seed = Number(process.env['TESSERA_CHAOS_SEED'] ?? 7);
const durationS = Number(process.env['TESSERA_CHAOS_DURATION'] ?? 30);

test(
  `a short chaos run keeps every invariant (seed ${seed}, ${durationS} s of faults)`,
  { timeout: (durationS + 420) * 1000 },
  async () => {
    const report = await runChaos({
      seed,
      durationS,
      convergeS: 60,
      shape: { datanodes: 3, searchNodes: 3, workers: 2 },
    });
    const summary = formatReport(report, { verbose: true });
    const faults = [...report.faults.faults.values()].reduce((sum, n) => sum + n, 0);
    assert.ok(faults > 0, `no fault was injected:\n${summary}`);
    const done = [...report.operations.values()].reduce((sum, counts) => sum + counts.ok, 0);
    assert.ok(done > 0, `no operation succeeded:\n${summary}`);
    assert.deepEqual(report.violations, [], summary);
  },
);
