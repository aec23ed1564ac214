/**
 * What every strategy shares: who may take a task at all (eligibility), the health and
 * composite scores of the seed, and the pick with its round-robin tie-break. Pure.
 */
import type {
  StrategyConfig,
  StrategyResult,
  StrategyState,
  TaskDemand,
  WorkerFigures,
} from './types.js';
import { DEFAULT_STRATEGY_CONFIG } from './types.js';

/** Scores closer than this are a tie (floating-point noise must not defeat the rotation). */
const TIE_EPSILON = 1e-9;

/** `config` with its unset fields taken from `DEFAULT_STRATEGY_CONFIG`. */
export function resolveStrategyConfig(config: Partial<StrategyConfig> = {}): StrategyConfig {
  return { ...DEFAULT_STRATEGY_CONFIG, ...config };
}

/** Free task slots of a worker (never negative). */
export function freeSlots(worker: WorkerFigures): number {
  return Math.max(0, worker.slots - worker.runningTasks);
}

/** Running tasks over slots, in [0, 1] (a worker without slots counts as full). */
export function utilization(worker: WorkerFigures): number {
  if (worker.slots <= 0) return 1;
  return Math.min(1, Math.max(0, worker.runningTasks / worker.slots));
}

/**
 * Whether a worker may take this task: a free slot, a circuit that is not OPEN, a heartbeat
 * younger than `staleHeartbeatMs`, and not excluded by the task.
 *
 * The seed also required a success rate above 70 %. We leave that judgement to the circuit
 * breaker: a worker cut off by its success rate gets no task and so can never raise it again,
 * while the breaker's HALF_OPEN state lets a recovered worker earn its way back.
 */
export function isEligible(
  worker: WorkerFigures,
  task: TaskDemand,
  config: StrategyConfig,
): boolean {
  return (
    freeSlots(worker) > 0 &&
    worker.breaker !== 'OPEN' &&
    worker.heartbeatAgeMs < config.staleHeartbeatMs &&
    !(task.excluded ?? []).includes(worker.workerId)
  );
}

/** Succeeded over finished attempts, in [0, 1]; 1 before any (the seed starts at 100 %). */
export function successRate(worker: WorkerFigures): number {
  const finished = worker.succeeded + worker.failed;
  return finished === 0 ? 1 : worker.succeeded / finished;
}

/**
 * Health in [0, 1]: the worker's own report (default 1) times its circuit's standing —
 * CLOSED 1, HALF_OPEN 0.5 (on trial), OPEN 0.
 */
export function healthScore(worker: WorkerFigures): number {
  const reported = Math.min(1, Math.max(0, worker.reportedHealth ?? 1));
  const circuit = worker.breaker === 'CLOSED' ? 1 : worker.breaker === 'HALF_OPEN' ? 0.5 : 0;
  return reported * circuit;
}

/** The parts of the smart_composite score, in points (the weights are the maxima). */
export interface CompositeBreakdown {
  /** 0..30 by heartbeat age: < 10 s 30, < 30 s 20, < 60 s 10, else 0. */
  readonly availability: number;
  /** 0..25: `healthScore * 25`. */
  readonly health: number;
  /** 0..25: `min(1, baselineMs / recentLatencyMs) * 25`; 15 before the first finished task. */
  readonly efficiency: number;
  /** 0..20: `successRate * 20`. */
  readonly reliability: number;
  /** 0, 5, 10 or 15 for utilization above 50 %, 75 %, 90 %. */
  readonly capacityPenalty: number;
  /** The sum minus the penalty, clamped to 0..100. */
  readonly score: number;
}

/** The seed's composite score of a worker: availability 30 %, health 25 %, efficiency 25 %, reliability 20 %, minus a capacity penalty. */
export function compositeScore(
  worker: WorkerFigures,
  config: StrategyConfig = DEFAULT_STRATEGY_CONFIG,
): CompositeBreakdown {
  const availability = availabilityPoints(worker.heartbeatAgeMs);
  const health = healthScore(worker) * 25;
  const latency = worker.recentLatencyMs;
  const efficiency =
    latency === null
      ? 15
      : latency <= 0
        ? 25
        : Math.min(1, config.efficiencyBaselineMs / latency) * 25;
  const reliability = successRate(worker) * 20;
  const capacityPenalty = capacityPenaltyPoints(utilization(worker));
  const sum = availability + health + efficiency + reliability - capacityPenalty;
  const score = Math.min(100, Math.max(0, sum));
  return { availability, health, efficiency, reliability, capacityPenalty, score };
}

function availabilityPoints(heartbeatAgeMs: number): number {
  if (heartbeatAgeMs < 10_000) return 30;
  if (heartbeatAgeMs < 30_000) return 20;
  if (heartbeatAgeMs < 60_000) return 10;
  return 0;
}

function capacityPenaltyPoints(fraction: number): number {
  if (fraction > 0.9) return 15;
  if (fraction > 0.75) return 10;
  if (fraction > 0.5) return 5;
  return 0;
}

/**
 * Picks, among the eligible workers, the one with the highest `rank` (a tuple compared left to
 * right, higher first); ties go to the least recently picked worker, then the smallest id.
 * Returns the choice and the advanced cursor; null (cursor unchanged but pruned) if none is
 * eligible.
 */
export function pickBest(
  workers: readonly WorkerFigures[],
  task: TaskDemand,
  state: StrategyState,
  config: Partial<StrategyConfig> | undefined,
  rank: (worker: WorkerFigures) => readonly number[],
): StrategyResult {
  const cfg = resolveStrategyConfig(config);
  const lastPickedAt = prunedCursor(workers, state.lastPickedAt);
  let best: { worker: WorkerFigures; key: readonly number[] } | null = null;
  for (const worker of workers) {
    if (!isEligible(worker, task, cfg)) continue;
    const key = [...rank(worker), -lastPicked(lastPickedAt, worker)];
    if (best === null || isBetter(key, best.key, worker, best.worker)) best = { worker, key };
  }
  if (best === null) return { workerId: null, state: { tick: state.tick, lastPickedAt } };
  const tick = state.tick + 1;
  lastPickedAt[best.worker.workerId] = tick;
  return { workerId: best.worker.workerId, state: { tick, lastPickedAt } };
}

function isBetter(
  key: readonly number[],
  bestKey: readonly number[],
  worker: WorkerFigures,
  bestWorker: WorkerFigures,
): boolean {
  for (let i = 0; i < key.length; i++) {
    const a = key[i] ?? 0;
    const b = bestKey[i] ?? 0;
    if (Math.abs(a - b) > TIE_EPSILON) return a > b;
  }
  return worker.workerId < bestWorker.workerId;
}

function lastPicked(cursor: Readonly<Record<string, number>>, worker: WorkerFigures): number {
  return Object.hasOwn(cursor, worker.workerId) ? (cursor[worker.workerId] ?? 0) : 0;
}

/** A copy of the cursor holding only the workers of this call (bounded by the cluster size). */
function prunedCursor(
  workers: readonly WorkerFigures[],
  cursor: Readonly<Record<string, number>>,
): Record<string, number> {
  const copy: Record<string, number> = {};
  for (const worker of workers) {
    if (Object.hasOwn(cursor, worker.workerId))
      copy[worker.workerId] = cursor[worker.workerId] ?? 0;
  }
  return copy;
}
