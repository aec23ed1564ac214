/**
 * The master's view of its workers: the membership table of the core (register, heartbeat,
 * expire after `workerTimeoutMs`, recover), one circuit breaker per worker from the core's
 * breaker module (poneglyph-reduce.md: CLOSED -> OPEN after 5 consecutive failures ->
 * HALF_OPEN after 60 s -> CLOSED after 3 successes), and the figures the load-balancing
 * strategies rank workers by (success and failure counts, recent latency, heartbeat age,
 * reported health).
 */
import { CircuitBreaker, type BreakerConfig, type CircuitState } from '../../core/breaker.js';
import type { Clock } from '../../core/clock.js';
import { MembershipTable, type Member } from '../../core/membership.js';
import { asWorkerId, type WorkerFigures, type WorkerId } from './strategies/index.js';

/** What a worker tells about itself at registration and with every heartbeat. */
export interface WorkerPayload {
  readonly host: string;
  readonly url: string;
  readonly slots: number;
  readonly health: number;
  /** False for a worker restored from the schedules after a master restart, not yet heard from. */
  readonly confirmed: boolean;
}

interface WorkerStats {
  succeeded: number;
  failed: number;
  /** Exponentially weighted mean task duration, ms; null before the first success. */
  latencyMs: number | null;
}

/** One worker as `GET /workers` shows it. */
export interface WorkerView {
  worker_id: string;
  host: string;
  url: string;
  status: 'active' | 'lost';
  slots: number;
  running_tasks: number;
  succeeded: number;
  failed: number;
  success_rate: number;
  recent_latency_ms: number | null;
  health: number;
  last_heartbeat_age_ms: number;
  breaker: CircuitState;
  recoveries: number;
}

/** Weight of the newest duration in the latency mean. */
const LATENCY_WEIGHT = 0.3;

/** Workers, their breakers and their figures. */
export class WorkerPool {
  private readonly table: MembershipTable<WorkerPayload>;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly stats = new Map<string, WorkerStats>();

  constructor(
    private readonly clock: Clock,
    workerTimeoutMs: number,
    private readonly breakerConfig: Partial<BreakerConfig>,
    private readonly onBreakerTransition: (
      id: WorkerId,
      from: CircuitState,
      to: CircuitState,
    ) => void,
  ) {
    // Lost workers are kept an hour for the dashboard, then forgotten.
    this.table = new MembershipTable({ timeoutMs: workerTimeoutMs, retentionMs: 3_600_000 });
  }

  /** Registers or refreshes a worker; `recovered` when it was lost. */
  heartbeat(id: WorkerId, payload: WorkerPayload): { created: boolean; recovered: boolean } {
    const nowMs = this.clock.nowMs();
    const known = this.table.get(id);
    if (!known) {
      this.table.register(id, payload, nowMs);
      return { created: true, recovered: false };
    }
    const outcome = this.table.heartbeat(id, nowMs, payload);
    return { created: false, recovered: outcome.kind === 'alive' && outcome.recovered };
  }

  /**
   * After a master restart: workers the schedules mention are presumed alive for one timeout,
   * so that a worker that is still up is not declared lost before its next heartbeat.
   */
  restoreUnconfirmed(ids: readonly WorkerId[]): void {
    const nowMs = this.clock.nowMs();
    for (const id of ids) {
      if (this.table.get(id)) continue;
      this.table.register(id, { host: '', url: '', slots: 0, health: 1, confirmed: false }, nowMs);
    }
  }

  /** Whether the worker is registered and active. */
  isActive(id: WorkerId): boolean {
    return this.table.get(id)?.status === 'active';
  }

  get(id: WorkerId): Member<WorkerPayload> | undefined {
    return this.table.get(id);
  }

  /** Marks silent workers lost; answers their ids. Each loss counts as a breaker failure. */
  sweep(): WorkerId[] {
    const { expired } = this.table.sweep(this.clock.nowMs());
    const lost = expired.map((member) => asWorkerId(member.id));
    for (const id of lost) this.breakerOf(id).record('failure');
    return lost;
  }

