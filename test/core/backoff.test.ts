// Rule checked (poneglyph-reduce.md, "Retry Logic"): the delay before a retry is
// `base_delay * (2.0 ^ attempt)` with ±20% jitter "to avoid the thundering herd";
// we also cap the exponential part at `maxMs` before the jitter.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  backoffDelayMs,
  defaultBackoffConfig,
  resolveBackoffConfig,
} from '../../src/core/backoff.js';
import { SeededRandom, type Random } from '../../src/core/random.js';

/** A Random that always answers `value`: pins the jitter factor. */
function fixedRandom(value: number): Random {
  return { next: () => value, int: (max) => Math.floor(value * max), uuid: () => 'fixed' };
}

describe('backoffDelayMs', () => {
  const cases = [
    { attempt: 0, baseMs: 100, maxMs: 10_000, expectedMs: 100 },
    { attempt: 1, baseMs: 100, maxMs: 10_000, expectedMs: 200 },
    { attempt: 3, baseMs: 100, maxMs: 10_000, expectedMs: 800 },
    { attempt: 6, baseMs: 100, maxMs: 10_000, expectedMs: 6_400 },
    { attempt: 7, baseMs: 100, maxMs: 10_000, expectedMs: 10_000 },
    { attempt: 50, baseMs: 100, maxMs: 10_000, expectedMs: 10_000 },
    { attempt: 2_000, baseMs: 1, maxMs: 30_000, expectedMs: 30_000 },
    { attempt: 2_000, baseMs: 0, maxMs: 0, expectedMs: 0 },
  ];
  for (const { attempt, baseMs, maxMs, expectedMs } of cases) {
    test(`attempt ${attempt}, base ${baseMs}, cap ${maxMs}, no jitter -> ${expectedMs} ms`, () => {
      const delayMs = backoffDelayMs(attempt, { baseMs, maxMs, jitter: 0 }, new SeededRandom(1));
      assert.equal(delayMs, expectedMs);
    });
  }

  test('the jitter factor spans [1 - jitter, 1 + jitter): random 0 gives the low end', () => {
    const config = { baseMs: 1_000, maxMs: 60_000, jitter: 0.2 };
    assert.equal(backoffDelayMs(0, config, fixedRandom(0)), 800);
    assert.equal(backoffDelayMs(0, config, fixedRandom(0.5)), 1_000);
    const highMs = backoffDelayMs(0, config, fixedRandom(1 - 2 ** -32));
    assert.ok(highMs < 1_200 && highMs > 1_199.99, `high end ${highMs}`);
  });

  test('defaults are the seed figures: ±20% jitter', () => {
    assert.equal(defaultBackoffConfig.jitter, 0.2);
    assert.equal(backoffDelayMs(2, {}, fixedRandom(0)), defaultBackoffConfig.baseMs * 4 * 0.8);
    assert.deepEqual(resolveBackoffConfig({ baseMs: 5 }), { ...defaultBackoffConfig, baseMs: 5 });
  });

  test('one seed, one sequence of delays', () => {
    const run = (seed: number) => {
      const random = new SeededRandom(seed);
      return [0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, {}, random));
    };
    assert.deepEqual(run(42), run(42));
    assert.notDeepEqual(run(42), run(43));
  });

  test('programmer mistakes are rejected', () => {
    const random = new SeededRandom(1);
    assert.throws(() => backoffDelayMs(-1, {}, random));
    assert.throws(() => backoffDelayMs(1.5, {}, random));
    assert.throws(() => backoffDelayMs(0, { jitter: 1.5 }, random));
    assert.throws(() => backoffDelayMs(0, { baseMs: 100, maxMs: 50 }, random));
  });

  test('property: every delay lies within the jitter bounds around the capped exponential', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 80 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        (attempt, baseMs, extraMs, jitter, seed) => {
          const maxMs = baseMs + extraMs;
          const delayMs = backoffDelayMs(
            attempt,
            { baseMs, maxMs, jitter },
            new SeededRandom(seed),
          );
          const centreMs = Math.min(maxMs, baseMs * 2 ** attempt);
          assert.ok(Number.isFinite(delayMs), `delay ${delayMs} is not finite`);
          assert.ok(delayMs >= centreMs * (1 - jitter) - 1e-9, `${delayMs} below bound`);
          assert.ok(delayMs <= centreMs * (1 + jitter) + 1e-9, `${delayMs} above bound`);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test('property: with the default jitter, many delays spread over most of the ±20% band', () => {
    const random = new SeededRandom(7);
    const factors = Array.from(
      { length: 2_000 },
      () => backoffDelayMs(0, { baseMs: 100 }, random) / 100,
    );
    const low = Math.min(...factors);
    const high = Math.max(...factors);
    assert.ok(low >= 0.8 && low < 0.81, `lowest factor ${low}`);
    assert.ok(high < 1.2 && high > 1.19, `highest factor ${high}`);
  });
});
