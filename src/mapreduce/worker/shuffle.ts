/**
 * The shuffle (issue 5): each finished map task leaves one sorted output file on its worker's
 * disk with an index of its partitions (spill.ts); reducers fetch their partition of every map
 * output over HTTP, `GET /shuffle/{job_id}/{map_task_id}/{partition}`, into local run files that
 * they merge. A fetch that fails (worker gone, output missing) is a `ShuffleFetchError` naming
 * the map task: the master runs that map again and the reducer starts over.
 */
import { Type } from '@sinclair/typebox';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../../core/errors.js';
import type { HttpClient } from '../../core/http-client.js';
import type { HttpApp } from '../../core/http-server.js';
import type { MapOutputIndex, RunSegment } from './spill.js';

/** Response header carrying the number of records of a partition segment. */
export const RECORDS_HEADER = 'x-tessera-records';

/** The directory of a job's local data on a worker. */
export function jobDir(dataDir: string, jobId: string): string {
  return join(dataDir, 'jobs', jobId);
}

/** Where a finished map task's output lives on its worker. */
export function mapOutputDir(dataDir: string, jobId: string, taskId: string): string {
  return join(jobDir(dataDir, jobId), 'maps', taskId);
}

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' });
const ShuffleParams = Type.Object({
  job_id: Id,
  map_task_id: Id,
  partition: Type.Integer({ minimum: 0, maximum: 100_000 }),
});

/** Registers `GET /shuffle/{job_id}/{map_task_id}/{partition}`. */
export function registerShuffleRoutes(app: HttpApp, dataDir: string): void {
  app.get(
    '/shuffle/:job_id/:map_task_id/:partition',
    {
      schema: {
        tags: ['shuffle'],
        summary: "One partition of a map task's sorted output (run-file records)",
        params: ShuffleParams,
      },
    },
    async (request, reply) => {
      const { job_id, map_task_id, partition } = request.params;
      const dir = mapOutputDir(dataDir, job_id, map_task_id);
      let index: MapOutputIndex;
      try {
        index = JSON.parse(
          await readFile(join(dir, 'output.run.index.json'), 'utf8'),
        ) as MapOutputIndex;
      } catch {
        throw new NotFoundError(`no output of map task ${map_task_id} of job ${job_id} here`);
      }
      const segment = index.partitions[partition];
      if (!segment)
        throw new NotFoundError(`map task ${map_task_id} has no partition ${partition}`);
      reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', segment.length)
        .header(RECORDS_HEADER, segment.records);
      if (segment.length === 0) return reply.send(Buffer.alloc(0));
      return reply.send(
        createReadStream(join(dir, 'output.run'), {
          start: segment.offset,
          end: segment.offset + segment.length - 1,
          highWaterMark: 256 * 1024,
        }),
      );
    },
  );
}

/** A map output could not be fetched. */
export class ShuffleFetchError extends Error {
  constructor(
    readonly mapTaskId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ShuffleFetchError';
  }
}

/** One map output to fetch. */
export interface ShuffleSource {
  readonly taskId: string;
  readonly index: number;
  /** Base URL, e.g. `http://127.0.0.1:9501/shuffle/job-1/job-1-m-000000`. */
  readonly location: string;
}

/** A fetched segment, with its record count. */
export interface FetchedSegment extends RunSegment {
  readonly records: number;
}

/**
 * Fetches partition `partition` of every source into `dir` (`in-<map index>.run`), at most
 * `parallel` at once; `onFetched` is called after each.
 */
export async function fetchPartitions(
  http: HttpClient,
  sources: readonly ShuffleSource[],
  partition: number,
  dir: string,
  options: { parallel: number; signal: AbortSignal; onFetched: (done: number) => void },
): Promise<FetchedSegment[]> {
  const segments: FetchedSegment[] = new Array<FetchedSegment>(sources.length);
  let next = 0;
  let done = 0;
  const lanes = Array.from({ length: Math.min(options.parallel, sources.length) }, async () => {
    while (next < sources.length) {
      const position = next++;
      const source = sources[position]!;
      segments[position] = await fetchOne(http, source, partition, dir, options.signal);
      options.onFetched(++done);
    }
  });
  await Promise.all(lanes);
  return segments;
}

async function fetchOne(
  http: HttpClient,
  source: ShuffleSource,
  partition: number,
  dir: string,
  signal: AbortSignal,
): Promise<FetchedSegment> {
  const path = join(dir, `in-${String(source.index).padStart(6, '0')}.run`);
  let response;
  try {
    response = await http.request(`${source.location}/${partition}`, { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ShuffleFetchError(
      source.taskId,
      `cannot fetch the output of ${source.taskId}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (response.status !== 200) {
    await response.body.dump().catch(() => undefined);
    throw new ShuffleFetchError(
      source.taskId,
      `the output of ${source.taskId} answered ${response.status}`,
    );
  }
  const expected = Number(response.headers['content-length'] ?? -1);
  const records = Number(response.headers[RECORDS_HEADER] ?? 0);
  try {
    await pipeline(response.body, createWriteStream(path), { signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ShuffleFetchError(
      source.taskId,
      `the output of ${source.taskId} broke off: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  const { size: length } = await stat(path);
  if (expected >= 0 && length !== expected) {
    throw new ShuffleFetchError(
      source.taskId,
      `the output of ${source.taskId} is ${length} of ${expected} bytes`,
    );
  }
  return { path, offset: 0, length, records };
}
