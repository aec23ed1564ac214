/**
 * One task attempt on a worker. A map attempt reads its split's line records from the DFS
 * (each line read by exactly one split), runs the mapper, partitions, sorts and spills its
 * output (combining), and leaves one indexed output file for the shuffle. A reduce attempt
 * fetches its partition of every map output, merges them, runs the reducer and writes its part
 * file to the job's temporary DFS directory; the master commits it.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import type { HttpClient } from '../../core/http-client.js';
import type { DfsClient } from '../../dfs/index.js';
import type { Emit, JobFunctions } from '../builtin/index.js';
import type { Assignment } from '../grpc/messages.js';
import type { JobSpec } from '../master/job-spec.js';
import { SplitLineReader } from './line-reader.js';
import { fetchPartitions, jobDir, mapOutputDir, type FetchedSegment } from './shuffle.js';
import { MapOutputBuffer, mergeGroups, type Combiner } from './spill.js';
import { splitKeyValue, startCommand, writeWithBackpressure } from './streaming.js';
import {
  combinerOf,
  describe,
  mapRunner,
  partitionerOf,
  reduceRunner,
  UserCodeError,
  type ReduceRunner,
} from './user-code.js';

/** What a task attempt needs from its worker. */
export interface TaskContext {
  readonly assignment: Assignment;
  readonly spec: JobSpec;
  readonly dfs: DfsClient;
  /** For the shuffle fetches. */
  readonly http: HttpClient;
  readonly dataDir: string;
  readonly workerId: string;
  readonly workerUrl: string;
  readonly signal: AbortSignal;
  /** Map output kept in memory before a spill. */
  readonly spillMemoryBytes: number;
  /** Shuffle fetches at once. */
  readonly parallelFetches: number;
  /** Reports progress in [0, 1]. */
  setProgress(progress: number): void;
}

/** A successful attempt's output and counters. */
export interface TaskResult {
  readonly location: string;
  readonly counters: Record<string, number>;
}

/** The attempt's scratch directory. */
export function attemptDir(ctx: Pick<TaskContext, 'dataDir' | 'assignment'>): string {
  return join(jobDir(ctx.dataDir, ctx.assignment.job_id), 'attempts', ctx.assignment.attempt_id);
}

function commandEnv(ctx: TaskContext): Record<string, string> {
  const a = ctx.assignment;
  return {
    TESSERA_JOB_ID: a.job_id,
    TESSERA_TASK_ID: a.task_id,
    TESSERA_ATTEMPT_ID: a.attempt_id,
    TESSERA_WORKER_ID: ctx.workerId,
    ...(a.split ? { map_input_file: a.split.path, TESSERA_INPUT_FILE: a.split.path } : {}),
  };
}

function aborted(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('the attempt was cancelled');
}

// ---------------------------------------------------------------- map

/** Runs a map attempt. */
export async function runMapTask(ctx: TaskContext): Promise<TaskResult> {
  const { assignment: a, spec } = ctx;
  const split = a.split;
  if (!split) throw new Error(`map task ${a.task_id} came without a split`);
  const dir = attemptDir(ctx);
  await rm(dir, { recursive: true, force: true });
  const buffer = new MapOutputBuffer({
    dir,
    partitions: a.reduce_count,
    memoryLimitBytes: ctx.spillMemoryBytes,
    partitioner: partitionerOf(spec),
    ...(await combinerWhenAny(spec)),
  });
  const reader = new SplitLineReader(
    { start: split.start, end: split.end, fileSize: split.file_size },
    // The file planned at submission, or a FileChangedError (bad input: resubmit the job).
    (start, end) =>
      ctx.dfs.getStream(split.path, {
        start,
        end,
        ...(split.file_id === undefined || split.file_id === '' ? {} : { fileId: split.file_id }),
      }),
  );
  const splitBytes = Math.max(1, split.end - split.start);
  const onBatch = (): void => ctx.setProgress(Math.min(0.9, (0.9 * reader.bytesRead) / splitBytes));
  const runner = await mapRunner(spec);
  if (runner.kind === 'command') {
    await mapWithCommand(ctx, runner.command, reader, buffer, onBatch);
  } else {
    await mapWithFunctions(ctx, runner.job, split.path, reader, buffer, onBatch);
  }
  aborted(ctx.signal);
  ctx.setProgress(0.92);
  await buffer.finish();
  const target = mapOutputDir(ctx.dataDir, a.job_id, a.task_id);
  await mkdir(join(target, '..'), { recursive: true });
  await rm(target, { recursive: true, force: true });
  await rename(dir, target);
  return {
    location: `${ctx.workerUrl}/shuffle/${encodeURIComponent(a.job_id)}/${encodeURIComponent(a.task_id)}`,
    counters: {
      map_input_records: reader.records,
      map_input_bytes: split.end - split.start,
      map_output_records: buffer.recordsIn,
      spilled_runs: buffer.spills,
    },
  };
}

