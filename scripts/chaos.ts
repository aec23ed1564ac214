/**
 * `npm run chaos -- [--seed=N] [--duration=S] [--converge=S] [--datanodes=N] [--search-nodes=N]
 * [--workers=N] [--verbose]`: a seeded chaos run against a whole local cluster of real processes
 * (docs/chaos.md). Prints operations, faults and invariant violations, and the line that replays
 * the run; exits 1 on any violation.
 */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_SHAPE, formatReport, runChaos } from '../test/chaos/run.js';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    process.stderr.write(`chaos: --${name} must be a non-negative integer, got "${value}"\n`);
    process.exit(2);
  }
  return parsed;
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    duration: { type: 'string' },
    converge: { type: 'string' },
    datanodes: { type: 'string' },
    'search-nodes': { type: 'string' },
    workers: { type: 'string' },
    verbose: { type: 'boolean', default: false },
  },
});

const seed = positiveInt('seed', values.seed, randomInt(2 ** 31));
const report = await runChaos({
  seed,
  durationS: positiveInt('duration', values.duration, 120),
  convergeS: positiveInt('converge', values.converge, 60),
  shape: {
    datanodes: Math.max(3, positiveInt('datanodes', values.datanodes, DEFAULT_SHAPE.datanodes)),
    searchNodes: Math.max(
      2,
      positiveInt('search-nodes', values['search-nodes'], DEFAULT_SHAPE.searchNodes),
    ),
    workers: Math.max(1, positiveInt('workers', values.workers, DEFAULT_SHAPE.workers)),
  },
  progress: (line) => process.stderr.write(`chaos: ${line}\n`),
});
process.stdout.write(`${formatReport(report, { verbose: values.verbose })}\n`);
process.exitCode = report.violations.length === 0 ? 0 : 1;
