/**
 * The data balancer of DistriSearch (distrisearch-balancer.md), run by the leader: the global
 * index term -> {node -> df}, the search-node table, locate with an LRU cache, idempotent index
 * updates and FULL reports, global BM25 statistics, snapshots on disk, rendezvous placement of
 * documents, and the HTTP routes. See docs/search-balancer.md.
 *
 * Everything but `snapshots.ts` (disk) and `routes.ts` (HTTP) is pure: time comes in as `nowMs`.
 */
export { GlobalIndex, type SearchNodeId, type TermDelta } from './global-index.js';
export {
  DEFAULT_DEAD_AFTER_MS,
  DEFAULT_FORGET_AFTER_MS,
  SearchNodeTable,
  type NodeChange,
  type NodeSweep,
  type SearchNodeFigures,
  type SearchNodeInfo,
  type SearchNodePayload,
  type SearchNodeTableOptions,
} from './node-table.js';
export { DEFAULT_LOCATE_CACHE_SIZE, LocateCache, type LocateCacheStats } from './locate-cache.js';
export {
  DataBalancer,
  type BalancerStats,
  type DataBalancerOptions,
  type GlobalStats,
  type IndexUpdate,
  type LocateResult,
  type LocatedNode,
  type NodeStats,
  type UpdateOutcome,
} from './data-balancer.js';
export { placeDocument, placementWeight, primaryOwner } from './placement.js';
export {
  BalancerSnapshotSchema,
  SNAPSHOT_FORMAT,
  SNAPSHOT_NAME_PATTERN,
  SNAPSHOT_VERSION,
  checkSnapshot,
  type BalancerSnapshot,
  type SnapshotNode,
} from './snapshot-format.js';
export {
  BalancerSnapshotStore,
  DEFAULT_SNAPSHOTS_KEPT,
  DEFAULT_SNAPSHOT_INTERVAL_MS,
  SNAPSHOT_SUBDIR,
  SnapshotCorruptError,
  startPeriodicSnapshots,
  type BalancerSnapshotStoreOptions,
  type LatestSnapshot,
  type PeriodicSnapshotOptions,
  type PeriodicSnapshots,
  type SnapshotInfo,
} from './snapshots.js';
export {
  notLeaderError,
  registerBalancerRoutes,
  type BalancerRouteOptions,
  type NotLeaderHandler,
} from './routes.js';
export { MAX_LOCATE_TERMS, MAX_TERM_LENGTH } from './schemas.js';
