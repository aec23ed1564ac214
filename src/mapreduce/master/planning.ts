/**
 * Planning a job at submission: expand its input paths, directories and globs against the DFS,
 * cut the files into splits (one per chunk, with the hosts of the chunk's live replicas), and,
 * for the built-in sort with several reducers, sample the input to choose the key boundaries
 * of a total-order partitioning (Hadoop's TotalOrderPartitioner with an input sampler).
 */
import { BadRequestError, ConflictError } from '../../core/errors.js';
import { HttpStatusError } from '../../core/errors-http-client.js';
import type { DfsClient, FileMetadata } from '../../dfs/index.js';
import { computeSplits, type InputSplit } from '../common/splits.js';
import { readSplitLines } from '../worker/line-reader.js';
import { compareKeys } from '../worker/spill.js';
import { globPrefix, globToRegExp, isGlob, isHiddenPath, type JobSpec } from './job-spec.js';

/** Most input files one job may read. */
export const MAX_INPUT_FILES = 10_000;

/** The files of a job's input, in the order given, without duplicates. */
export async function resolveInputs(
  dfs: DfsClient,
  inputs: readonly string[],
): Promise<FileMetadata[]> {
  const paths: string[] = [];
  for (const input of inputs) {
    const matched = await expandOne(dfs, input);
    if (matched.length === 0)
      throw new BadRequestError(`input ${input} matches no file in the DFS`);
    for (const path of matched) if (!paths.includes(path)) paths.push(path);
    if (paths.length > MAX_INPUT_FILES) {
      throw new BadRequestError(`the input matches more than ${MAX_INPUT_FILES} files`);
    }
  }
  return Promise.all(paths.map((path) => dfs.stat(path)));
}

async function expandOne(dfs: DfsClient, input: string): Promise<string[]> {
  if (isGlob(input)) {
    const pattern = globToRegExp(input);
    const prefix = globPrefix(input);
    const listed = await listAll(dfs, prefix);
    return listed.filter((path) => pattern.test(path) && !isHiddenPath(path.slice(prefix.length)));
  }
  try {
    await dfs.stat(input);
    return [input];
  } catch (error) {
    // 404: not a file, perhaps a directory. 400: the DFS refuses it as a file path (the root
    // `/` is a directory); the listing below says whether it is a valid directory.
    if (!(error instanceof HttpStatusError && (error.status === 404 || error.status === 400)))
      throw error;
  }
  const directory = input.endsWith('/') ? input : `${input}/`;
  const listed = await listAll(dfs, directory).catch((error: unknown) => {
    // The DFS refusing the user's path is the user's bad input, not a failed peer (502).
    if (error instanceof HttpStatusError && error.status === 400)
      throw new BadRequestError(`input ${input} is not a valid DFS path: ${error.message}`);
    throw error;
  });
  return listed.filter((path) => !isHiddenPath(path.slice(directory.length)));
}

async function listAll(dfs: DfsClient, prefix: string): Promise<string[]> {
  const paths: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await dfs.list({ prefix, limit: 5000, ...(after === undefined ? {} : { after }) });
    paths.push(...page.files.map((file) => file.path));
    if (page.next_after === null || paths.length > MAX_INPUT_FILES) return paths;
    after = page.next_after;
  }
}

/** A file's metadata now, or `undefined` if it no longer exists. */
export async function statIfExists(
  dfs: DfsClient,
  path: string,
): Promise<FileMetadata | undefined> {
  try {
    return await dfs.stat(path);
  } catch (error) {
    if (error instanceof HttpStatusError && error.status === 404) return undefined;
    throw error;
  }
}

/** Refuses an output directory that already holds files (Hadoop's FileAlreadyExists rule). */
export async function checkOutputFree(dfs: DfsClient, output: string): Promise<void> {
  const page = await dfs.list({ prefix: `${output}/`, limit: 1 });
  if (page.files.length > 0) {
    throw new ConflictError(
      `output directory ${output} already holds files (${page.files[0]?.path}); choose another or delete it`,
    );
  }
}

/** The splits of the input files. */
export function planSplits(files: readonly FileMetadata[]): InputSplit[] {
  return computeSplits(files);
}

/** Lines read per sampled split, and splits sampled, for the sort's boundaries. */
const SAMPLE_LINES_PER_SPLIT = 200;
const SAMPLE_SPLITS = 20;

/**
 * Range boundaries for the built-in sort with R reducers: R - 1 keys taken at even quantiles of
 * a sample of lines (the first lines of up to 20 evenly spaced splits), so that part-r-00000
 * holds the smallest keys and the parts concatenate to one sorted file.
 */
export async function sampleBoundaries(
  dfs: DfsClient,
  splits: readonly InputSplit[],
  reducers: number,
): Promise<string[]> {
  if (reducers <= 1 || splits.length === 0) return [];
  const step = Math.max(1, Math.floor(splits.length / SAMPLE_SPLITS));
  const sample: string[] = [];
  for (let i = 0; i < splits.length; i += step) {
    const split = splits[i]!;
    const reader = readSplitLines(split, (start, end) => dfs.getStream(split.path, { start, end }));
    let taken = 0;
    for await (const line of reader) {
      sample.push(line);
      taken += 1;
      if (taken >= SAMPLE_LINES_PER_SPLIT) break;
    }
  }
  sample.sort(compareKeys);
  const boundaries: string[] = [];
  for (let r = 1; r < reducers; r += 1) {
    const key = sample[Math.floor((r * sample.length) / reducers)];
    if (
      key !== undefined &&
      (boundaries.length === 0 || compareKeys(key, boundaries.at(-1)!) > 0)
    ) {
      boundaries.push(key);
    }
  }
  return boundaries;
}

/** Whether a job needs range boundaries. */
export function needsBoundaries(spec: JobSpec): boolean {
  return spec.builtin === 'sort' && spec.reducers > 1;
}
