/**
 * The job spec of `POST /jobs` (and of the gRPC `JobService.Submit`): its JSON schema, the
 * checks a schema cannot express, and the normalized form the master stores and ships to
 * workers with every task.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BadRequestError } from '../../core/errors.js';
import { STRATEGY_NAMES, type StrategyName } from './strategies/index.js';

/** Built-in jobs. */
export const BUILTIN_JOBS = ['wordcount', 'grep', 'invertedindex', 'sort'] as const;
export type BuiltinJob = (typeof BUILTIN_JOBS)[number];

/** Largest JavaScript module source accepted, in characters. */
export const MAX_SOURCE_CHARS = 1024 * 1024;

const JsCode = Type.Object(
  {
    kind: Type.Literal('js'),
    source: Type.String({
      minLength: 1,
      maxLength: MAX_SOURCE_CHARS,
      description:
        'An ES module exporting map(key, value, emit), reduce(key, values, emit), combine.',
    }),
  },
  { additionalProperties: false },
);

const CommandCode = Type.Object(
  {
    kind: Type.Literal('command'),
    command: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
      minItems: 1,
      maxItems: 256,
      description: 'argv of a streaming command: records on stdin, `key<TAB>value` lines out.',
    }),
  },
  { additionalProperties: false },
);

/** A mapper, reducer or combiner. */
export const CodeSchema = Type.Union([JsCode, CommandCode]);
export type Code = Static<typeof CodeSchema>;

const DfsPath = Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' });

/** The body of `POST /jobs`. */
export const JobSpecSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    input: Type.Union([DfsPath, Type.Array(DfsPath, { minItems: 1, maxItems: 1000 })], {
      description: 'DFS paths, directories or globs (`*`, `?`, `**`).',
    }),
    output: Type.String({
      minLength: 2,
      maxLength: 4096,
      pattern: '^/[^*?]*[^/*?]$',
      description: 'DFS directory the job writes part-r-NNNNN files and _SUCCESS to.',
    }),
    reducers: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1 })),
    strategy: Type.Optional(Type.Union(STRATEGY_NAMES.map((name) => Type.Literal(name)))),
    builtin: Type.Optional(Type.Union(BUILTIN_JOBS.map((name) => Type.Literal(name)))),
    args: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 100 }),
        Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean()]),
      ),
    ),
    mapper: Type.Optional(CodeSchema),
    reducer: Type.Optional(CodeSchema),
    combiner: Type.Optional(CodeSchema),
  },
  { additionalProperties: false },
);
export type JobSpecInput = Static<typeof JobSpecSchema>;

/** A validated, normalized job spec: what the master stores and ships with every task. */
export interface JobSpec {
  readonly name: string;
  readonly input: readonly string[];
  readonly output: string;
  readonly reducers: number;
  readonly strategy: StrategyName | null;
  readonly builtin: BuiltinJob | null;
  readonly args: Readonly<Record<string, string | number | boolean>>;
  readonly mapper: Code | null;
  readonly reducer: Code | null;
  readonly combiner: Code | null;
  /** Range partitioning (sort): keys below `boundaries[i]` go to partition i. */
  readonly boundaries?: readonly string[];
}

/**
 * Checks what the schema cannot (exactly one kind of job, a compilable grep pattern, no
 * command combiner) and fills defaults. Throws `BadRequestError` with a helpful message.
 */
export function normalizeJobSpec(input: JobSpecInput): JobSpec {
  const args = input.args ?? {};
  if (input.builtin === undefined && input.mapper === undefined) {
    throw new BadRequestError(
      'a job needs a builtin (wordcount, grep, invertedindex, sort) or a mapper',
    );
  }
  if (input.builtin !== undefined && (input.mapper || input.reducer || input.combiner)) {
    throw new BadRequestError('a builtin job takes no mapper, reducer or combiner');
  }
  if (input.combiner?.kind === 'command') {
    throw new BadRequestError(
      'a combiner must be a js module (streaming combiners are not supported)',
    );
  }
  if (input.builtin === 'grep') checkPattern(args['pattern']);
  const inputs = typeof input.input === 'string' ? [input.input] : input.input;
  const output = input.output;
  for (const path of inputs) {
    if (path === output || path.startsWith(`${output}/`)) {
      throw new BadRequestError(`input ${path} lies inside the output directory ${output}`);
    }
  }
  return {
    name: input.name ?? input.builtin ?? 'job',
    input: inputs,
    output,
    reducers: input.reducers ?? 1,
    strategy: input.strategy ?? null,
    builtin: input.builtin ?? null,
    args,
    mapper: input.mapper ?? null,
    reducer: input.reducer ?? null,
    combiner: input.combiner ?? null,
  };
}

/**
 * Validates an untyped spec (gRPC, MQTT) against `JobSpecSchema` and normalizes it; throws
 * `BadRequestError` naming the first problem. HTTP requests are validated by their route schema.
 */
export function parseJobSpec(input: unknown): JobSpec {
  if (!Value.Check(JobSpecSchema, input)) {
    const first = Value.Errors(JobSpecSchema, input).First();
    const where = first?.path === undefined || first.path === '' ? '/' : first.path;
    throw new BadRequestError(`invalid job spec at ${where}: ${first?.message ?? 'invalid'}`);
  }
  return normalizeJobSpec(input);
}

function checkPattern(pattern: unknown): void {
  if (typeof pattern !== 'string' || pattern === '') {
    throw new BadRequestError('grep needs args.pattern, a regular expression');
  }
  try {
    new RegExp(pattern, 'u');
  } catch (error) {
    throw new BadRequestError(`args.pattern is not a valid regular expression: ${String(error)}`);
  }
}

/** Whether a path segment pattern has glob characters. */
export function isGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/** A regular expression for a glob: `*` and `?` within a segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      source += '.*';
      i += 1;
      if (glob[i + 1] === '/') i += 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The literal directory a glob starts from (`/data/logs/*.txt` -> `/data/logs/`). */
export function globPrefix(glob: string): string {
  const first = glob.search(/[*?[]/);
  const literal = first < 0 ? glob : glob.slice(0, first);
  return literal.slice(0, literal.lastIndexOf('/') + 1);
}

/** Whether a file is a job's bookkeeping rather than data (`_SUCCESS`, `_temporary`, dotfiles). */
export function isHiddenPath(path: string): boolean {
  return path.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'));
}
