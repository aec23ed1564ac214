/**
 * Breadth-first search over the live part of the cube: the graph whose vertices are the ids
 * believed alive and whose edges join ids one bit flip apart. Routing uses it to pick next hops
 * that lie on a shortest live path.
 */

/** The closest targets to a root, and their distance from it. */
export interface NearestTargets {
  readonly distance: number;
  /** Every target at that distance. */
  readonly targets: readonly number[];
}

/**
 * Searches outward from `root` through the ids for which `isVertex` holds and returns the targets
 * closest to it (all of those at the minimal distance), or null when no target is reachable.
 * `root` itself must be a vertex. Cost: O(V * d) for V vertices reached.
 */
export function nearestTargets(
  root: number,
  dimensions: number,
  isVertex: (id: number) => boolean,
  targets: ReadonlySet<number>,
): NearestTargets | null {
  if (!isVertex(root)) return null;
  const seen = new Set<number>([root]);
  let frontier = [root];
  for (let distance = 0; frontier.length > 0; distance++) {
    const found = frontier.filter((id) => targets.has(id));
    if (found.length > 0) return { distance, targets: found };
    frontier = expand(frontier, dimensions, isVertex, seen);
  }
  return null;
}

/** Shortest hop distances from `root` to every vertex reachable from it. */
export function distancesFrom(
  root: number,
  dimensions: number,
  isVertex: (id: number) => boolean,
): Map<number, number> {
  const distances = new Map<number, number>();
  if (!isVertex(root)) return distances;
  const seen = new Set<number>([root]);
  let frontier = [root];
  for (let distance = 0; frontier.length > 0; distance++) {
    for (const id of frontier) distances.set(id, distance);
    frontier = expand(frontier, dimensions, isVertex, seen);
  }
  return distances;
}

function expand(
  frontier: readonly number[],
  dimensions: number,
  isVertex: (id: number) => boolean,
  seen: Set<number>,
): number[] {
  const next: number[] = [];
  for (const id of frontier) {
    for (let bit = 0; bit < dimensions; bit++) {
      const neighbour = id ^ (1 << bit);
      if (seen.has(neighbour) || !isVertex(neighbour)) continue;
      seen.add(neighbour);
      next.push(neighbour);
    }
  }
  return next;
}
