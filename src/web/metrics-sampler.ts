import type { Clock } from '../core/clock.js';
import type { HttpClient } from '../core/http-client.js';
import type { Logger } from '../core/logger.js';
import type { MetricsPoint, MetricsView } from './api-types.js';
import {
  addDeltas,
  counterDelta,
  EMPTY_DELTA,
  histogramQuantile,
  parsePrometheusText,
  summarizeScrape,
  type CounterDelta,
  type CumulativeCounters,
} from './prometheus-text.js';

export interface MetricsSamplerOptions {
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The services to scrape now (the registry itself and its active servers). */
  readonly targets: () => readonly ScrapeTarget[];
  /** Time between scrapes. */
  readonly intervalMs: number;
  /** How much history the charts keep. */
  readonly windowMs: number;
}

interface LastScrape {
  readonly atMs: number;
  readonly counters: CumulativeCounters;
}

type ScrapeError = MetricsView['scrape_errors'][number];

/** A service whose `/metrics` is scraped. */
export interface ScrapeTarget {
  readonly server_id: string;
  readonly role: string;
  readonly url: string;
}

/** The series name that sums every role. */
export const ALL_ROLES = 'all';

/**
 * Scrapes every active service's `/metrics` every few seconds and keeps, per role, a window of
 * rates (requests/s, latency, datanode throughput) for the Overview charts. One scrape round
 * at a time; a service that fails to answer is listed in `scrape_errors`, not charted as zero.
 */
export class MetricsSampler {
  private readonly last = new Map<string, LastScrape>();
  private readonly series = new Map<string, MetricsPoint[]>();
  private errors: ScrapeError[] = [];
  private lastSampleAtMs: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: MetricsSamplerOptions) {}

  /** Starts sampling (the first round at once). */
  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      this.round = this.sampleOnce()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'metrics round failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.options.intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  /** The charts' data as of now. */
  view(): MetricsView {
    return {
      sample_interval_ms: this.options.intervalMs,
      window_ms: this.options.windowMs,
      roles: Object.fromEntries(this.series),
      scrape_errors: this.errors,
      last_sample_at_ms: this.lastSampleAtMs,
    };
  }

  /** One round: scrape every active service, add a point per role. */
  async sampleOnce(): Promise<void> {
    const servers = this.options.targets();
    const results = await Promise.all(servers.map((server) => this.scrape(server)));
    const nowMs = this.options.clock.nowMs();
    const perRole = new Map<string, { delta: CounterDelta; elapsedMs: number }>();
    const errors: ScrapeError[] = [];
    for (const [index, result] of results.entries()) {
      const server = servers[index];
      if (!server) continue;
      if ('error' in result) {
        errors.push({
          server_id: server.server_id,
          role: server.role,
          url: server.url,
          error: result.error,
        });
        continue;
      }
      const previous = this.last.get(server.server_id);
      this.last.set(server.server_id, { atMs: nowMs, counters: result.counters });
      const delta = previous ? counterDelta(previous.counters, result.counters) : null;
      if (!previous || !delta) continue;
      for (const role of [server.role, ALL_ROLES]) {
        const sum = perRole.get(role) ?? { delta: EMPTY_DELTA, elapsedMs: 0 };
        const elapsedMs = Math.max(sum.elapsedMs, nowMs - previous.atMs);
        perRole.set(role, { delta: addDeltas(sum.delta, delta), elapsedMs });
      }
    }
    this.forgetGone(servers);
    for (const [role, { delta, elapsedMs }] of perRole)
      this.append(role, toPoint(delta, elapsedMs, nowMs));
    this.trim(nowMs);
    this.errors = errors;
    this.lastSampleAtMs = nowMs;
  }

  private async scrape(
    server: ScrapeTarget,
  ): Promise<{ counters: CumulativeCounters } | { error: string }> {
    try {
      const response = await this.options.http.request(`${server.url}/metrics`, {
        timeoutMs: Math.max(500, Math.min(this.options.intervalMs, 5_000)),
        maxRetries: 0,
      });
      const text = await response.body.text();
      if (response.status !== 200) return { error: `GET /metrics answered ${response.status}` };
      return { counters: summarizeScrape(parsePrometheusText(text)) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }

  private forgetGone(servers: readonly ScrapeTarget[]): void {
    const ids = new Set(servers.map((server) => server.server_id));
    for (const id of this.last.keys()) if (!ids.has(id)) this.last.delete(id);
  }

  private append(role: string, point: MetricsPoint): void {
    const points = this.series.get(role) ?? [];
    points.push(point);
    this.series.set(role, points);
  }

  private trim(nowMs: number): void {
    const oldestMs = nowMs - this.options.windowMs;
    for (const [role, points] of this.series) {
      const kept = points.filter((point) => point.t_ms >= oldestMs);
      if (kept.length === 0) this.series.delete(role);
      else this.series.set(role, kept);
    }
  }
}

/** Rates of one interval. */
export function toPoint(delta: CounterDelta, elapsedMs: number, tMs: number): MetricsPoint {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const p95 = histogramQuantile(delta.buckets, 0.95);
  return {
    t_ms: tMs,
    requests_per_s: delta.requests / seconds,
    mean_latency_ms:
      delta.durationCount > 0 ? (delta.durationSumS / delta.durationCount) * 1000 : null,
    p95_latency_ms: p95 === null ? null : p95 * 1000,
    written_bytes_per_s: delta.writtenBytes / seconds,
    read_bytes_per_s: delta.readBytes / seconds,
  };
}
