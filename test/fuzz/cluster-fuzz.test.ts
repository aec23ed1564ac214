// Rule checked (DESIGN.md rule 6; issue 7, "Bad input"): random and malformed requests to every
// endpoint of every service of a real cluster — schema-valid and mutated values, path
// traversal, odd Unicode, broken and huge bodies, truncated and trickled requests — never get
// a 5xx, never crash or hang a service, and every 4xx is problem+json. The short, fixed-seed
// version of `npm run fuzz` (docs/fuzzing.md); a failure prints the shrunk request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { formatTable } from '../../bench/lib/table.js';
import type { WebCluster } from '../helpers/web-cluster.js';
import { startFuzzCluster, type ServiceName } from './lib/fuzz-cluster.js';
import { FuzzReport, fuzzService, REPORT_COLUMNS, type FuzzTarget } from './lib/fuzz-service.js';
import type { Endpoint } from './lib/openapi-endpoints.js';
import { formatFailure } from './lib/reproducer.js';

const SEED = 20_240_607;
const RUNS = 4;
const REQUEST_TIMEOUT_MS = 3_000;

/** Slow cases for the streamed routes and a few JSON ones (the script covers every route). */
function slowSample(endpoint: Endpoint): boolean {
  return (
    endpoint.streamBody ||
    [
      '/register',
      '/api/v1/files/upload-init',
      '/docs',
      '/jobs',
      '/api/files/rename',
      '/health',
    ].includes(endpoint.path)
  );
}

describe('HTTP fuzzing of a whole cluster', { timeout: 300_000 }, () => {
  let cluster: WebCluster | undefined;
  let targets: readonly (FuzzTarget & { service: ServiceName })[] = [];
  const report = new FuzzReport();

  before(async () => {
    ({ cluster, targets } = await startFuzzCluster({
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      datanodes: 2,
      searchNodes: 1,
      workers: 1,
    }));
  });
  after(async () => {
    await cluster?.stop();
  });

  test('no service answers 5xx, crashes or hangs; every 4xx is problem+json', async (t) => {
    // The services are separate processes: fuzz them side by side.
    await Promise.all(
      targets.map((target) =>
        fuzzService(
          target,
          {
            seed: SEED,
            runsPerEndpoint: RUNS,
            deadlineMs: 20_000,
            slowDeadlineMs: REQUEST_TIMEOUT_MS + 10_000,
            slow: { hugeBytes: 10.5 * 1024 * 1024, trickleIntervalMs: 200 },
            slowEndpointFilter: slowSample,
            endpointTimeLimitMs: 60_000,
          },
          report,
        ),
      ),
    );
    t.diagnostic(
      formatTable({ title: `fuzz seed=${SEED}`, columns: REPORT_COLUMNS, rows: report.rows() }),
    );
    const failures = report.failures.map((failure) =>
      formatFailure(
        failure,
        targets.find((x) => x.service === failure.service)?.baseUrl ?? '',
        RUNS,
      ),
    );
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });

  test('every service was reached on every endpoint it declares', () => {
    const services = new Set(report.rows().map((row) => row[0]));
    assert.deepEqual([...services].sort(), targets.map((target) => target.service).sort());
    // Streamed bodies are covered: chunk PUT/GET on the datanode, upload/download on the web.
    const endpoints = new Set(report.rows().map((row) => `${row[0]} ${row[1]}`));
    for (const expected of [
      'datanode PUT /api/v1/chunks/{chunk_id}',
      'datanode GET /api/v1/chunks/{chunk_id}',
      'web PUT /api/files/content',
      'web GET /api/files/content',
    ])
      assert.ok(endpoints.has(expected), `${expected} not fuzzed`);
    for (const row of report.rows())
      assert.ok(Number(row[2]) >= RUNS, `${row[0]} ${row[1]}: ${row[2]} requests`);
  });
});
