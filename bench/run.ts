/**
 * The benchmark harness: `npm run bench` runs every benchmark, `npm run bench -- NAME ...` the
 * named ones; `--key=value` options go to each benchmark (see its file). Each prints tables and
 * writes bench/results/NAME.json with the machine, the date and every figure (lib/harness.ts).
 */
import type { BenchOptions, Benchmark } from './lib/harness.js';
import { runBenchmark } from './lib/harness.js';

/** Every benchmark, in the order `npm run bench` runs them; later subsystems add theirs here. */
const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  registry: async () => (await import('./registry.js')).benchmark,
  dfs: async () => (await import('./dfs.js')).benchmark,
  search: async () => (await import('./search.js')).benchmark,
  mapreduce: async () => (await import('./mapreduce.js')).benchmark,
};

function parseArguments(argv: readonly string[]): { names: string[]; options: BenchOptions } {
  const names: string[] = [];
  const options: Record<string, string | true> = {};
  for (const argument of argv) {
    const option = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(argument);
    if (option?.[1]) options[option[1]] = option[2] ?? true;
    else names.push(argument);
  }
  return { names, options };
}

async function main(): Promise<void> {
  const { names, options } = parseArguments(process.argv.slice(2));
  if (options['help'] === true) {
    process.stdout.write(
      `usage: npm run bench [-- NAME... [--option=value]]\nbenchmarks: ${Object.keys(BENCHMARKS).join(', ')}\n`,
    );
    return;
  }
  const unknown = names.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown benchmark ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`,
    );
  }
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  for (const name of selected) {
    const load = BENCHMARKS[name];
    if (load) await runBenchmark(await load(), options);
  }
}

/** A mistake on the command line: reported without a stack trace. */
class UsageError extends Error {}

await main().catch((error: unknown) => {
  const shown = error instanceof UsageError ? error.message : ((error as Error).stack ?? error);
  process.stderr.write(`bench: ${String(shown)}\n`);
  process.exitCode = 1;
});
