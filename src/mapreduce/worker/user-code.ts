/**
 * What a worker runs for a job: a built-in job, a user's JavaScript module (its source ships
 * with the job and is imported as a `data:` module — it runs inside the worker process, with the
 * worker's rights, as a Hadoop task runs a user's jar), or a streaming command. Also the
 * partitioner: key hash, or the range boundaries of the built-in sort.
 */
import { createHash } from 'node:crypto';
import {
  builtinJob,
  rangePartition,
  type JobFunctions,
  type ReduceFunction,
} from '../builtin/index.js';
import type { Code, JobSpec } from '../master/job-spec.js';
import type { Combiner } from './spill.js';
import { partitionOf, type Partitioner } from './partition.js';

/** How the map side of a task runs. */
export type MapRunner =
  | { readonly kind: 'functions'; readonly job: JobFunctions }
  | { readonly kind: 'command'; readonly command: readonly string[] };

/** How the reduce side of a task runs. */
export type ReduceRunner =
  | { readonly kind: 'function'; readonly reduce: ReduceFunction }
  | { readonly kind: 'command'; readonly command: readonly string[] };

/** A failure in the user's code, with the record it failed on when known. */
export class UserCodeError extends Error {
  constructor(
    message: string,
    readonly record?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UserCodeError';
  }
}

const modules = new Map<string, Promise<JobFunctions>>();

/** Imports a job's JavaScript module once per worker process (cached by its hash). */
export function loadJsModule(source: string): Promise<JobFunctions> {
  const hash = createHash('sha256').update(source).digest('hex');
  let loaded = modules.get(hash);
  if (!loaded) {
    const url = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
    loaded = (import(url) as Promise<Record<string, unknown>>).then(
      moduleFunctions,
      (error: unknown) => {
        modules.delete(hash);
        throw new UserCodeError(`the job's module does not load: ${describe(error)}`, undefined, {
          cause: error,
        });
      },
    );
    modules.set(hash, loaded);
  }
  return loaded;
}

function moduleFunctions(module: Record<string, unknown>): JobFunctions {
  const source = (
    typeof module['default'] === 'object' && module['default'] !== null ? module['default'] : module
  ) as Record<string, unknown>;
  const pick = <T>(name: string): T | undefined =>
    typeof source[name] === 'function' ? (source[name] as T) : undefined;
  const map = pick<JobFunctions['map']>('map');
  const reduce = pick<JobFunctions['reduce']>('reduce');
  const combine = pick<JobFunctions['combine']>('combine');
  return {
    ...(map ? { map } : {}),
    ...(reduce ? { reduce } : {}),
    ...(combine ? { combine } : {}),
  };
}

async function functionsOf(code: Code | null): Promise<JobFunctions | null> {
  if (code === null || code.kind !== 'js') return null;
  return loadJsModule(code.source);
}

/** The map side of a job. */
export async function mapRunner(spec: JobSpec): Promise<MapRunner> {
  if (spec.builtin !== null) return { kind: 'functions', job: builtinJob(spec.builtin, spec.args) };
  if (spec.mapper?.kind === 'command') return { kind: 'command', command: spec.mapper.command };
  const job = await functionsOf(spec.mapper);
  if (!job?.map)
    throw new UserCodeError('the mapper module exports no map(key, value, emit) function');
  return { kind: 'functions', job };
}

/** The reduce side of a job: the reducer, or the identity (every value, as `key<TAB>value`). */
export async function reduceRunner(spec: JobSpec): Promise<ReduceRunner> {
  if (spec.builtin !== null) {
    const reduce = builtinJob(spec.builtin, spec.args).reduce;
    if (reduce) return { kind: 'function', reduce };
  }
  if (spec.reducer === null) return { kind: 'function', reduce: identityReduce };
  if (spec.reducer.kind === 'command') return { kind: 'command', command: spec.reducer.command };
  const reduce = (await functionsOf(spec.reducer))?.reduce;
  if (!reduce)
    throw new UserCodeError('the reducer module exports no reduce(key, values, emit) function');
  return { kind: 'function', reduce };
}

const identityReduce: ReduceFunction = (key, values, emit) => {
  for (const value of values) emit(key, value);
};

/** The combiner of a job, if any, as the spill's `Combiner`. */
export async function combinerOf(spec: JobSpec): Promise<Combiner | undefined> {
  const combine =
    spec.builtin !== null
      ? builtinJob(spec.builtin, spec.args).combine
      : ((await functionsOf(spec.combiner)) ?? (await functionsOf(spec.mapper)))?.combine;
  if (!combine) return undefined;
  return async (key, values) => {
    const out: string[] = [];
    try {
      await combine(key, values, (_key, value) => out.push(value ?? ''));
    } catch (error) {
      throw new UserCodeError(`combine threw: ${describe(error)}`, key, { cause: error });
    }
    return out;
  };
}

/** The partitioner of a job: range boundaries (sort) or the key hash. */
export function partitionerOf(spec: JobSpec): Partitioner {
  const boundaries = spec.boundaries;
  if (boundaries === undefined || boundaries.length === 0) return partitionOf;
  return (key, reduceCount) => Math.min(reduceCount - 1, rangePartition(boundaries, key));
}

/** A short description of a thrown value. */
export function describe(error: unknown): string {
  if (error instanceof Error)
    return error.stack?.split('\n').slice(0, 4).join('\n') ?? error.message;
  return String(error);
}
