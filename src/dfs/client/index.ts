export {
  DfsClient,
  FileChangedError,
  encodePath,
  type StreamRange,
  type DfsClientOptions,
  type PutOptions,
  type GetOptions,
} from './dfs-client.js';
