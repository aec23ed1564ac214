/**
 * The measurements of the DFS benchmark, one function per phase: the transfer ceiling (minimal
 * Node receivers), Tessera's transfers, the metadata load and the listing. Each transfer is
 * timed inside the client process and watched from here (peak RSS and CPU of every process).
 */
import { randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { ChildService } from './child-service.js';
import { spawnTrackedService, type BenchDfsCluster } from './dfs-cluster-process.js';
import { ProcessWindow, type WindowStats } from './dfs-process-stats.js';
import type { DfsWorker, MetaLoadResult, TransferResult } from './dfs-worker-protocol.js';

/** One timed transfer and what the processes did meanwhile. */
export interface TransferRun extends TransferResult {
  /** File bytes per second, in MB/s (10^6 bytes). */
  readonly mbPerS: number;
  readonly stats: WindowStats;
}

/** Upload and download of one size. */
export interface TransferPair {
  readonly sizeMiB: number;
  readonly upload: TransferRun;
  readonly download: TransferRun;
}

/** Writes `bytes` of random data to `path` and fsyncs it (so its write-back is not measured). */
export async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    const block = Buffer.allocUnsafe(16 * 1024 * 1024);
    for (let written = 0; written < bytes; written += block.length) {
      const piece = block.subarray(0, Math.min(block.length, bytes - written));
      randomFillSync(piece);
      await handle.write(piece, 0, piece.length, written);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Runs one transfer in the client process while watching `pids`. */
export async function timedTransfer(
  run: () => Promise<TransferResult>,
  pids: Record<string, number>,
): Promise<TransferRun> {
  const window = new ProcessWindow(pids);
  try {
    const result = await run();
    const stats = window.close();
    return { ...result, mbPerS: result.bytes / 1e6 / (result.ms / 1000), stats };
  } catch (error) {
    window.close();
    throw error;
  }
}

/**
 * The ceiling: three minimal receivers (child processes) each store one streamed PUT of the
 * file, fanned out from one read, fsynced; then one plain streamed GET of it, fsynced locally.
 */
export async function measureCeiling(
  worker: DfsWorker,
  file: string,
  dir: string,
  downloadPath: string,
): Promise<{ upload: TransferRun; download: TransferRun }> {
  const receivers: ChildService[] = [];
  try {
    for (let index = 0; index < 3; index += 1) {
      const receiverDir = join(dir, `receiver-${index}`);
      mkdirSync(receiverDir, { recursive: true });
      receivers.push(
        await spawnTrackedService({
          args: ['--import', 'tsx', 'bench/lib/dfs-ceiling-receiver.ts', receiverDir],
        }),
      );
    }
    const pids: Record<string, number> = { client: worker.pid };
    receivers.forEach((receiver, index) => (pids[`receiver-${index}`] = receiver.pid));
    const urls = receivers.map((receiver) => receiver.url);
    const upload = await timedTransfer(() => worker.run({ op: 'ceiling-put', file, urls }), pids);
    const download = await timedTransfer(
      () => worker.run({ op: 'ceiling-get', url: urls[0] ?? '', dest: downloadPath }),
      { client: worker.pid, 'receiver-0': receivers[0]?.pid ?? -1 },
    );
    return { upload, download };
  } finally {
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    rmSync(dir, { recursive: true, force: true });
    rmSync(downloadPath, { force: true });
  }
}

/** `DfsClient.putFile` then `getFile` of one local file, watching client and datanodes. */
export async function measureTessera(
  worker: DfsWorker,
  cluster: BenchDfsCluster,
  file: { local: string; remote: string; downloadPath: string },
  parallelChunks: number | undefined,
): Promise<TransferPair> {
  const pids: Record<string, number> = { client: worker.pid };
  cluster.datanodes.forEach((datanode, index) => (pids[`dn-${index}`] = datanode.pid));
  const common = {
    metaUrl: cluster.meta.url,
    remote: file.remote,
    local: file.local,
    ...(parallelChunks === undefined ? {} : { parallelChunks }),
  };
  const { size } = await stat(file.local);
  const upload = await timedTransfer(() => worker.run({ op: 'dfs-put', ...common }), pids);
  const download = await timedTransfer(
    () => worker.run({ op: 'dfs-get', ...common, local: file.downloadPath }),
    pids,
  );
  const downloaded = await stat(file.downloadPath);
  rmSync(file.downloadPath, { force: true });
  if (downloaded.size !== size) throw new Error(`downloaded ${downloaded.size} of ${size} bytes`);
  return { sizeMiB: size / 2 ** 20, upload, download };
}

/** The metadata load, watching the master's CPU. */
export async function measureMetadata(
  worker: DfsWorker,
  cluster: BenchDfsCluster,
  options: { files: number; inFlight: number; prefix: string },
): Promise<MetaLoadResult & { stats: WindowStats }> {
  const window = new ProcessWindow({ client: worker.pid, meta: cluster.meta.pid });
  const result = await worker.run({ op: 'meta-load', metaUrl: cluster.meta.url, ...options });
  return { ...result, stats: window.close() };
}

/** One listing: time to the whole body, then to parse it. */
export interface ListingRun {
  readonly files: number;
  readonly bodyBytes: number;
  readonly responseMs: number;
  readonly parseMs: number;
}

/** `GET /api/v1/files?prefix=...&limit=...`, `times` times in a row. */
export async function measureListing(
  metaUrl: string,
  prefix: string,
  limit: number,
  times: number,
): Promise<ListingRun[]> {
  const runs: ListingRun[] = [];
  const url = `${metaUrl}/api/v1/files?prefix=${encodeURIComponent(prefix)}&limit=${limit}`;
  for (let attempt = 0; attempt < times; attempt += 1) {
    const startedMs = performance.now();
    const response = await request(url, { headersTimeout: 60_000, bodyTimeout: 60_000 });
    const body = Buffer.from(await response.body.arrayBuffer());
    const responseMs = performance.now() - startedMs;
    if (response.statusCode !== 200) {
      throw new Error(`listing answered ${response.statusCode}: ${body.toString().slice(0, 200)}`);
    }
    const parsedAtMs = performance.now();
    const listed = JSON.parse(body.toString('utf8')) as { files: unknown[] };
    runs.push({
      files: listed.files.length,
      bodyBytes: body.length,
      responseMs,
      parseMs: performance.now() - parsedAtMs,
    });
  }
  return runs;
}
