/**
 * Fuzzes one running service: discovers its endpoints from its `/openapi.json`, runs a
 * fast-check property per endpoint (every random case answered below 500, 4xx as
 * problem+json, `/health` still answering afterwards), then the slow cases of every endpoint
 * at once. A failing property is shrunk by fast-check to a minimal request, kept with its seed.
 */
import fc from 'fast-check';
import { randomCase, slowCases, type FuzzCase, type SlowCaseSettings } from './fuzz-cases.js';
import { endpointName, endpointsOf, type Endpoint } from './openapi-endpoints.js';
import { exchange } from './raw-http.js';
import { judge, type OutcomeClass, type Verdict } from './verdict.js';

/** A service under test. */
export interface FuzzTarget {
  readonly service: string;
  readonly baseUrl: string;
  /** False once the process has exited (a crash). */
  readonly isRunning: () => boolean;
}

export interface FuzzSettings {
  readonly seed: number;
  /** Random cases per endpoint (fast-check `numRuns`). */
  readonly runsPerEndpoint: number;
  /** Deadline of a normal request: no answer by then is a hang. */
  readonly deadlineMs: number;
  /** Deadline of a slow case: the server's timeout plus its checking interval and slack. */
  readonly slowDeadlineMs: number;
  /** Slow cases to run; undefined skips them. */
  readonly slow: SlowCaseSettings | undefined;
  /** Budget of one endpoint's property, shrinking included. */
  readonly endpointTimeLimitMs: number;
  /** Only endpoints for which this holds (default: all). */
  readonly endpointFilter?: (endpoint: Endpoint) => boolean;
  /** Slow cases only for endpoints for which this holds (default: all). */
  readonly slowEndpointFilter?: (endpoint: Endpoint) => boolean;
}

/** One failing case, shrunk, with what reproduces it. */
export interface FuzzFailure {
  readonly service: string;
  readonly endpoint: string;
  /** The run's seed (`--seed`); each endpoint's property runs with `endpointSeed(seed, endpoint)`. */
  readonly seed: number;
  /** fast-check's counterexample path (replays the shrunk case with the seed); none for slow cases. */
  readonly path: string | undefined;
  readonly fuzzCase: FuzzCase;
  readonly reason: string;
}

/** Requests and outcome classes per endpoint, and the failures. */
export class FuzzReport {
  readonly counts = new Map<string, Record<OutcomeClass, number>>();
  readonly failures: FuzzFailure[] = [];

  record(service: string, endpoint: string, outcomeClass: OutcomeClass): void {
    const key = `${service}\t${endpoint}`;
    const counts = this.counts.get(key) ?? {
      '2xx': 0,
      '3xx': 0,
      '4xx': 0,
      '5xx': 0,
      cut: 0,
      hang: 0,
    };
    counts[outcomeClass] += 1;
    this.counts.set(key, counts);
  }

  /** Rows of the per-endpoint table: service, endpoint, requests, then each outcome class. */
  rows(): (string | number)[][] {
    return [...this.counts.entries()].map(([key, counts]) => {
      const [service = '', endpoint = ''] = key.split('\t');
      const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
      return [
        service,
        endpoint,
        total,
        counts['2xx'],
        counts['3xx'],
        counts['4xx'],
        counts['5xx'],
        counts.cut,
        counts.hang,
      ];
    });
  }
}

export const REPORT_COLUMNS = [
  'service',
  'endpoint',
  'requests',
  '2xx',
  '3xx',
  '4xx',
  '5xx',
  'cut',
  'hang',
];

/** A per-endpoint seed, so that endpoints do not all draw the same sequence. */
export function endpointSeed(seed: number, endpoint: string): number {
  let hash = 0x811c9dc5;
  for (const char of endpoint) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193);
  return (seed ^ hash) | 0;
}

