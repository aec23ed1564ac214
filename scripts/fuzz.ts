/**
 * The HTTP fuzzer (docs/fuzzing.md): starts a whole local cluster as real processes, sends
 * random and malformed requests to every endpoint every service declares in its OpenAPI
 * document, and checks that no answer is a 5xx, every 4xx is problem+json, nothing hangs and
 * every service still answers `/health`. Prints a table per endpoint, then each failure with
 * its seed and a shrunk reproducer; exits 1 on any failure.
 *
 *   npm run fuzz -- [--seed=N] [--runs=N] [--service=NAME[,NAME...]] [--no-slow]
 */
import { formatTable } from '../bench/lib/table.js';
import {
  SERVICE_NAMES,
  startFuzzCluster,
  type ServiceName,
} from '../test/fuzz/lib/fuzz-cluster.js';
import { FuzzReport, fuzzService, REPORT_COLUMNS } from '../test/fuzz/lib/fuzz-service.js';
import { formatFailure } from '../test/fuzz/lib/reproducer.js';

interface FuzzArgs {
  readonly seed: number;
  readonly runs: number;
  readonly services: readonly ServiceName[];
  readonly slow: boolean;
  readonly requestTimeoutMs: number;
}

const USAGE =
  'usage: npm run fuzz -- [--seed=N] [--runs=N] [--service=NAME[,NAME...]] [--no-slow] [--request-timeout=SECONDS]\n' +
  `services: ${SERVICE_NAMES.join(', ')}`;

function parseArgs(argv: readonly string[]): FuzzArgs {
  let seed = Math.floor(Math.random() * 2 ** 31);
  let runs = 100;
  let services: ServiceName[] = [...SERVICE_NAMES];
  let slow = true;
  let requestTimeoutMs = 2_000;
  for (const arg of argv) {
    const [name, value = ''] = arg.split('=', 2);
    if (name === '--seed' && /^-?\d+$/.test(value)) seed = Number(value);
    else if (name === '--runs' && /^\d+$/.test(value)) runs = Number(value);
    else if (name === '--request-timeout' && /^\d+(\.\d+)?$/.test(value))
      requestTimeoutMs = Number(value) * 1000;
    else if (name === '--no-slow') slow = false;
    else if (name === '--service') {
      const wanted = value.split(',');
      const unknown = wanted.filter(
        (service) => !(SERVICE_NAMES as readonly string[]).includes(service),
      );
      if (unknown.length > 0) throw new UsageError(`unknown service ${unknown.join(', ')}`);
      services = wanted as ServiceName[];
    } else throw new UsageError(`unknown argument ${arg}`);
  }
  return { seed, runs, services, slow, requestTimeoutMs };
}

class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<number> {
  let args: FuzzArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`fuzz: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  process.stdout.write(
    `fuzz: seed=${args.seed} runs=${args.runs} services=${args.services.join(',')} ` +
      `slow=${args.slow} request-timeout=${args.requestTimeoutMs / 1000}s; starting the cluster...\n`,
  );
  const { cluster, targets } = await startFuzzCluster({ requestTimeoutMs: args.requestTimeoutMs });
  const report = new FuzzReport();
  const startedAt = Date.now();
  try {
    for (const target of targets.filter((t) => args.services.includes(t.service))) {
      const before = report.failures.length;
      await fuzzService(
        target,
        {
          seed: args.seed,
          runsPerEndpoint: args.runs,
          deadlineMs: 30_000,
          slowDeadlineMs: args.requestTimeoutMs + 10_000,
          slow: args.slow ? { hugeBytes: 10.5 * 1024 * 1024, trickleIntervalMs: 200 } : undefined,
          endpointTimeLimitMs: 120_000,
        },
        report,
      );
      process.stdout.write(
        `fuzz: ${target.service} done (${report.failures.length - before} failures)\n`,
      );
    }
  } finally {
    await cluster.stop();
  }
  const rows = report.rows();
  process.stdout.write(
    `\n${formatTable({ title: `fuzz seed=${args.seed} runs=${args.runs}`, columns: REPORT_COLUMNS, rows })}\n`,
  );
  const total = rows.reduce((sum, row) => sum + Number(row[2]), 0);
  process.stdout.write(
    `\n${total} requests to ${rows.length} endpoints in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; ` +
      `${report.failures.length} failures\n`,
  );
  for (const failure of report.failures) {
    const target = targets.find((t) => t.service === failure.service);
    process.stdout.write(
      `\n${formatFailure(failure, target?.baseUrl ?? 'http://127.0.0.1:0', args.runs)}\n`,
    );
  }
  return report.failures.length === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
