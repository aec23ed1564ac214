import type { Random } from '../core/random.js';

/** How a client picks among the active servers of a role (the seed's frontend client). */
export type SelectionStrategy = 'random' | 'first' | 'round-robin';

/**
 * Orders candidates for one call: the first is tried first, the rest are the fallbacks in
 * order. Pure: `cursor` is the round-robin position, returned advanced.
 */
export function orderCandidates<T>(
  servers: readonly T[],
  strategy: SelectionStrategy,
  cursor: number,
  random: Random,
): { ordered: T[]; cursor: number } {
  if (servers.length === 0) return { ordered: [], cursor };
  let start = 0;
  if (strategy === 'round-robin') start = cursor % servers.length;
  if (strategy === 'random') start = random.int(servers.length);
  const ordered = [...servers.slice(start), ...servers.slice(0, start)];
  return { ordered, cursor: strategy === 'round-robin' ? cursor + 1 : cursor };
}
