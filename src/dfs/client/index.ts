export {
  DfsClient,
  encodePath,
  type DfsClientOptions,
  type PutOptions,
  type GetOptions,
} from './dfs-client.js';
