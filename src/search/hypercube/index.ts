/**
 * The hypercube overlay of DistriSearch: ids, neighbours, XOR distance and loop-free routing on
 * an incomplete cube. Pure functions; the node's HTTP layer drives them (docs/search-overlay.md).
 */
export {
  DEFAULT_DIMENSIONS,
  MAX_DIMENSIONS,
  areNeighbors,
  assertValidId,
  binaryId,
  highestDifferingBit,
  isValidDimensions,
  isValidId,
  neighbors,
  popcount,
  slotCount,
  xorDistance,
} from './ids.js';
export { distancesFrom, nearestTargets, type NearestTargets } from './live-graph.js';
export {
  DEFAULT_HOP_LIMIT,
  createRouteMessage,
  type CreateRouteOptions,
  type RouteMessage,
  type RoutedMessage,
} from './route-message.js';
export {
  routeStep,
  viewFromLiveIds,
  withoutId,
  type DropReason,
  type RouteDecision,
  type RouteView,
} from './routing.js';
