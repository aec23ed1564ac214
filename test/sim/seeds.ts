/**
 * Running a simulation over many seeds: a failure names its seed (`seed=N`) so that it can be
 * replayed alone, e.g. `SIM_SEED=N node --import tsx --test test/...`.
 */

/** `count` consecutive seeds from `first`. */
export function seedRange(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

/**
 * The seeds a test should run: just `SIM_SEED` when that environment variable is set (to replay
 * one failure), else `defaults`. Tests read the environment here, never inside protocol code.
 */
export function seedsFromEnv(defaults: readonly number[]): number[] {
  const only = process.env['SIM_SEED'];
  if (only === undefined || only === '') return [...defaults];
  const seed = Number(only);
  if (!Number.isInteger(seed)) throw new RangeError(`SIM_SEED must be an integer, got ${only}`);
  return [seed];
}

/** An error that names the seed whose run failed. */
export class SeedFailure extends Error {
  constructor(
    readonly seed: number,
    cause: unknown,
  ) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`seed=${seed}: ${message}`, { cause });
    this.name = 'SeedFailure';
  }
}

/** Runs `run` for each seed; the first failure is rethrown as a `SeedFailure`. */
export function forEachSeed<R>(seeds: readonly number[], run: (seed: number) => R): R[] {
  const results: R[] = [];
  for (const seed of seeds) {
    try {
      results.push(run(seed));
    } catch (error) {
      throw new SeedFailure(seed, error);
    }
  }
  return results;
}
