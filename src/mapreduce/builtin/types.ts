/**
 * The functions of a job as the worker runs them: a built-in job or a user's JavaScript module
 * (`map(key, value, emit)`, `reduce(key, values, emit)`, optional `combine(key, values, emit)`).
 * Keys and values are strings; `emit(key)` without a value writes `key` alone as the output line.
 */

/** Emits one record; a reducer's `emit(line)` without a value writes the line as it is. */
export type Emit = (key: string, value?: string) => void;

/** A map function: called once per input record (key: the input file's path; value: the line). */
export type MapFunction = (key: string, value: string, emit: Emit) => void | Promise<void>;

/** A map function over a batch of records (in-mapper combining); preferred when present. */
export type MapBatchFunction = (key: string, values: readonly string[], emit: Emit) => void;

/**
 * A map function over raw bytes: a batch of whole input lines, each with its `\n` (the split's
 * last line may lack it, and `\r\n` endings keep their `\r`). For jobs that tokenize bytes
 * themselves; preferred over `mapBatch` and `map` when present.
 */
export type MapBytesFunction = (key: string, lines: Buffer, emit: Emit) => void;

/** Called once after a split's last record, to emit what the mapper kept across batches. */
export type MapEndFunction = (emit: Emit) => void;

/** A reduce or combine function: called once per key with all its values. */
export type ReduceFunction = (key: string, values: string[], emit: Emit) => void | Promise<void>;

/** The functions of one job. */
export interface JobFunctions {
  readonly map?: MapFunction;
  readonly mapBatch?: MapBatchFunction;
  readonly mapBytes?: MapBytesFunction;
  readonly mapEnd?: MapEndFunction;
  readonly reduce?: ReduceFunction;
  readonly combine?: ReduceFunction;
}

/** Arguments of a built-in job (`args` of the job spec). */
export type JobArgs = Readonly<Record<string, string | number | boolean>>;
