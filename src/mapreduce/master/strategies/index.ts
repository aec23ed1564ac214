/**
 * The five load-balancing strategies of poneglyph-reduce.md, by name. Each is a pure function
 * `(workers, task, state, config?) -> {workerId | null, state}`; `selectWorker` dispatches.
 */
import { capacityAware } from './capacity-aware.js';
import { healthBased } from './health-based.js';
import { leastConnections } from './least-connections.js';
import { roundRobin } from './round-robin.js';
import { smartComposite } from './smart-composite.js';
import type {
  Strategy,
  StrategyConfig,
  StrategyName,
  StrategyResult,
  StrategyState,
  TaskDemand,
  WorkerFigures,
} from './types.js';

export * from './types.js';
export {
  compositeScore,
  freeSlots,
  healthScore,
  isEligible,
  resolveStrategyConfig,
  successRate,
  utilization,
  type CompositeBreakdown,
} from './figures.js';
export { smartCompositeScore } from './smart-composite.js';
export { capacityAware, healthBased, leastConnections, roundRobin, smartComposite };

/** Every strategy by its name. */
export const STRATEGIES: Readonly<Record<StrategyName, Strategy>> = Object.freeze({
  round_robin: roundRobin,
  least_connections: leastConnections,
  capacity_aware: capacityAware,
  health_based: healthBased,
  smart_composite: smartComposite,
});

/** The seed's recommended strategy. */
export const DEFAULT_STRATEGY: StrategyName = 'smart_composite';

/** Chooses a worker for `task` with the named strategy. */
export function selectWorker(
  name: StrategyName,
  workers: readonly WorkerFigures[],
  task: TaskDemand,
  state: StrategyState,
  config?: Partial<StrategyConfig>,
): StrategyResult {
  return STRATEGIES[name](workers, task, state, config);
}
