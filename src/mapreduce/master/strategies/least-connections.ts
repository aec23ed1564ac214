/**
 * least_connections (poneglyph-reduce.md, "Estrategias Disponibles", 2): the eligible worker
 * with the fewest running tasks; ties in turn (round-robin). Pure.
 */
import { pickBest } from './figures.js';
import type { Strategy } from './types.js';

/** The eligible worker with the fewest running tasks. */
export const leastConnections: Strategy = (workers, task, state, config) =>
  pickBest(workers, task, state, config, (worker) => [-worker.runningTasks]);
