// Rule checked (dfs-architecture.md, "Frontend Web": "Gráficos de throughput y latencia"; issue 6:
// charts of request rate, latency and throughput from the services' metrics): the dashboard reads
// the Prometheus text each service serves, sums requests and latency over routes (leaving out its
// own scrapes, health checks and long-held requests), turns two scrapes into per-second rates, and
// estimates the 95th percentile from histogram buckets as Prometheus' histogram_quantile does.
// A counter that went down (a restarted service) yields no point rather than a negative rate.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createServiceMetrics } from '../../src/core/metrics.js';
import {
  addDeltas,
  counterDelta,
  histogramQuantile,
  parsePrometheusText,
  summarizeScrape,
} from '../../src/web/prometheus-text.js';
import { toPoint } from '../../src/web/metrics-sampler.js';

describe('parsePrometheusText', () => {
  test('reads names, labels with escapes, values, and skips comments and bad lines', () => {
    const text = [
      '# HELP x a counter',
      '# TYPE x counter',
      'x{route="/a",msg="say \\"hi\\"\\n"} 3',
      'y 1.5e3 1700000000000',
      'z{le="+Inf"} +Inf',
      'broken{route="/a" 4',
      '',
    ].join('\n');
    assert.deepEqual(parsePrometheusText(text), [
      { name: 'x', labels: { route: '/a', msg: 'say "hi"\n' }, value: 3 },
      { name: 'y', labels: {}, value: 1500 },
      { name: 'z', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY },
    ]);
  });

  test("sums a real service's request counters and latency histogram over routes", async () => {
    const metrics = createServiceMetrics('test');
    metrics.httpRequests.inc({ method: 'GET', route: '/files', status: '200' }, 5);
    metrics.httpRequests.inc({ method: 'PUT', route: '/chunks/:id', status: '201' }, 2);
    metrics.httpRequests.inc({ method: 'GET', route: '/metrics', status: '200' }, 100);
    metrics.httpRequests.inc({ method: 'GET', route: '/servers/active', status: '200' }, 1);
    metrics.httpDuration.observe({ method: 'GET', route: '/files' }, 0.002);
    metrics.httpDuration.observe({ method: 'PUT', route: '/chunks/:id' }, 0.2);
    metrics.httpDuration.observe({ method: 'GET', route: '/health' }, 9);
    metrics.httpDuration.observe({ method: 'GET', route: '/servers/active' }, 30);
    const counters = summarizeScrape(parsePrometheusText(await metrics.registry.metrics()));
    assert.equal(counters.requests, 8, '/metrics is not counted; the blocking query is');
    assert.equal(counters.durationCount, 2, 'health checks and blocking queries are not timed');
    assert.ok(Math.abs(counters.durationSumS - 0.202) < 1e-9);
    assert.equal(counters.buckets.get(Number.POSITIVE_INFINITY), 2);
    assert.equal(counters.buckets.get(0.0025), 1);
    assert.equal(counters.writtenBytes, 0);
  });
});

describe('rates between two scrapes', () => {
  const scrape = (requests: number, written: number, buckets: [number, number][]) => ({
    requests,
    durationSumS: requests * 0.01,
    durationCount: requests,
    buckets: new Map(buckets),
    writtenBytes: written,
    readBytes: 0,
  });

  test('are the counters growth per second, with mean and p95 latency', () => {
    const before = scrape(100, 1000, [
      [0.01, 100],
      [0.1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    const after = scrape(300, 5000, [
      [0.01, 250],
      [0.1, 300],
      [Number.POSITIVE_INFINITY, 300],
    ]);
    const delta = counterDelta(before, after);
    assert.ok(delta);
    const point = toPoint(delta, 2_000, 42);
    assert.equal(point.t_ms, 42);
    assert.equal(point.requests_per_s, 100);
    assert.equal(point.written_bytes_per_s, 2000);
    assert.ok(point.mean_latency_ms !== null && Math.abs(point.mean_latency_ms - 10) < 1e-9);
    // 150 of 200 new requests took at most 10 ms; the 190th falls 40/50 into (10 ms, 100 ms].
    assert.ok(point.p95_latency_ms !== null && Math.abs(point.p95_latency_ms - 82) < 1e-9);
  });

  test('a counter that went down (a restart) gives no delta', () => {
    assert.equal(counterDelta(scrape(100, 0, []), scrape(5, 0, [])), null);
    assert.equal(counterDelta(scrape(1, 0, [[1, 9]]), scrape(2, 0, [[1, 3]])), null);
  });

  test('an interval without requests has no latency', () => {
    const same = scrape(7, 0, [[1, 7]]);
    const delta = counterDelta(same, same);
    assert.ok(delta);
    const point = toPoint(delta, 1_000, 0);
    assert.equal(point.requests_per_s, 0);
    assert.equal(point.mean_latency_ms, null);
    assert.equal(point.p95_latency_ms, null);
  });

  test('deltas of several services add up', () => {
    const one = counterDelta(scrape(0, 0, [[1, 0]]), scrape(3, 10, [[1, 3]]));
    const two = counterDelta(scrape(0, 0, [[1, 0]]), scrape(4, 20, [[1, 4]]));
    assert.ok(one && two);
    const sum = addDeltas(one, two);
    assert.equal(sum.requests, 7);
    assert.equal(sum.writtenBytes, 30);
    assert.equal(sum.buckets.get(1), 7);
  });
});

describe('histogramQuantile', () => {
  const bounds = [0.001, 0.01, 0.1, 1, Number.POSITIVE_INFINITY];
  const histogram = fc
    .array(fc.nat({ max: 1000 }), { minLength: bounds.length, maxLength: bounds.length })
    .map((counts) => {
      let total = 0;
      return new Map(bounds.map((bound, index) => [bound, (total += counts[index] ?? 0)]));
    });

  test('is null for an empty histogram', () => {
    assert.equal(histogramQuantile(new Map(), 0.95), null);
    assert.equal(
      histogramQuantile(
        new Map([
          [1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
        0.5,
      ),
      null,
    );
  });

  test('grows with q and stays between 0 and the largest finite bound', () => {
    fc.assert(
      fc.property(
        histogram,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (buckets, a, b) => {
          const low = histogramQuantile(buckets, Math.min(a, b));
          const high = histogramQuantile(buckets, Math.max(a, b));
          if (buckets.get(Number.POSITIVE_INFINITY) === 0) return low === null && high === null;
          assert.ok(low !== null && high !== null);
          assert.ok(
            low <= high + 1e-12,
            `q=${Math.min(a, b)} -> ${low} > q=${Math.max(a, b)} -> ${high}`,
          );
          assert.ok(low >= 0 && high <= 1);
          return true;
        },
      ),
      { numRuns: 300, seed: 6 },
    );
  });

  test('lands in the bucket that holds the rank', () => {
    fc.assert(
      fc.property(histogram, (buckets) => {
        const total = buckets.get(Number.POSITIVE_INFINITY) ?? 0;
        const value = histogramQuantile(buckets, 0.95);
        if (total === 0) return value === null;
        const finite = bounds.filter((bound) => Number.isFinite(bound));
        const upper = finite.find((bound) => (buckets.get(bound) ?? 0) >= 0.95 * total);
        const lower = [0, ...finite].filter((bound) => bound < (upper ?? Infinity)).pop() ?? 0;
        assert.ok(value !== null);
        if (upper === undefined) assert.equal(value, 1, 'beyond the last finite bound: that bound');
        else
          assert.ok(
            value >= lower - 1e-12 && value <= upper + 1e-12,
            `${value} not in [${lower}, ${upper}]`,
          );
        return true;
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
