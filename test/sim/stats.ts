/** Small summaries of simulation figures (hop counts, times). */

/** Mean, percentiles and extremes of a sample. */
export interface Summary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly min: number;
}

/** Summarizes `values` (nearest-rank percentiles); an empty sample gives zeros. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, mean: 0, p50: 0, p99: 0, max: 0, min: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? 0;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    p50: rank(0.5),
    p99: rank(0.99),
    max: sorted[sorted.length - 1] ?? 0,
    min: sorted[0] ?? 0,
  };
}

/** One line: `n=… mean=… p50=… p99=… max=…`. */
export function formatSummary(summary: Summary): string {
  return `n=${summary.count} mean=${summary.mean.toFixed(2)} p50=${summary.p50} p99=${summary.p99} max=${summary.max}`;
}
