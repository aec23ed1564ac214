/**
 * Simulation harness for hypercube routing, shared by the CI tests and scripts/sim-search.ts.
 * The checker here is independent of the code under test: its own breadth-first search says
 * which destinations are reachable and how far, and every hop is checked as it happens.
 */
import {
  createRouteMessage,
  popcount,
  routeStep,
  viewFromLiveIds,
  type DropReason,
  type RouteMessage,
  type RouteView,
} from '../../../src/search/hypercube/index.js';
import type { Simulation } from '../../sim/index.js';

/** How a node knows liveness: the registry's list of live ids, or its neighbours only. */
export type RoutingMode = 'view' | 'neighbours';

/** How one routed message ended. */
export interface RouteOutcome {
  readonly src: number;
  readonly dst: number;
  /** Hops of the live graph's shortest path, or null when unreachable (the checker's answer). */
  readonly shortest: number | null;
  readonly result: 'deliver' | DropReason;
  readonly hops: number;
  readonly backtracks: number;
}

/** Shortest hop distances from `src` through `live` (a plain BFS, written apart from routing). */
export function checkerDistances(
  src: number,
  d: number,
  live: ReadonlySet<number>,
): Map<number, number> {
  const dist = new Map<number, number>();
  if (!live.has(src)) return dist;
  dist.set(src, 0);
  const queue = [src];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head] as number;
    for (let bit = 0; bit < d; bit++) {
      const n = id ^ (1 << bit);
      if (live.has(n) && !dist.has(n)) {
        dist.set(n, (dist.get(id) as number) + 1);
        queue.push(n);
      }
    }
  }
  return dist;
}

/** The live ids of a `d`-cube after killing a `deadFraction` of its slots at random. */
export function randomLiveSet(sim: Simulation, d: number, deadFraction: number): Set<number> {
  const all = Array.from({ length: 2 ** d }, (_, i) => i);
  const dead = Math.round(deadFraction * all.length);
  return new Set(sim.shuffle(all).slice(dead));
}

/** The view a node has in `mode`, given the ids it believes alive. */
export function modeView(
  self: number,
  d: number,
  live: ReadonlySet<number>,
  mode: RoutingMode,
): RouteView {
  const view = viewFromLiveIds(self, d, live);
  return mode === 'view' ? view : { dimensions: d, liveNeighbours: view.liveNeighbours };
}

/** Fails unless the forward from `at` to `next` is legal: a live cube neighbour, never a loop. */
function checkForward(
  at: number,
  next: number,
  backtrack: boolean,
  msg: RouteMessage,
  live: ReadonlySet<number>,
  entered: Set<number>,
): void {
  if (popcount(at ^ next) !== 1) throw new Error(`hop ${at} -> ${next} is not a cube edge`);
  if (!live.has(next)) throw new Error(`hop ${at} -> ${next} goes to a dead node`);
  if (!backtrack && entered.has(next)) throw new Error(`loop: ${next} entered twice`);
  if (backtrack && !entered.has(next)) throw new Error(`backtrack to ${next}, never visited`);
  if (msg.path?.[msg.path.length - 1] !== next)
    throw new Error('path does not end at the next hop');
  entered.add(next);
}

/** Routes one message from `src` to `dst` with stable liveness, checking every hop. */
export function routeAndCheck(
  src: number,
  dst: number,
  d: number,
  live: ReadonlySet<number>,
  mode: RoutingMode,
  hopLimit: number,
  shortest: number | null,
): RouteOutcome {
  let msg: RouteMessage<null> = createRouteMessage(src, dst, null, { hopLimit });
  let at = src;
  let backtracks = 0;
  const entered = new Set([src]);
  for (;;) {
    const decision = routeStep(msg, at, modeView(at, d, live, mode));
    if (decision.msg.hops > hopLimit)
      throw new Error(`${decision.msg.hops} hops > hop_limit ${hopLimit}`);
    if (decision.action !== 'forward') {
      const result = decision.action === 'deliver' ? 'deliver' : decision.reason;
      return { src, dst, shortest, result, hops: decision.msg.hops, backtracks };
    }
    checkForward(at, decision.next, decision.backtrack, decision.msg, live, entered);
    if (decision.backtrack) backtracks++;
    at = decision.next;
    msg = decision.msg;
  }
}