async function combinerWhenAny(spec: JobSpec): Promise<{ combiner?: Combiner }> {
  const combiner = await combinerOf(spec);
  return combiner ? { combiner } : {};
}

async function mapWithFunctions(
  ctx: TaskContext,
  job: JobFunctions,
  path: string,
  reader: SplitLineReader,
  buffer: MapOutputBuffer,
  onBatch: () => void,
): Promise<void> {
  const emit: Emit = (key, value) =>
    buffer.add(String(key), value === undefined ? '' : String(value));
  if (job.mapBytes) {
    for await (const region of reader.regions()) {
      aborted(ctx.signal);
      job.mapBytes(path, region, emit);
      await buffer.maybeSpill();
      onBatch();
    }
  } else {
    for await (const batch of reader.batches()) {
      aborted(ctx.signal);
      await mapLines(job, path, batch, emit);
      await buffer.maybeSpill();
      onBatch();
    }
  }
  job.mapEnd?.(emit);
}

/** Runs `mapBatch`, or `map` on each line, over one batch of records. */
async function mapLines(
  job: JobFunctions,
  path: string,
  batch: readonly string[],
  emit: Emit,
): Promise<void> {
  if (job.mapBatch) return job.mapBatch(path, batch, emit);
  if (!job.map) return;
  for (const line of batch) {
    try {
      const result = job.map(path, line, emit);
      if (result instanceof Promise) await result;
    } catch (error) {
      throw new UserCodeError(`map threw: ${describe(error)}`, line, { cause: error });
    }
  }
}

async function mapWithCommand(
  ctx: TaskContext,
  command: readonly string[],
  reader: SplitLineReader,
  buffer: MapOutputBuffer,
  onBatch: () => void,
): Promise<void> {
  const child = startCommand(command, commandEnv(ctx), ctx.signal);
  const feed = async (): Promise<void> => {
    try {
      for await (const batch of reader.batches()) {
        aborted(ctx.signal);
        await writeWithBackpressure(child.child.stdin, `${batch.join('\n')}\n`);
        onBatch();
      }
    } finally {
      child.child.stdin.end();
    }
  };
  const drain = async (): Promise<void> => {
    const lines = createInterface({ input: child.child.stdout, crlfDelay: Infinity });
    for await (const line of lines) {
      const [key, value] = splitKeyValue(line);
      buffer.add(key, value);
      if (buffer.overLimit) await buffer.spill();
    }
  };
  try {
    await Promise.all([feed(), drain(), child.exited]);
  } finally {
    child.kill();
  }
}

// ---------------------------------------------------------------- reduce

