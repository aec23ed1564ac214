/**
 * Reads the Prometheus text exposition format (what every service's `GET /metrics` answers)
 * and turns two scrapes of one service into the rates the dashboard charts: requests per
 * second, mean and 95th-percentile latency, and datanode throughput.
 *
 * Pure: no I/O, no clock; the sampler passes the text and the times in.
 */

/** One sample line: `name{label="value",...} 12.5`. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Routes left out of request rates: the dashboard's own scrapes and health checks. */
export const UNCOUNTED_ROUTES: ReadonlySet<string> = new Set(['/metrics', '/health']);

/**
 * Routes left out of latency: the registry's blocking query, whose answer time is the hold
 * time the caller asked for (up to minutes), and the dashboard's event stream, which lasts as
 * long as the page stays open; neither says how fast the service is.
 */
export const LATENCY_EXCLUDED_ROUTES: ReadonlySet<string> = new Set([
  '/servers/active',
  '/api/nodes/events',
]);

const REQUESTS = 'tessera_http_requests_total';
const DURATION = 'tessera_http_request_duration_seconds';
const WRITTEN = 'tessera_datanode_written_bytes_total';
const READ = 'tessera_datanode_read_bytes_total';

/** Parses the text format; comment lines and lines it cannot read are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sample = parseLine(line);
    if (sample) samples.push(sample);
  }
  return samples;
}

function parseLine(line: string): PromSample | undefined {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) return undefined;
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest);
    if (!parsed) return undefined;
    labels = parsed.labels;
    rest = rest.slice(parsed.length);
  }
  const valueText = rest.trim().split(/\s+/)[0] ?? '';
  const value = parseValue(valueText);
  return value === undefined ? undefined : { name, labels, value };
}

/** Parses `{a="x",b="y\"z"}` at the start of `text`; answers the labels and the length read. */
function parseLabels(text: string): { labels: Record<string, string>; length: number } | undefined {
  const labels: Record<string, string> = {};
  let at = 1;
  while (at < text.length) {
    while (text[at] === ' ' || text[at] === ',') at += 1;
    if (text[at] === '}') return { labels, length: at + 1 };
    const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(at));
    if (!key || text[at + key[0].length] !== '=' || text[at + key[0].length + 1] !== '"') {
      return undefined;
    }
    at += key[0].length + 2;
    let value = '';
    while (at < text.length && text[at] !== '"') {
      if (text[at] === '\\') {
        const next = text[at + 1];
        value += next === 'n' ? '\n' : (next ?? '');
        at += 2;
      } else {
        value += text[at];
        at += 1;
      }
    }
    if (at >= text.length) return undefined;
    labels[key[0]] = value;
    at += 1;
  }
  return undefined;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** A service's counters at one scrape, summed over routes (cumulative since it started). */
export interface CumulativeCounters {
  readonly requests: number;
  readonly durationSumS: number;
  readonly durationCount: number;
  /** Cumulative histogram: upper bound (`le`, seconds) -> requests at most that slow. */
  readonly buckets: ReadonlyMap<number, number>;
  readonly writtenBytes: number;
  readonly readBytes: number;
}

/** Sums the counters the dashboard uses out of one scrape. */
export function summarizeScrape(samples: readonly PromSample[]): CumulativeCounters {
  let requests = 0;
  let durationSumS = 0;
  let durationCount = 0;
  let writtenBytes = 0;
  let readBytes = 0;
  const buckets = new Map<number, number>();
  for (const sample of samples) {
    const route = sample.labels['route'] ?? '';
    const timed = !UNCOUNTED_ROUTES.has(route) && !LATENCY_EXCLUDED_ROUTES.has(route);
    if (sample.name === REQUESTS && !UNCOUNTED_ROUTES.has(route)) requests += sample.value;
    else if (sample.name === `${DURATION}_sum` && timed) durationSumS += sample.value;
    else if (sample.name === `${DURATION}_count` && timed) durationCount += sample.value;
    else if (sample.name === `${DURATION}_bucket` && timed) {
      const le = parseValue(sample.labels['le'] ?? '');
      if (le !== undefined) buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
    } else if (sample.name === WRITTEN) writtenBytes += sample.value;
    else if (sample.name === READ) readBytes += sample.value;
  }
  return { requests, durationSumS, durationCount, buckets, writtenBytes, readBytes };
}

/** What happened between two scrapes of one service. */
export interface CounterDelta {
  readonly requests: number;
  readonly durationSumS: number;
  readonly durationCount: number;
  readonly buckets: ReadonlyMap<number, number>;
  readonly writtenBytes: number;
  readonly readBytes: number;
}

/** An interval with nothing in it. */
export const EMPTY_DELTA: CounterDelta = {
  requests: 0,
  durationSumS: 0,
  durationCount: 0,
  buckets: new Map(),
  writtenBytes: 0,
  readBytes: 0,
};

/**
 * The counters' growth from `before` to `after`; null when a counter went down (the service
 * restarted, so the interval cannot be measured).
 */
export function counterDelta(
  before: CumulativeCounters,
  after: CumulativeCounters,
): CounterDelta | null {
  const scalar = (key: Exclude<keyof CumulativeCounters, 'buckets'>): number =>
    after[key] - before[key];
  const buckets = new Map<number, number>();
  for (const [le, count] of after.buckets) buckets.set(le, count - (before.buckets.get(le) ?? 0));
  const delta: CounterDelta = {
    requests: scalar('requests'),
    durationSumS: scalar('durationSumS'),
    durationCount: scalar('durationCount'),
    buckets,
    writtenBytes: scalar('writtenBytes'),
    readBytes: scalar('readBytes'),
  };
  const values = [delta.requests, delta.durationCount, delta.writtenBytes, delta.readBytes];
  if (values.some((value) => value < 0) || [...buckets.values()].some((count) => count < 0)) {
    return null;
  }
  return delta;
}

/** Adds two deltas (several services of one role in one interval). */
export function addDeltas(a: CounterDelta, b: CounterDelta): CounterDelta {
  const buckets = new Map(a.buckets);
  for (const [le, count] of b.buckets) buckets.set(le, (buckets.get(le) ?? 0) + count);
  return {
    requests: a.requests + b.requests,
    durationSumS: a.durationSumS + b.durationSumS,
    durationCount: a.durationCount + b.durationCount,
    buckets,
    writtenBytes: a.writtenBytes + b.writtenBytes,
    readBytes: a.readBytes + b.readBytes,
  };
}

/**
 * The `q` quantile (0..1) of a cumulative histogram, interpolated linearly inside the bucket
 * it falls in, as Prometheus' `histogram_quantile` does; null when the histogram is empty.
 * A quantile in the `+Inf` bucket answers the largest finite bound.
 */
export function histogramQuantile(buckets: ReadonlyMap<number, number>, q: number): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? Math.max(0, ...buckets.values());
  if (bounds.length === 0 || total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bound of bounds) {
    const count = buckets.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Number.POSITIVE_INFINITY) return lowerBound;
      const inBucket = count - lowerCount;
      if (inBucket <= 0) return bound;
      return lowerBound + (bound - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
