/**
 * A DFS client run inside a test namespace by the partition tests (a real client process on the
 * private network; the test process cannot reach it). One JSON line per file on stdout:
 *
 *   put META_URL PREFIX COUNT SIZE_BYTES CHUNK_BYTES SEED PAUSE_MS CONCURRENCY
 *     uploads PREFIX/f-0 ... (putFile: a failed target is replaced and the chunk re-sent), one
 *     started every PAUSE_MS, at most CONCURRENCY at once (an upload stuck behind a cut link
 *     does not hold up the next ones): `{"ack": path, "sha256": ...}` once the master committed
 *     the file, `{"fail": path, "error": ...}` when the upload failed (it was aborted).
 *   get META_URL PATH...
 *     downloads each file, every chunk verified: `{"path", "sha256", "size"}` or `{"path", "error"}`.
 *   put-text META_URL PATH BYTES SEED CHUNK_BYTES
 *     uploads `generateText(BYTES, SEED)` (test/helpers/mapreduce-cluster.ts): `{"ack": path}`.
 *   cat META_URL PATH...
 *     `{"path", "text"}` per file (small files only).
 *
 * Timeouts are short (a cut link must fail an upload within seconds, not the default minute).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '../../src/core/http-client.js';
import { SeededRandom } from '../../src/core/random.js';
import { DfsClient } from '../../src/dfs/index.js';
import { generateText } from '../helpers/mapreduce-cluster.js';

/** The content of file `index` of a run: reproducible bytes. */
export function fileBytes(seed: number, index: number, size: number): Buffer {
  const random = new SeededRandom(seed * 100_003 + index);
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = random.int(256);
  return bytes;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const print = (record: Record<string, unknown>): boolean =>
  process.stdout.write(`${JSON.stringify(record)}\n`);

async function put(dfs: DfsClient, args: string[]): Promise<void> {
  const [prefix = '/p', count, size, chunk, seed, pauseMs, concurrency] = args;
  const dir = mkdtempSync(join(tmpdir(), 'tessera-partition-put-'));
  const upload = async (index: number): Promise<void> => {
    const path = `${prefix}/f-${index}`;
    const data = fileBytes(Number(seed), index, Number(size));
    const local = join(dir, `f-${index}`);
    writeFileSync(local, data);
    try {
      await dfs.putFile(local, path, { chunkSize: Number(chunk), replication: 3 });
      print({ ack: path, sha256: sha256(data) });
    } catch (error) {
      print({ fail: path, error: (error as Error).message });
    }
  };
  const inFlight = new Set<Promise<void>>();
  try {
    for (let index = 0; index < Number(count); index += 1) {
      while (inFlight.size >= Math.max(1, Number(concurrency))) await Promise.race(inFlight);
      const started: Promise<void> = upload(index).finally(() => inFlight.delete(started));
      inFlight.add(started);
      await sleep(Number(pauseMs));
    }
    await Promise.all(inFlight);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function get(dfs: DfsClient, paths: string[]): Promise<void> {
  for (const path of paths) {
    try {
      const data = await dfs.getBuffer(path);
      print({ path, sha256: sha256(data), size: data.length });
    } catch (error) {
      print({ path, error: (error as Error).message });
    }
  }
}

async function putText(dfs: DfsClient, args: string[]): Promise<void> {
  const [path = '/in', bytes, seed, chunk] = args;
  const text = generateText(Number(bytes), Number(seed));
  await dfs.putBuffer(text, path, { chunkSize: Number(chunk), replication: 2 });
  print({ ack: path });
}

async function cat(dfs: DfsClient, paths: string[]): Promise<void> {
  for (const path of paths) print({ path, text: (await dfs.getBuffer(path)).toString('utf8') });
}

async function main(): Promise<void> {
  const [mode, metaUrl, ...rest] = process.argv.slice(2);
  if (metaUrl === undefined) throw new Error('usage: dfs-client-script.ts put|get META_URL ...');
  const http = new HttpClient({
    timeoutMs: 4_000,
    connectTimeoutMs: 2_000,
    maxRetries: 1,
    breaker: { failureThreshold: 1e9 },
  });
  const dfs = new DfsClient({ metaUrl, http });
  try {
    if (mode === 'put') await put(dfs, rest);
    else if (mode === 'get') await get(dfs, rest);
    else if (mode === 'put-text') await putText(dfs, rest);
    else if (mode === 'cat') await cat(dfs, rest);
    else throw new Error(`unknown mode ${String(mode)}`);
  } finally {
    await dfs.close();
    await http.close();
  }
}

if (process.argv[1]?.endsWith('dfs-client-script.ts')) await main();
