/**
 * The client process of the DFS benchmark, forked by `startWorker` (dfs-worker-protocol.ts):
 * it runs one job per IPC message (a ceiling transfer, a `DfsClient` transfer or the metadata
 * load), answers its timing, and exits when the parent disconnects.
 */
import { DfsClient } from '../../src/dfs/index.js';
import { ceilingGet, ceilingPut } from './dfs-ceiling-client.js';
import { metaLoad } from './dfs-meta-load.js';
import type {
  MetaLoadResult,
  TransferResult,
  WorkerReply,
  WorkerRequest,
} from './dfs-worker-protocol.js';

async function handle(request: WorkerRequest): Promise<TransferResult | MetaLoadResult> {
  switch (request.op) {
    case 'ceiling-put':
      return ceilingPut(request.file, request.urls);
    case 'ceiling-get':
      return ceilingGet(request.url, request.dest);
    case 'dfs-put':
      return withClient(request, async (client) => {
        const metadata = await client.putFile(request.local, request.remote, { replication: 3 });
        return metadata.size;
      });
    case 'dfs-get':
      return withClient(request, async (client) => {
        const metadata = await client.getFile(request.remote, request.local);
        return metadata.size;
      });
    case 'meta-load':
      return metaLoad(request);
  }
}

/** Runs one transfer with a fresh `DfsClient` (its default HTTP client) and times it. */
async function withClient(
  options: { metaUrl: string; parallelChunks?: number },
  transfer: (client: DfsClient) => Promise<number>,
): Promise<TransferResult> {
  const client = new DfsClient({
    metaUrl: options.metaUrl,
    ...(options.parallelChunks === undefined ? {} : { parallelChunks: options.parallelChunks }),
  });
  try {
    const startedMs = performance.now();
    const bytes = await transfer(client);
    return { bytes, ms: performance.now() - startedMs };
  } finally {
    await client.close();
  }
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (result) => process.send?.({ ok: true, result } satisfies WorkerReply),
    (error: unknown) =>
      process.send?.({
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
