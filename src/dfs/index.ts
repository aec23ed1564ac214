/** Public entry of the DFS subsystem. */
export { startMeta, metaConfigSchema, type MetaConfig, type MetaHandle } from './meta/server.js';
export type { FileAclView, FileMetadata, ChunkInfo, ReplicaInfo, NodeInfo } from './meta/types.js';
export type { FileSummary } from './meta/views.js';
export {
  DfsClient,
  FileChangedError,
  type StreamRange,
  type DfsClientOptions,
  type PutOptions,
  type GetOptions,
} from './client/index.js';
export {
  startDatanode,
  datanodeConfigSchema,
  type DatanodeConfig,
  type DatanodeHandle,
} from './datanode/index.js';
