/**
 * The client side of the DFS transfer ceiling, built like `DfsClient`'s transfers (undici
 * keep-alive agent, 1 MiB reads of the local file, one read fanned out to every target through
 * a PassThrough each, the source paused while any target is full) but without anything else:
 * no hashing, no chunking, no metadata. What Tessera reaches divided by what this reaches is
 * the share of the machine's raw Node streaming ceiling that Tessera gets.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { Agent, request } from 'undici';
import type { TransferResult } from './dfs-worker-protocol.js';

const BUFFER_BYTES = 1024 * 1024;

/** Streams `file` to `PUT {url}/ceiling` on every URL at once, from one read. */
export async function ceilingPut(file: string, urls: readonly string[]): Promise<TransferResult> {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 60_000 });
  const startedMs = performance.now();
  try {
    const { size } = await stat(file);
    const source = createReadStream(file, { highWaterMark: BUFFER_BYTES });
    const pipes = urls.map(() => new PassThrough({ highWaterMark: BUFFER_BYTES }));
    const sends = urls.map(async (url, index) => {
      const body = pipes[index];
      if (!body) throw new Error('no pipe');
      const response = await request(`${url}/ceiling`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        dispatcher: agent,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const answer = (await response.body.json()) as { size: number };
      if (response.statusCode !== 201) throw new Error(`PUT ${url}: ${response.statusCode}`);
      return answer.size;
    });
    let bytes = 0;
    for await (const piece of source) {
      const buffer = piece as Buffer;
      bytes += buffer.length;
      const full = pipes.filter((pipe) => !pipe.write(buffer));
      if (full.length > 0) await Promise.all(full.map(drained));
    }
    for (const pipe of pipes) pipe.end();
    const sizes = await Promise.all(sends);
    if (sizes.some((size) => size !== bytes)) throw new Error(`receivers stored ${sizes.join()}`);
    return { bytes, ms: performance.now() - startedMs };
  } finally {
    await agent.close();
  }
}

/** Streams `GET {url}/ceiling` into `dest` and fsyncs it, as `DfsClient.getFile` does. */
export async function ceilingGet(url: string, dest: string): Promise<TransferResult> {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 60_000 });
  const startedMs = performance.now();
  const handle = await open(dest, 'w');
  try {
    const response = await request(`${url}/ceiling`, {
      dispatcher: agent,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
    let bytes = 0;
    for await (const piece of response.body) {
      const buffer = piece as Buffer;
      await handle.write(buffer, 0, buffer.length, bytes);
      bytes += buffer.length;
    }
    await handle.sync();
    return { bytes, ms: performance.now() - startedMs };
  } finally {
    await handle.close();
    await agent.close();
  }
}

function drained(pipe: PassThrough): Promise<void> {
  return new Promise((resolve) => pipe.once('drain', resolve));
}