  /** A task attempt on the worker succeeded after `durationMs`. */
  recordSuccess(id: WorkerId, durationMs: number): void {
    const stats = this.statsOf(id);
    stats.succeeded += 1;
    stats.latencyMs =
      stats.latencyMs === null
        ? durationMs
        : stats.latencyMs * (1 - LATENCY_WEIGHT) + durationMs * LATENCY_WEIGHT;
    this.breakerOf(id).record('success');
  }

  /**
   * A task attempt on the worker failed. `workerFault` is false for failures of the job itself
   * (user code, bad input): those say nothing about the worker and leave its breaker alone.
   */
  recordFailure(id: WorkerId, workerFault: boolean): void {
    this.statsOf(id).failed += 1;
    if (workerFault) this.breakerOf(id).record('failure');
  }

  /** The breaker state of a worker as of now. */
  breakerState(id: WorkerId): CircuitState {
    return this.breakerOf(id).snapshot().state;
  }

  /** Figures of the active, confirmed workers, for the strategies. */
  figures(runningByWorker: Readonly<Record<string, number>>): WorkerFigures[] {
    const nowMs = this.clock.nowMs();
    return this.table
      .active()
      .filter((member) => member.payload.confirmed)
      .map((member) => {
        const stats = this.statsOf(asWorkerId(member.id));
        return {
          workerId: asWorkerId(member.id),
          host: member.payload.host.toLowerCase(),
          slots: member.payload.slots,
          runningTasks: runningByWorker[member.id] ?? 0,
          succeeded: stats.succeeded,
          failed: stats.failed,
          recentLatencyMs: stats.latencyMs,
          heartbeatAgeMs: Math.max(0, nowMs - member.lastHeartbeatMs),
          breaker: this.breakerState(asWorkerId(member.id)),
          reportedHealth: member.payload.health,
        };
      });
  }

  /** Every known worker, for `GET /workers` and the dashboard. */
  views(runningByWorker: Readonly<Record<string, number>>): WorkerView[] {
    const nowMs = this.clock.nowMs();
    return this.table.list().map((member) => {
      const id = asWorkerId(member.id);
      const stats = this.statsOf(id);
      const finished = stats.succeeded + stats.failed;
      return {
        worker_id: member.id,
        host: member.payload.host,
        url: member.payload.url,
        status: member.status === 'active' ? 'active' : 'lost',
        slots: member.payload.slots,
        running_tasks: runningByWorker[member.id] ?? 0,
        succeeded: stats.succeeded,
        failed: stats.failed,
        success_rate: finished === 0 ? 1 : stats.succeeded / finished,
        recent_latency_ms: stats.latencyMs === null ? null : Math.round(stats.latencyMs),
        health: member.payload.health,
        last_heartbeat_age_ms: Math.max(0, nowMs - member.lastHeartbeatMs),
        breaker: this.breakerState(id),
        recoveries: member.recoveries,
      };
    });
  }

  /** Breaker snapshots of every worker seen so far. */
  breakerViews(): {
    worker_id: string;
    state: CircuitState;
    consecutive_failures: number;
    half_open_successes: number;
    opened_at_ms: number | null;
    retry_after_ms: number;
    transitions: number;
    opens: number;
  }[] {
    return [...this.breakers].map(([id, breaker]) => {
      const snapshot = breaker.snapshot();
      return {
        worker_id: id,
        state: snapshot.state,
        consecutive_failures: snapshot.consecutiveFailures,
        half_open_successes: snapshot.halfOpenSuccesses,
        opened_at_ms: snapshot.openedAtMs,
        retry_after_ms: breaker.retryAfterMs(),
        transitions: snapshot.transitions,
        opens: snapshot.opens,
      };
    });
  }

  private breakerOf(id: WorkerId): CircuitBreaker {
    let breaker = this.breakers.get(id);
    if (!breaker) {
      breaker = new CircuitBreaker(this.clock, this.breakerConfig, (from, to) =>
        this.onBreakerTransition(id, from, to.state),
      );
      this.breakers.set(id, breaker);
    }
    return breaker;
  }

  private statsOf(id: WorkerId): WorkerStats {
    let stats = this.stats.get(id);
    if (!stats) {
      stats = { succeeded: 0, failed: 0, latencyMs: null };
      this.stats.set(id, stats);
    }
    return stats;
  }
}