/** Runs a reduce attempt. */
export async function runReduceTask(ctx: TaskContext): Promise<TaskResult> {
  const a = ctx.assignment;
  const dir = attemptDir(ctx);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const total = a.map_outputs.length;
  const segments = await fetchPartitions(
    ctx.http,
    a.map_outputs.map((m) => ({ taskId: m.task_id, index: m.index, location: m.location })),
    a.index,
    dir,
    {
      parallel: ctx.parallelFetches,
      signal: ctx.signal,
      onFetched: (done) => ctx.setProgress((0.3 * done) / Math.max(1, total)),
    },
  );
  const localPart = join(dir, 'part');
  const runner = await reduceRunner(ctx.spec);
  const counters = await reduceInto(ctx, runner, segments, localPart, dir);
  aborted(ctx.signal);
  ctx.setProgress(0.92);
  let uploaded = 0;
  const metadata = await ctx.dfs.putFile(localPart, a.output_path, {
    overwrite: true,
    onProgress: (bytes) => {
      uploaded += bytes;
      ctx.setProgress(0.92 + (0.07 * uploaded) / Math.max(1, counters.output_bytes));
    },
  });
  await rm(dir, { recursive: true, force: true });
  return {
    location: a.output_path,
    counters: {
      ...counters,
      reduce_shuffle_bytes: segments.reduce((sum, s) => sum + s.length, 0),
      output_bytes: metadata.size,
    },
  };
}

/** Buffers output lines and writes them in large pieces. */
class LineSink {
  bytes = 0;
  lines = 0;
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(private readonly stream: Writable) {}

  push(line: string): void {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    this.lines += 1;
  }

  get full(): boolean {
    return this.pendingChars >= 256 * 1024;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.pendingChars = 0;
    this.bytes += Buffer.byteLength(text);
    await writeWithBackpressure(this.stream, text);
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}

async function reduceInto(
  ctx: TaskContext,
  runner: ReduceRunner,
  segments: readonly FetchedSegment[],
  localPart: string,
  dir: string,
): Promise<{
  reduce_input_groups: number;
  reduce_input_records: number;
  reduce_output_records: number;
  output_bytes: number;
}> {
  const totalRecords = Math.max(
    1,
    segments.reduce((sum, s) => sum + s.records, 0),
  );
  const groups = mergeGroups(segments, { tmpDir: join(dir, 'merge') });
  const sink = new LineSink(createWriteStream(localPart));
  let groupCount = 0;
  let records = 0;
  const progress = (): void => ctx.setProgress(0.3 + (0.6 * records) / totalRecords);
  try {
    if (runner.kind === 'command') {
      const child = startCommand(runner.command, commandEnv(ctx), ctx.signal);
      const feed = async (): Promise<void> => {
        try {
          let text = '';
          for await (const group of groups) {
            aborted(ctx.signal);
            groupCount += 1;
            records += group.values.length;
            for (const value of group.values) text += `${group.key}\t${value}\n`;
            if (text.length >= 256 * 1024) {
              await writeWithBackpressure(child.child.stdin, text);
              text = '';
              progress();
            }
          }
          if (text) await writeWithBackpressure(child.child.stdin, text);
        } finally {
          child.child.stdin.end();
        }
      };
      const drain = async (): Promise<void> => {
        for await (const line of createInterface({
          input: child.child.stdout,
          crlfDelay: Infinity,
        })) {
          sink.push(line);
          if (sink.full) await sink.flush();
        }
      };
      try {
        await Promise.all([feed(), drain(), child.exited]);
      } finally {
        child.kill();
      }
    } else {
      const emit: Emit = (key, value) =>
        sink.push(value === undefined ? String(key) : `${String(key)}\t${String(value)}`);
      for await (const group of groups) {
        aborted(ctx.signal);
        groupCount += 1;
        records += group.values.length;
        try {
          const result = runner.reduce(group.key, group.values, emit);
          if (result instanceof Promise) await result;
        } catch (error) {
          throw new UserCodeError(`reduce threw: ${describe(error)}`, group.key, { cause: error });
        }
        if (sink.full) {
          await sink.flush();
          progress();
        }
      }
    }
  } finally {
    await sink.close();
  }
  return {
    reduce_input_groups: groupCount,
    reduce_input_records: records,
    reduce_output_records: sink.lines,
    output_bytes: sink.bytes,
  };
}
