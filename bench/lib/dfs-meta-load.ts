/**
 * The metadata load of the DFS benchmark: one-chunk files created and committed over HTTP
 * against the real master, `inFlight` files at once over an undici Pool of keep-alive
 * connections. Each file is `POST /api/v1/files/upload-init` then `POST /api/v1/files/commit`
 * naming the targets the master chose (real datanode ids) as replicas; no chunk bytes move,
 * so the figure is the master's alone.
 */
import { createHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { MetaLoadResult } from './dfs-worker-protocol.js';

const HEADERS = { 'content-type': 'application/json' };
const FILE_BYTES = 1024;
/** A fixed, well-formed SHA-256 for the fake chunks (nothing reads their bytes). */
const FAKE_SHA256 = 'ab'.repeat(32);

interface Plan {
  file_id: string;
  chunks: { chunk_id: string; size: number; targets: { node_id: string }[] }[];
}

/** Creates and commits `files` files named `{prefix}f{index}`; answers the rate and latency. */
export async function metaLoad(options: {
  metaUrl: string;
  prefix: string;
  files: number;
  inFlight: number;
}): Promise<MetaLoadResult> {
  const pool = new Pool(options.metaUrl, {
    connections: options.inFlight,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const latencyUs = createHistogram();
  const failures: Record<string, number> = {};
  let next = 0;
  let created = 0;
  const startedMs = performance.now();
  const worker = async (): Promise<void> => {
    while (next < options.files) {
      const index = next++;
      const fileStartedMs = performance.now();
      const outcome = await createOne(pool, `${options.prefix}f${String(index).padStart(7, '0')}`);
      if (outcome === 'ok') {
        created += 1;
        latencyUs.record(Math.max(1, Math.round((performance.now() - fileStartedMs) * 1000)));
      } else {
        failures[outcome] = (failures[outcome] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  const ms = performance.now() - startedMs;
  await pool.close();
  const toMs = (us: number): number => Math.round(us / 10) / 100;
  return {
    created,
    ms,
    failures,
    p50Ms: toMs(latencyUs.percentile(50)),
    p99Ms: toMs(latencyUs.percentile(99)),
    maxMs: toMs(latencyUs.max),
  };
}

/** One file: upload-init, then commit; answers `ok`, or what failed (status or error code). */
async function createOne(pool: Pool, path: string): Promise<string> {
  try {
    const init = await post(pool, '/api/v1/files/upload-init', {
      path,
      size: FILE_BYTES,
      replication: 3,
    });
    if (init.status !== 201) return `init ${init.status}`;
    const plan = init.body as Plan;
    const chunks = plan.chunks.map((chunk) => ({
      chunk_id: chunk.chunk_id,
      size: chunk.size,
      checksum: FAKE_SHA256,
      replicas: chunk.targets.map((target) => target.node_id),
    }));
    const commit = await post(pool, '/api/v1/files/commit', { file_id: plan.file_id, chunks });
    return commit.status === 200 ? 'ok' : `commit ${commit.status}`;
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  }
}

async function post(
  pool: Pool,
  path: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await pool.request({
    method: 'POST',
    path,
    headers: HEADERS,
    body: JSON.stringify(body),
  });
  return { status: response.statusCode, body: await response.body.json() };
}
