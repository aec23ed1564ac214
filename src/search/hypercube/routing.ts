/**
 * XOR routing on an incomplete hypercube (distrisearch-architecture.md, "Algoritmo de Ruteo" and
 * "Flujo 3"). The seed's rule — flip the highest differing bit if that neighbour is alive, else
 * take the live neighbour with the smallest XOR distance to the destination — is the same as
 * "take the live neighbour with the smallest XOR distance" (flipping a higher differing bit always
 * shrinks the XOR more), so every choice below is ordered by XOR distance.
 *
 * Plain greedy gets stuck in holes of an incomplete cube, so a route message remembers where it
 * has been (`visited`, never entered twice: no loops) and its current route (`path`, a stack that
 * lets it back out of a dead end). With a view of the live ids (from the registry) a node only
 * considers neighbours on a shortest live path to the destination, so a message takes the live
 * graph's shortest path; without one, routing is a greedy depth-first search. See
 * docs/search-overlay.md.
 */
import { areNeighbors, isValidId, xorDistance } from './ids.js';
import { nearestTargets } from './live-graph.js';
import type { RouteMessage, RoutedMessage } from './route-message.js';

/** What a node knows about which ids are alive. */
export interface RouteView {
  /** d, the number of bits of an id. */
  readonly dimensions: number;
  /** The neighbours of this node it believes alive (its own failure detection wins over liveIds). */
  readonly liveNeighbours: readonly number[];
  /**
   * Every id this node believes alive, e.g. from the registry. When given, routing follows
   * shortest live paths; when absent, it is a greedy depth-first search over neighbours only.
   */
  readonly liveIds?: ReadonlySet<number>;
}

/** Why a message was dropped. */
export type DropReason =
  /** No live route to the destination exists (as far as this node can tell). */
  | 'unreachable'
  /** The destination cannot be reached within the remaining hop limit. */
  | 'hop-limit'
  /** The destination is not an id of this cube. */
  | 'invalid-destination'
  /** The routing fields are inconsistent (e.g. the holder is not the end of the path). */
  | 'invalid-message';

/** The decision of one node about one route message. */
export type RouteDecision<P = unknown> =
  | { readonly action: 'deliver'; readonly msg: RoutedMessage<P> }
  | {
      readonly action: 'forward';
      /** The id to send `msg` to. */
      readonly next: number;
      /** True when `next` is the previous hop: the message backs out of a dead end. */
      readonly backtrack: boolean;
      readonly msg: RoutedMessage<P>;
    }
  | {
      readonly action: 'drop';
      readonly reason: DropReason;
      readonly detail: string;
      readonly msg: RoutedMessage<P>;
    };

/**
 * One routing step at node `self`: deliver the message, forward it (to a next hop or back to the
 * previous one), or drop it with a reason. Pure. When the send to `next` fails, the driver marks
 * `next` dead in its view (`withoutId`) and calls `routeStep` again with the same message.
 */
export function routeStep<P>(
  msg: RouteMessage<P>,
  self: number,
  view: RouteView,
): RouteDecision<P> {
  if (!isValidId(self, view.dimensions)) {
    throw new RangeError(`self ${self} is not an id of a ${view.dimensions}-cube`);
  }
  const routed = normalize(msg, self);
  if (!isValidId(routed.dest_id, view.dimensions)) {
    return drop(
      routed,
      'invalid-destination',
      `dest_id ${routed.dest_id} is not an id of this cube`,
    );
  }
  const problem = validate(routed, self, view.dimensions);
  if (problem !== null) return drop(routed, 'invalid-message', problem);
  if (routed.dest_id === self) return { action: 'deliver', msg: routed };
  if (routed.hop_limit <= 0) return drop(routed, 'hop-limit', 'no hops left');
  const choice = chooseNextHop(routed, self, view);
  if (choice.kind === 'next') return forward(routed, choice.next);
  if (choice.kind === 'too-far') {
    return drop(routed, 'hop-limit', `${choice.hopsNeeded} hops needed, ${routed.hop_limit} left`);
  }
  return backtrackOrDrop(routed, view);
}

/** A copy of `view` in which `id` is dead (e.g. after a failed send to it). */
export function withoutId(view: RouteView, id: number): RouteView {
  const liveNeighbours = view.liveNeighbours.filter((n) => n !== id);
  if (view.liveIds === undefined) return { dimensions: view.dimensions, liveNeighbours };
  const liveIds = new Set(view.liveIds);
  liveIds.delete(id);
  return { dimensions: view.dimensions, liveNeighbours, liveIds };
}

