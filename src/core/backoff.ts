import assert from 'node:assert/strict';
import type { Random } from './random.js';

/**
 * Exponential backoff with jitter, the retry delay of the fault-tolerance middleware of
 * poneglyph-reduce.md: `base_delay * (2.0 ^ attempt)`, with ±20% jitter "to avoid the
 * thundering herd". Pure: randomness comes from the caller's `Random`.
 */
export interface BackoffConfig {
  /** Delay before the first retry (attempt 0), in milliseconds. */
  readonly baseMs: number;
  /** Ceiling applied to `baseMs * 2^attempt` before the jitter, in milliseconds. */
  readonly maxMs: number;
  /** Relative jitter: the delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter]. */
  readonly jitter: number;
}

/** Defaults: 100 ms base, 10 s ceiling, ±20% jitter (the seed's figure). */
export const defaultBackoffConfig: BackoffConfig = Object.freeze({
  baseMs: 100,
  maxMs: 10_000,
  jitter: 0.2,
});

/** Fills the unset fields of a partial backoff configuration with `defaultBackoffConfig`. */
export function resolveBackoffConfig(partial: Partial<BackoffConfig> = {}): BackoffConfig {
  const config = { ...defaultBackoffConfig, ...partial };
  assert.ok(Number.isFinite(config.baseMs) && config.baseMs >= 0, 'baseMs must be >= 0');
  assert.ok(config.maxMs >= config.baseMs, 'maxMs must be >= baseMs');
  assert.ok(config.jitter >= 0 && config.jitter <= 1, 'jitter must be within [0, 1]');
  return config;
}

/**
 * The delay before retry number `attempt` (0 for the first retry):
 * `min(maxMs, baseMs * 2^attempt) * u`, with `u` uniform in [1 - jitter, 1 + jitter).
 * The ceiling is applied before the jitter, so a delay may exceed `maxMs` by `jitter * maxMs`;
 * that keeps retries of many clients spread even once they all sit at the ceiling.
 */
export function backoffDelayMs(
  attempt: number,
  config: Partial<BackoffConfig>,
  random: Random,
): number {
  assert.ok(Number.isInteger(attempt) && attempt >= 0, 'attempt must be an integer >= 0');
  const { baseMs, maxMs, jitter } = resolveBackoffConfig(config);
  // 2^attempt overflows to Infinity past 1023; 0 * Infinity would be NaN.
  const exponentialMs = baseMs === 0 ? 0 : Math.min(maxMs, baseMs * 2 ** attempt);
  const factor = 1 - jitter + 2 * jitter * random.next();
  return exponentialMs * factor;
}
