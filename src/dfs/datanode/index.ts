/** Public API of the datanode: the service, its chunk store and the heartbeat it sends. */
export {
  startDatanode,
  datanodeConfigSchema,
  CHUNK_DIR,
  DATANODE_ROLE,
  META_ROLE,
  type DatanodeConfig,
  type DatanodeDeps,
  type DatanodeHandle,
} from './server.js';
export {
  HEARTBEAT_PATH,
  HeartbeatLoop,
  type DatanodeHeartbeat,
  type HeartbeatLoopOptions,
  type HeartbeatReply,
} from './heartbeat.js';
export { CHECKSUM_HEADER } from './routes.js';
export { parseRangeHeader, type ByteRange } from './byte-range.js';
export { DatanodeState, type SpaceSnapshot } from './node-state.js';
export {
  ChunkStore,
  ChunkCorruptError,
  ChunkNotFoundError,
  ChecksumMismatchError,
  type ChunkStoreOptions,
  type ChunkRead,
} from './chunk-store.js';
export { Scrubber, type ScrubberOptions, type ScrubPassReport } from './scrubber.js';