/**
 * The seed's rule alone, without memory: min-XOR live neighbour, until delivered, stuck (no live
 * neighbour) or out of hops. For comparison only; a greedy walk can bounce between two nodes.
 */
export function seedGreedyDelivers(
  src: number,
  dst: number,
  d: number,
  live: ReadonlySet<number>,
  hopLimit: number,
): boolean {
  let at = src;
  for (let hop = 0; hop < hopLimit && at !== dst; hop++) {
    let best: number | null = null;
    for (let bit = d - 1; bit >= 0; bit--) {
      const n = at ^ (1 << bit);
      if (live.has(n) && (best === null || (n ^ dst) < (best ^ dst))) best = n;
    }
    if (best === null) return false;
    at = best;
  }
  return at === dst;
}

/** Options of one routing simulation run. */
export interface RoutingRunOptions {
  readonly dimensions: number;
  readonly deadFraction: number;
  readonly pairs: number;
  readonly hopLimit: number;
  readonly modes: readonly RoutingMode[];
}

/** What one run measured, per mode. */
export interface RoutingRun {
  readonly outcomes: Record<RoutingMode, RouteOutcome[]>;
  readonly greedyDelivered: number;
  readonly greedyReachable: number;
}

/** One seeded run: kill slots, route `pairs` messages in every mode, check each against the checker. */
export function runRouting(sim: Simulation, options: RoutingRunOptions): RoutingRun {
  const { dimensions: d, hopLimit } = options;
  const live = randomLiveSet(sim, d, options.deadFraction);
  const liveIds = [...live].sort((a, b) => a - b);
  const outcomes: Record<RoutingMode, RouteOutcome[]> = { view: [], neighbours: [] };
  let greedyDelivered = 0;
  let greedyReachable = 0;
  for (let i = 0; i < options.pairs && liveIds.length > 0; i++) {
    const src = sim.pick(liveIds);
    const dst = sim.chance(0.1) ? sim.random.int(2 ** d) : sim.pick(liveIds);
    const shortest = checkerDistances(src, d, live).get(dst) ?? null;
    for (const mode of options.modes) {
      const outcome = routeAndCheck(src, dst, d, live, mode, hopLimit, shortest);
      expectOutcome(outcome, mode, hopLimit);
      outcomes[mode].push(outcome);
    }
    if (shortest !== null) {
      greedyReachable++;
      if (seedGreedyDelivers(src, dst, d, live, hopLimit)) greedyDelivered++;
    }
  }
  return { outcomes, greedyDelivered, greedyReachable };
}

/**
 * The guarantees: with a view, every destination within hop_limit in the live graph is delivered
 * along a shortest live path (no backtracking), every other is dropped at the source with the
 * right reason. Without a view, delivery of reachable ones is guaranteed only when hop_limit
 * covers a depth-first search; unreachable ones are never delivered.
 */
export function expectOutcome(o: RouteOutcome, mode: RoutingMode, hopLimit: number): void {
  const where = `${o.src} -> ${o.dst} (${mode}, shortest ${o.shortest ?? 'none'})`;
  if (o.shortest === null) {
    if (o.result !== 'unreachable' && o.result !== 'hop-limit')
      throw new Error(`${where}: ${o.result}, expected a drop`);
    if (mode === 'view' && (o.result !== 'unreachable' || o.hops !== 0))
      throw new Error(`${where}: ${o.result} after ${o.hops} hops`);
    return;
  }
  if (mode === 'neighbours') {
    if (o.result !== 'deliver' && o.result !== 'hop-limit')
      throw new Error(`${where}: ${o.result}`);
    return;
  }
  if (o.shortest > hopLimit) {
    if (o.result !== 'hop-limit' || o.hops !== 0)
      throw new Error(`${where}: ${o.result}, expected hop-limit at source`);
    return;
  }
  if (o.result !== 'deliver') throw new Error(`${where}: ${o.result}, expected deliver`);
  if (o.hops !== o.shortest || o.backtracks !== 0)
    throw new Error(`${where}: ${o.hops} hops, ${o.backtracks} backtracks`);
}
