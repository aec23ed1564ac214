/**
 * health_based (poneglyph-reduce.md, "Estrategias Disponibles", 4): the eligible worker with
 * the best health (`healthScore`: its own report times its circuit's standing, CLOSED 1,
 * HALF_OPEN 0.5); ties go to the higher success rate, then in turn. Pure.
 */
import { healthScore, pickBest, successRate } from './figures.js';
import type { Strategy } from './types.js';

/** The eligible worker with the highest health score. */
export const healthBased: Strategy = (workers, task, state, config) =>
  pickBest(workers, task, state, config, (worker) => [healthScore(worker), successRate(worker)]);
