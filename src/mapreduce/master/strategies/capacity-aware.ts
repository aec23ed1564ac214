/**
 * capacity_aware (poneglyph-reduce.md, "Estrategias Disponibles", 3): the eligible worker with
 * the most free slots (`slots - runningTasks`, as the seed's `available_capacity`); ties go to
 * the lower utilization, then in turn. Pure.
 */
import { freeSlots, pickBest, utilization } from './figures.js';
import type { Strategy } from './types.js';

/** The eligible worker with the most free slots. */
export const capacityAware: Strategy = (workers, task, state, config) =>
  pickBest(workers, task, state, config, (worker) => [freeSlots(worker), -utilization(worker)]);