/** A view for `self` from the set of ids believed alive (neighbours included). */
export function viewFromLiveIds(
  self: number,
  dimensions: number,
  liveIds: ReadonlySet<number>,
): RouteView {
  const liveNeighbours: number[] = [];
  for (let bit = 0; bit < dimensions; bit++) {
    const neighbour = self ^ (1 << bit);
    if (liveIds.has(neighbour)) liveNeighbours.push(neighbour);
  }
  return { dimensions, liveNeighbours, liveIds };
}

type NextHopChoice =
  | { readonly kind: 'next'; readonly next: number }
  | { readonly kind: 'too-far'; readonly hopsNeeded: number }
  | { readonly kind: 'stuck' };

function chooseNextHop<P>(msg: RoutedMessage<P>, self: number, view: RouteView): NextHopChoice {
  const visited = new Set(msg.visited);
  const candidates = view.liveNeighbours.filter(
    (n) => areNeighbors(n, self) && isValidId(n, view.dimensions) && !visited.has(n),
  );
  if (candidates.length === 0) return { kind: 'stuck' };
  if (view.liveIds === undefined)
    return { kind: 'next', next: closestByXor(candidates, msg.dest_id) };
  const liveIds = view.liveIds;
  const neighbourSet = new Set(view.liveNeighbours);
  const isVertex = (id: number): boolean =>
    !visited.has(id) && (areNeighbors(id, self) ? neighbourSet.has(id) : liveIds.has(id));
  const nearest = nearestTargets(msg.dest_id, view.dimensions, isVertex, new Set(candidates));
  if (nearest === null) return { kind: 'stuck' };
  const hopsNeeded = nearest.distance + 1;
  if (hopsNeeded > msg.hop_limit) return { kind: 'too-far', hopsNeeded };
  return { kind: 'next', next: closestByXor(nearest.targets, msg.dest_id) };
}

/** The seed's preference: the candidate with the smallest XOR distance to the destination. */
function closestByXor(candidates: readonly number[], dest: number): number {
  let best = candidates[0];
  if (best === undefined) throw new RangeError('closestByXor needs a candidate');
  for (const c of candidates) if (xorDistance(c, dest) < xorDistance(best, dest)) best = c;
  return best;
}

function normalize<P>(msg: RouteMessage<P>, self: number): RoutedMessage<P> {
  const path = msg.path !== undefined && msg.path.length > 0 ? msg.path : [self];
  const visited = msg.visited ?? path;
  return {
    type: 'route',
    dest_id: msg.dest_id,
    hop_limit: msg.hop_limit,
    payload: msg.payload,
    source_id: msg.source_id ?? path[0] ?? self,
    path,
    visited,
    hops: msg.hops ?? 0,
  };
}

function validate<P>(msg: RoutedMessage<P>, self: number, dimensions: number): string | null {
  if (!Number.isInteger(msg.hop_limit) || msg.hop_limit < 0)
    return 'hop_limit must be an integer >= 0';
  if (!Number.isInteger(msg.hops) || msg.hops < 0) return 'hops must be an integer >= 0';
  if (msg.path[msg.path.length - 1] !== self)
    return `the holder ${self} is not the end of the path`;
  const visited = new Set(msg.visited);
  for (const [i, id] of msg.path.entries()) {
    if (!isValidId(id, dimensions)) return `path holds ${id}, not an id of this cube`;
    if (!visited.has(id)) return `path id ${id} is missing from visited`;
    const previous = msg.path[i - 1];
    if (previous !== undefined && !areNeighbors(previous, id))
      return 'path is not a walk on the cube';
  }
  return null;
}

function forward<P>(msg: RoutedMessage<P>, next: number): RouteDecision<P> {
  return {
    action: 'forward',
    next,
    backtrack: false,
    msg: {
      ...msg,
      hop_limit: msg.hop_limit - 1,
      hops: msg.hops + 1,
      path: [...msg.path, next],
      visited: [...msg.visited, next],
    },
  };
}

function backtrackOrDrop<P>(msg: RoutedMessage<P>, view: RouteView): RouteDecision<P> {
  const previous = msg.path[msg.path.length - 2];
  if (previous === undefined) {
    return drop(msg, 'unreachable', `no live route from ${msg.source_id} to ${msg.dest_id}`);
  }
  if (!view.liveNeighbours.includes(previous)) {
    return drop(
      msg,
      'unreachable',
      `stuck at ${msg.path[msg.path.length - 1]}, previous hop ${previous} is down`,
    );
  }
  return {
    action: 'forward',
    next: previous,
    backtrack: true,
    msg: { ...msg, hop_limit: msg.hop_limit - 1, hops: msg.hops + 1, path: msg.path.slice(0, -1) },
  };
}

function drop<P>(msg: RoutedMessage<P>, reason: DropReason, detail: string): RouteDecision<P> {
  return { action: 'drop', reason, detail, msg };
}
