/**
 * round_robin (poneglyph-reduce.md, "Estrategias Disponibles", 1): tasks go to the eligible
 * workers in turn. The turn is the least recently picked worker (a per-worker cursor rather
 * than one index, so the rotation stays even when workers come and go). Pure.
 */
import { pickBest } from './figures.js';
import type { Strategy } from './types.js';

/** The eligible worker picked least recently; never-picked workers first, by id. */
export const roundRobin: Strategy = (workers, task, state, config) =>
  pickBest(workers, task, state, config, () => []);
