/**
 * smart_composite (poneglyph-reduce.md, "Estrategias Disponibles", 5, and "Métricas
 * Consideradas"): the eligible worker with the highest composite score — availability 30 %,
 * health 25 %, efficiency 25 %, reliability 20 %, minus a capacity penalty (`compositeScore`) —
 * plus, as in the seed's selection, a bonus of up to 5 points for free capacity
 * (`5 * freeSlots / slots`), which spreads tasks among equally scored workers. Ties in turn. Pure.
 */
import { compositeScore, freeSlots, pickBest, resolveStrategyConfig } from './figures.js';
import type { Strategy, WorkerFigures } from './types.js';
import type { StrategyConfig } from './types.js';

/** The selection score of smart_composite: composite score plus the free-capacity bonus. */
export function smartCompositeScore(worker: WorkerFigures, config: StrategyConfig): number {
  const bonus = worker.slots > 0 ? (5 * freeSlots(worker)) / worker.slots : 0;
  return compositeScore(worker, config).score + bonus;
}

/** The eligible worker with the best composite score. */
export const smartComposite: Strategy = (workers, task, state, config) => {
  const cfg = resolveStrategyConfig(config);
  return pickBest(workers, task, state, cfg, (worker) => [smartCompositeScore(worker, cfg)]);
};
