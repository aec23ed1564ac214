/**
 * One chaos run (issue 7, "Chaos"): start the whole cluster as real processes, run the workload
 * while the seeded schedule SIGKILLs and restarts services, converge, observe, check the
 * invariants, and report operations, faults, violations and the seed that replays the run.
 * Used by `npm run chaos` (scripts/chaos.ts) and by the short run inside `npm test`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DfsClient } from '../../src/dfs/index.js';
import { processDefaults, waitFor } from '../helpers/processes.js';
import { ChaosCluster } from './cluster.js';
import { injectFaults, newFaultLog, type FaultLog } from './faults.js';
import { checkInvariants, type Violation } from './invariants.pure.js';
import { converge, observe } from './observe.js';
import { DEFAULT_TIMINGS, planSchedule, type ClusterShape } from './schedule.pure.js';
import {
  Ledger,
  runDfsWorkload,
  runMapReduceWorkload,
  runSearchWorkload,
  WORDCOUNT_INPUT,
  wordcountInput,
  workloadHttp,
  type OperationKind,
  type WorkloadContext,
} from './workload.js';

export interface ChaosOptions {
  readonly seed: number;
  /** The fault window, in seconds. */
  readonly durationS: number;
  readonly shape: ClusterShape;
  /** Budget of each convergence wait, in seconds (default 60). */
  readonly convergeS?: number;
  /** Called with progress lines (cluster up, window over, ...). */
  readonly progress?: (line: string) => void;
}

export interface ChaosReport {
  readonly seed: number;
  readonly durationS: number;
  readonly operations: ReadonlyMap<OperationKind, { ok: number; failed: number }>;
  readonly firstErrors: ReadonlyMap<OperationKind, string>;
  readonly lastErrors: ReadonlyMap<OperationKind, string>;
  readonly acknowledged: { files: number; documents: number; jobs: number; jobsSucceeded: number };
  readonly faults: FaultLog;
  readonly convergenceNotes: readonly string[];
  readonly violations: readonly Violation[];
}

export const DEFAULT_SHAPE: ClusterShape = { datanodes: 4, searchNodes: 4, workers: 2 };

/** Thirteen services starting at once on a busy machine can take more than the usual 30 s. */
const START_TIMEOUT_MS = 120_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  processDefaults.startTimeoutMs = Math.max(processDefaults.startTimeoutMs, START_TIMEOUT_MS);
  const say = options.progress ?? (() => undefined);
  const cluster = new ChaosCluster(options.shape);
  const ledger = new Ledger();
  const log = newFaultLog();
  const input = wordcountInput(options.seed);
  try {
    say(`starting the cluster (seed ${options.seed})`);
    await cluster.start();
    await uploadInput(cluster, input.text);
    const episodes = planSchedule({
      seed: options.seed,
      durationMs: options.durationS * 1000,
      shape: options.shape,
      ...DEFAULT_TIMINGS,
    });
    say(`cluster up; ${options.durationS} s of faults (${episodes.length} episodes planned)`);
    await runFaultWindow(cluster, ledger, log, episodes, options);
    const waitMs = (options.convergeS ?? 60) * 1000;
    say('fault window over; converging');
    const convergence = { waitMs, expectedCounts: input.counts };
    const notes = await converge(cluster, ledger, convergence);
    say('checking invariants');
    const violations = checkInvariants(await observe(cluster, ledger, convergence));
    return report(options, ledger, log, notes, violations);
  } finally {
    await cluster.stop();
  }
}

async function runFaultWindow(
  cluster: ChaosCluster,
  ledger: Ledger,
  log: FaultLog,
  episodes: ReturnType<typeof planSchedule>,
  options: ChaosOptions,
): Promise<void> {
  const deadlineMs = Date.now() + options.durationS * 1000;
  const scratchDir = join(cluster.mapreduce.dfs.dir.path, 'scratch');
  mkdirSync(scratchDir, { recursive: true });
  let faultsDone = false;
  const context: WorkloadContext = {
    seed: options.seed,
    ledger,
    registryUrl: cluster.registryUrl,
    metaUrl: cluster.metaUrl,
    masterUrl: cluster.masterUrl,
    scratchDir,
    stopped: () => faultsDone,
  };
  const workloads = Promise.all([
    runDfsWorkload(context),
    runSearchWorkload(context),
    runMapReduceWorkload(context),
  ]);
  try {
    await injectFaults(cluster, episodes, deadlineMs, log);
  } finally {
    faultsDone = true;
    await workloads;
  }
}

