/**
 * The benchmark harness's contract: a benchmark measures, and answers its figures, the targets
 * it is judged against, whether each was met, and the tables to print. The harness (run.ts)
 * adds the machine and the date, prints the tables and writes `bench/results/NAME.json`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, type MachineInfo } from './machine.js';
import { formatTable, type Table } from './table.js';

/** Options given on the command line after the benchmark names (`--duration=3`, `--profile`). */
export type BenchOptions = Readonly<Record<string, string | true>>;

/** What a benchmark receives from the harness. */
export interface BenchContext {
  readonly options: BenchOptions;
  /** Progress lines, on stderr so that stdout holds only the tables. */
  log(message: string): void;
}

/** What a benchmark answers. */
export interface BenchReport {
  /** Every measured figure, in plain JSON (numbers carry their unit in their name). */
  readonly figures: Record<string, unknown>;
  /** The targets of the issue, each as a number or a short rule. */
  readonly targets: Record<string, number | string>;
  /** For each target, whether this run met it. */
  readonly passed: Record<string, boolean>;
  readonly tables: readonly Table[];
}

/** One benchmark module (`bench/NAME.ts` exports one as `benchmark`). */
export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(context: BenchContext): Promise<BenchReport>;
}

/** The JSON written to `bench/results/NAME.json`. */
export interface BenchResultFile {
  readonly name: string;
  readonly date: string;
  readonly machine: MachineInfo;
  readonly durationS: number;
  readonly figures: Record<string, unknown>;
  readonly targets: Record<string, number | string>;
  readonly passed: Record<string, boolean>;
}

/** The folder holding `bench/results/*.json`. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Runs one benchmark, prints its tables and writes its result file; answers the file's content. */
export async function runBenchmark(
  benchmark: Benchmark,
  options: BenchOptions,
): Promise<BenchResultFile> {
  const startedAt = new Date();
  const startedMs = performance.now();
  const machine = machineInfo();
  const context: BenchContext = {
    options,
    log: (message) => process.stderr.write(`[${benchmark.name}] ${message}\n`),
  };
  if (machine.loadAverage1m > machine.cpus) {
    context.log(
      `warning: load average ${machine.loadAverage1m} on ${machine.cpus} cores; ` +
        'other work competes with the benchmark and its figures will be low and noisy',
    );
  }
  const report = await benchmark.run(context);
  const result: BenchResultFile = {
    name: benchmark.name,
    date: startedAt.toISOString(),
    machine,
    durationS: round((performance.now() - startedMs) / 1000, 1),
    figures: report.figures,
    targets: report.targets,
    passed: report.passed,
  };
  process.stdout.write(
    `\n# ${benchmark.name}: ${benchmark.description}\n# ${machine.cpus} x ${machine.model}, ` +
      `${machine.memoryGiB} GiB, node ${machine.node}, ${machine.os}, ` +
      `load average ${machine.loadAverage1m} at start\n`,
  );
  for (const table of report.tables) process.stdout.write(`\n${formatTable(table)}\n`);
  process.stdout.write(`\n${formatTable(targetsTable(report))}\n`);
  const path = join(RESULTS_DIR, `${benchmark.name}.json`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\nwrote ${path} (${result.durationS} s)\n`);
  return result;
}

function targetsTable(report: BenchReport): Table {
  return {
    title: 'targets',
    columns: ['target', 'rule', 'met'],
    rows: Object.entries(report.targets).map(([key, rule]) => [
      key,
      String(rule),
      report.passed[key] === undefined ? '-' : report.passed[key] ? 'yes' : 'NO',
    ]),
  };
}

/** Rounds to a number of decimals (figures are stored rounded so the JSON stays readable). */
export function round(value: number, decimals = 0): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

/** A numeric option (`--duration=3`), or its default. */
export function numberOption(options: BenchOptions, name: string, defaultValue: number): number {
  const raw = options[name];
  if (raw === undefined) return defaultValue;
  const value = Number(raw);
  if (!Number.isFinite(value) || raw === true) throw new Error(`--${name} needs a number`);
  return value;
}
