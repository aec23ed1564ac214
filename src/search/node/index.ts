/**
 * The search node (`tessera search-node`): HTTP API, distributed search coordinator, document
 * placement and re-replication, election driver, balancer link. See docs/search.md.
 */
export {
  searchNodeConfigSchema,
  startSearchNode,
  type SearchNodeConfig,
  type SearchNodeHandle,
} from './server.js';
export { MAX_CONTENT_LENGTH } from './schemas.js';
export {
  SearchClient,
  type StoredSearchDocument,
  type SearchClientOptions,
  type SearchDocument,
  type SearchRequestOptions,
  type SearchResponse,
  type SearchResult,
} from './client.js';
export { SEARCH_NODE_ROLE, peersFromServers, type PeerRecord } from './cluster-view.js';
export {
  coordinateSearch,
  type DistributedQuery,
  type NodeCaller,
  type NodeHit,
  type RemoteSearch,
  type SearchOutcome,
} from './coordinator.js';
export { groupByOwner, placeAndStore, type StoreBatch, type WriteOutcome } from './writer.js';
export { planRepair, type RepairPlan } from './repair.js';
export { JoinAllocator, lowestFreeId } from './join.js';