/** Stores the word-count input before any fault (retried: the cluster has just started). */
async function uploadInput(cluster: ChaosCluster, text: string): Promise<void> {
  const http = workloadHttp();
  const dfs = new DfsClient({ metaUrl: cluster.metaUrl, http });
  try {
    await waitFor(
      'the word-count input stored',
      async () => (
        await dfs.putBuffer(text, WORDCOUNT_INPUT, { chunkSize: 16 * 1024, overwrite: true }),
        true
      ),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  } finally {
    await dfs.close();
    await http.close();
  }
}

function report(
  options: ChaosOptions,
  ledger: Ledger,
  faults: FaultLog,
  convergenceNotes: readonly string[],
  violations: readonly Violation[],
): ChaosReport {
  const jobs = [...ledger.jobs.values()];
  return {
    seed: options.seed,
    durationS: options.durationS,
    operations: ledger.operations,
    firstErrors: ledger.firstErrors,
    lastErrors: ledger.lastErrors,
    acknowledged: {
      files: ledger.files.size,
      documents: ledger.documents.size,
      jobs: jobs.length,
      jobsSucceeded: jobs.filter((job) => job.state === 'succeeded').length,
    },
    faults,
    convergenceNotes,
    violations,
  };
}

/** The printed summary; ends with the line that replays the run. */
export function formatReport(report: ChaosReport, options: { verbose?: boolean } = {}): string {
  const lines = [
    `chaos: seed ${report.seed}, ${report.durationS} s of faults`,
    '',
    'operations (ok / failed):',
  ];
  const kinds: OperationKind[] = [
    'dfs-put',
    'dfs-get',
    'search-index',
    'search-query',
    'job-submit',
    'job-run',
  ];
  for (const kind of kinds) {
    const counts = report.operations.get(kind) ?? { ok: 0, failed: 0 };
    lines.push(`  ${kind.padEnd(13)} ${String(counts.ok).padStart(5)} / ${counts.failed}`);
    const first = report.firstErrors.get(kind);
    const last = report.lastErrors.get(kind);
    if (first !== undefined) lines.push(`      first failure: ${first.slice(0, 160)}`);
    if (last !== undefined && last !== first)
      lines.push(`      last failure:  ${last.slice(0, 160)}`);
  }
  const { files, documents, jobs, jobsSucceeded } = report.acknowledged;
  lines.push(
    `acknowledged: ${files} files, ${documents} documents, ${jobs} jobs (${jobsSucceeded} succeeded)`,
  );
  const total = [...report.faults.faults.values()].reduce((sum, n) => sum + n, 0);
  lines.push('', `faults injected: ${total}`);
  for (const [name, count] of [...report.faults.faults].sort(([a], [b]) => a.localeCompare(b)))
    lines.push(`  ${name.padEnd(20)} ${count}`);
  if (report.faults.failedRestarts.length > 0)
    lines.push(
      `restarts that failed (retried in convergence): ${report.faults.failedRestarts.join(', ')}`,
    );
  const showEvents = options.verbose === true || report.violations.length > 0;
  if (showEvents) lines.push('', 'episodes:', ...report.faults.events.map((event) => `  ${event}`));
  for (const note of report.convergenceNotes) lines.push(`convergence: ${note}`);
  lines.push('', `invariant violations: ${report.violations.length}`);
  for (const found of report.violations) lines.push(`  [${found.invariant}] ${found.detail}`);
  lines.push('', `replay: npm run chaos -- --seed=${report.seed} --duration=${report.durationS}`);
  return lines.join('\n');
}