/** The endpoints a service declares in its OpenAPI document. */
export async function discoverEndpoints(baseUrl: string): Promise<Endpoint[]> {
  const answer = await fetch(`${baseUrl}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
  if (!answer.ok) throw new Error(`${baseUrl}/openapi.json answered ${answer.status}`);
  return endpointsOf(await answer.json());
}

/** Fuzzes every endpoint of `target`; results go to `report`. */
export async function fuzzService(
  target: FuzzTarget,
  settings: FuzzSettings,
  report: FuzzReport,
): Promise<void> {
  const endpoints = (await discoverEndpoints(target.baseUrl)).filter(
    settings.endpointFilter ?? (() => true),
  );
  for (const endpoint of endpoints) {
    if (!target.isRunning()) return;
    await fuzzEndpoint(target, endpoint, settings, report);
  }
  if (settings.slow !== undefined && target.isRunning())
    await runSlowCases(
      target,
      endpoints.filter(settings.slowEndpointFilter ?? (() => true)),
      settings.slow,
      settings,
      report,
    );
}

async function fuzzEndpoint(
  target: FuzzTarget,
  endpoint: Endpoint,
  settings: FuzzSettings,
  report: FuzzReport,
): Promise<void> {
  const name = endpointName(endpoint);
  const seed = endpointSeed(settings.seed, name);
  const property = fc.asyncProperty(randomCase(endpoint), async (fuzzCase) => {
    const verdict = await runCase(target, fuzzCase, settings.deadlineMs, report);
    if (!verdict.ok) throw new Error(verdict.reason);
  });
  const details = await fc.check(property, {
    seed,
    numRuns: settings.runsPerEndpoint,
    interruptAfterTimeLimit: settings.endpointTimeLimitMs,
  });
  if (!details.failed || details.counterexample === null) return;
  const [fuzzCase] = details.counterexample;
  const error = details.errorInstance;
  report.failures.push({
    service: target.service,
    endpoint: name,
    seed: settings.seed,
    path: details.counterexamplePath ?? undefined,
    fuzzCase,
    reason: error instanceof Error ? error.message : String(error),
  });
}

/** Sends one case, counts it, and checks the service still answers `/health` afterwards. */
export async function runCase(
  target: FuzzTarget,
  fuzzCase: FuzzCase,
  deadlineMs: number,
  report: FuzzReport,
): Promise<Verdict> {
  const outcome = await exchange(target.baseUrl, fuzzCase, deadlineMs);
  const verdict = judge(fuzzCase, outcome);
  report.record(target.service, fuzzCase.endpoint, verdict.outcomeClass);
  if (!verdict.ok) return verdict;
  const alive = await stillAlive(target);
  return alive === undefined
    ? verdict
    : { ok: false, outcomeClass: verdict.outcomeClass, reason: alive };
}

const HEALTH_CASE: FuzzCase = {
  endpoint: 'GET /health',
  label: 'health',
  method: 'GET',
  target: '/health',
  headers: [],
  body: { kind: 'none' },
  delivery: { kind: 'whole' },
};

/** Why the service is not alive after a case (undefined when it answers `/health`). */
async function stillAlive(target: FuzzTarget): Promise<string | undefined> {
  if (!target.isRunning()) return 'the service process exited (crash)';
  const outcome = await exchange(target.baseUrl, HEALTH_CASE, 10_000);
  if (outcome.kind === 'response') return undefined;
  if (!target.isRunning()) return 'the service process exited (crash)';
  return `GET /health got no answer afterwards (${outcome.kind})`;
}

async function runSlowCases(
  target: FuzzTarget,
  endpoints: readonly Endpoint[],
  slow: SlowCaseSettings,
  settings: FuzzSettings,
  report: FuzzReport,
): Promise<void> {
  const cases = endpoints.flatMap((endpoint) => slowCases(endpoint, slow));
  // Huge bodies one at a time (memory); the waiting cases all at once (time).
  const huge = cases.filter(
    (fuzzCase) => fuzzCase.body.kind === 'filler' && fuzzCase.delivery.kind === 'whole',
  );
  const waiting = cases.filter((fuzzCase) => !huge.includes(fuzzCase));
  const failed = (fuzzCase: FuzzCase, verdict: Verdict): void => {
    if (verdict.ok) return;
    report.failures.push({
      service: target.service,
      endpoint: fuzzCase.endpoint,
      seed: settings.seed,
      path: undefined,
      fuzzCase,
      reason: verdict.reason,
    });
  };
  for (const fuzzCase of huge)
    failed(fuzzCase, await runCase(target, fuzzCase, settings.deadlineMs, report));
  const verdicts = await Promise.all(
    waiting.map(async (fuzzCase) => {
      const outcome = await exchange(target.baseUrl, fuzzCase, settings.slowDeadlineMs);
      const verdict = judge(fuzzCase, outcome);
      report.record(target.service, fuzzCase.endpoint, verdict.outcomeClass);
      return [fuzzCase, verdict] as const;
    }),
  );
  for (const [fuzzCase, verdict] of verdicts) failed(fuzzCase, verdict);
  const alive = await stillAlive(target);
  if (alive !== undefined && waiting[0] !== undefined)
    failed(waiting[0], {
      ok: false,
      outcomeClass: 'cut',
      reason: `after the slow cases: ${alive}`,
    });
}
