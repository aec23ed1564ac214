/**
 * `tessera mapreduce master|worker` (the services) and `tessera job ...` (the client): submit a
 * job and watch its progress live, show its status, list, cancel, and list or recover the
 * dead-letter queue. Every client command takes `--master URL` (default: found in the
 * registry) and `--json`; results go to stdout, progress and errors to stderr.
 */
import { readFileSync } from 'node:fs';
import { MultiBar, Presets } from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { HttpStatusError } from '../core/errors-http-client.js';
import { HttpClient } from '../core/http-client.js';
import { createLogger } from '../core/logger.js';
import { logEffectiveConfig, stopOnSignals } from '../core/service.js';
import {
  BUILTIN_JOBS,
  MASTER_ROLE,
  masterConfigSchema,
  startMaster,
  startWorker,
  STRATEGY_NAMES,
  workerConfigSchema,
  type JobView,
  type TaskView,
} from '../mapreduce/index.js';
import { DiscoveryClient } from '../registry/index.js';
import { addSchemaOptions, resolveFromCommand } from './options.js';
import { printTable, registryUrlOption } from './output.js';
import { formatDuration } from './progress.js';

/** `tessera mapreduce master` and `tessera mapreduce worker`. */
export function addMapReduceCommand(program: Command): void {
  const group = program
    .command('mapreduce')
    .description('Run the MapReduce master (HTTP 9400, gRPC 50051) or a worker (9501, ...).');
  const master = group.command('master').description('Run the MapReduce master.');
  addSchemaOptions(master, masterConfigSchema);
  master.action(async () => {
    const resolved = resolveFromCommand(master, masterConfigSchema);
    const logger = createLogger({ name: 'mapreduce-master', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    try {
      stopOnSignals(await startMaster(resolved.values, { logger }), logger);
    } catch (error) {
      master.error(`tessera: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  const worker = group.command('worker').description('Run a MapReduce worker.');
  addSchemaOptions(worker, workerConfigSchema);
  worker.action(async () => {
    const resolved = resolveFromCommand(worker, workerConfigSchema);
    const logger = createLogger({ name: 'mapreduce-worker', level: resolved.values.logLevel });
    logEffectiveConfig(logger, resolved);
    stopOnSignals(await startWorker(resolved.values, { logger }), logger);
  });
}

interface ClientOptions {
  readonly registry: string;
  readonly master?: string;
  readonly json?: boolean;
}

/** A failure whose message is what the user should read. */
class JobCliError extends Error {}

function withClientOptions(command: Command): Command {
  return command
    .addOption(registryUrlOption())
    .addOption(
      new Option('--master <url>', 'MapReduce master URL (default: found in the registry)').env(
        'TESSERA_MAPREDUCE_URL',
      ),
    )
    .option('--json', 'print JSON');
}

/** `tessera job submit|status|list|cancel|tasks` and `tessera job dlq list|recover`. */
export function addJobCommand(program: Command): void {
  const job = program.command('job').description('Submit and manage MapReduce jobs.');
  addSubmit(job);
  withClientOptions(
    job.command('status <id>').description('Show a job: state, progress, counters.'),
  )
    .option('--watch', 'follow the job until it finishes')
    .action(async (id: string, options: ClientOptions & { watch?: boolean }) =>
      run(options, async (api) => {
        const view = options.watch
          ? await watch(api, id, options.json)
          : await api.get<JobView>(`/jobs/${id}`);
        printJob(view, options.json);
        if (options.watch) process.exitCode = view.state === 'succeeded' ? 0 : 1;
      }),
    );
  withClientOptions(job.command('list').description('List jobs, newest first.'))
    .option('--state <state>', 'only jobs in this state')
    .action(async (options: ClientOptions & { state?: string }) =>
      run(options, async (api) => {
        const query = options.state ? `?state=${encodeURIComponent(options.state)}` : '';
        const { jobs } = await api.get<{ jobs: JobView[] }>(`/jobs${query}`);
        if (options.json) return printJson(jobs);
        printTable(
          jobs.map((j) => ({
            id: j.id,
            name: j.name,
            state: j.state,
            map: `${j.progress.map.done}/${j.progress.map.total}`,
            reduce: `${j.progress.reduce.done}/${j.progress.reduce.total}`,
            output: j.output,
          })),
          ['id', 'name', 'state', 'map', 'reduce', 'output'],
        );
      }),
    );
  withClientOptions(job.command('cancel <id>').description('Cancel a job.')).action(
    async (id: string, options: ClientOptions) =>
      run(options, async (api) => printJob(await api.delete<JobView>(`/jobs/${id}`), options.json)),
  );
  withClientOptions(job.command('tasks <id>').description('List the tasks of a job.')).action(
    async (id: string, options: ClientOptions) =>
      run(options, async (api) => {
        const { tasks } = await api.get<{ tasks: TaskView[] }>(`/jobs/${id}/tasks`);
        if (options.json) return printJson(tasks);
        printTable(
          tasks.map((t) => ({
            task: t.task_id,
            state: t.state,
            attempts: String(t.attempts),
            worker: t.worker_id ?? '',
            progress: `${Math.round(t.progress * 100)}%`,
            failure: t.last_failure
              ? `${t.last_failure.reason}: ${t.last_failure.error.split('\n')[0] ?? ''}`
              : '',
          })),
          ['task', 'state', 'attempts', 'worker', 'progress', 'failure'],
        );
      }),
  );
  addDlq(job);
}

function addSubmit(job: Command): void {
  withClientOptions(
    job
      .command('submit')
      .description('Submit a job: --builtin NAME, or --mapper M [--reducer R] [--combiner C].')
      .addOption(new Option('--builtin <name>', 'a built-in job').choices(BUILTIN_JOBS))
      .option('--mapper <m>', 'a .js/.mjs module file (exports map), or a streaming command line')
      .option(
        '--reducer <r>',
        'a .js/.mjs module file (exports reduce), or a streaming command line',
      )
      .option('--combiner <c>', 'a .js/.mjs module file (exports combine)')
      .requiredOption('--input <paths...>', 'DFS input paths, directories or globs')
      .requiredOption('--output <dir>', 'DFS output directory (must not hold files)')
      .option('--reducers <n>', 'number of reduce tasks (default 1)', parsePositive)
      .addOption(new Option('--strategy <name>', 'load-balancing strategy').choices(STRATEGY_NAMES))
      .option('--name <name>', 'a name for the job')
      .option('--pattern <regex>', 'grep: the pattern (same as --arg pattern=REGEX)')
      .option('--arg <key=value...>', 'arguments of a built-in job', collectArgs, {})
      .option('--wait', 'follow the job with live progress until it finishes'),
  ).action(async (options: ClientOptions & SubmitOptions) =>
    run(options, async (api) => {
      const created = await api.post<JobView>('/jobs', submitBody(options));
      if (!options.wait) return printJob(created, options.json, 'submitted');
      const final = await watch(api, created.id, options.json);
      printJob(final, options.json);
      process.exitCode = final.state === 'succeeded' ? 0 : 1;
    }),
  );
}

interface SubmitOptions {
  builtin?: string;
  mapper?: string;
  reducer?: string;
  combiner?: string;
  input: string[];
  output: string;
  reducers?: number;
  strategy?: string;
  name?: string;
  pattern?: string;
  arg: Record<string, string>;
  wait?: boolean;
}

/** The `POST /jobs` body of `tessera job submit`'s options. */
export function submitBody(options: SubmitOptions): Record<string, unknown> {
  const args = {
    ...options.arg,
    ...(options.pattern === undefined ? {} : { pattern: options.pattern }),
  };
  const body: Record<string, unknown> = { input: options.input, output: options.output };
  if (options.name) body['name'] = options.name;
  if (options.reducers !== undefined) body['reducers'] = options.reducers;
  if (options.strategy) body['strategy'] = options.strategy;
  if (options.builtin) body['builtin'] = options.builtin;
  if (Object.keys(args).length > 0) body['args'] = args;
  if (options.mapper) body['mapper'] = codeOf(options.mapper);
  if (options.reducer) body['reducer'] = codeOf(options.reducer);
  if (options.combiner) body['combiner'] = codeOf(options.combiner);
  if (!options.builtin && !options.mapper)
    throw new JobCliError('pass --builtin NAME, or --mapper M');
  return body;
}

/** A module file (`.js`, `.mjs`) ships its source; anything else is a command line (sh -c). */
function codeOf(value: string): Record<string, unknown> {
  if (/\.(m?js)$/.test(value)) {
    try {
      return { kind: 'js', source: readFileSync(value, 'utf8') };
    } catch (error) {
      throw new JobCliError(
        `cannot read ${value}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return { kind: 'command', command: ['/bin/sh', '-c', value] };
}

function addDlq(job: Command): void {
  const dlq = job
    .command('dlq')
    .description('The dead-letter queue: tasks that failed after their retries.');
  withClientOptions(dlq.command('list').description('List dead-lettered tasks, newest first.'))
    .option('--job <id>', 'only this job’s tasks')
    .action(async (options: ClientOptions & { job?: string }) =>
      run(options, async (api) => {
        const query = options.job ? `?job_id=${encodeURIComponent(options.job)}` : '';
        const page = await api.get<{ entries: Record<string, unknown>[] }>(
          `/fault-tolerance/dead-letter-queue${query}`,
        );
        if (options.json) return printJson(page);
        printTable(
          page.entries.map((e) => ({
            task: String(e['task_id']),
            reason: String(e['reason']),
            attempts: String(e['attempts']),
            error: String(e['error']).split('\n')[0] ?? '',
            record: e['record'] === undefined ? '' : JSON.stringify(e['record']).slice(0, 60),
          })),
          ['task', 'reason', 'attempts', 'error', 'record'],
        );
      }),
    );
  withClientOptions(
    dlq.command('recover <task_id>').description('Run a dead-lettered task again.'),
  ).action(async (taskId: string, options: ClientOptions) =>
    run(options, async (api) => {
      const answer = await api.post<Record<string, unknown>>(
        `/fault-tolerance/dead-letter-queue/${encodeURIComponent(taskId)}/recover`,
        {},
      );
      if (options.json) return printJson(answer);
      process.stdout.write(
        `recovered ${taskId}; job ${String(answer['job_id'])} is ${String(answer['job_state'])}\n`,
      );
    }),
  );
}

/** A tiny client of the master's HTTP API. */
interface MasterApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  delete<T>(path: string): Promise<T>;
}

async function run(options: ClientOptions, body: (api: MasterApi) => Promise<void>): Promise<void> {
  const http = new HttpClient({ timeoutMs: 60_000, maxRetries: 1 });
  try {
    const base = options.master ?? (await masterFromRegistry(http, options.registry));
    await body({
      get: (path) => http.getJson(`${base}${path}`),
      post: (path, payload) => http.postJson(`${base}${path}`, payload),
      delete: (path) => http.deleteJson(`${base}${path}`),
    });
  } catch (error) {
    process.stderr.write(`tessera: ${messageOf(error)}\n`);
    process.exitCode = 1;
  } finally {
    await http.close();
  }
}

async function masterFromRegistry(http: HttpClient, registryUrl: string): Promise<string> {
  const discovery = new DiscoveryClient({ registryUrl, http });
  return (await discovery.select(MASTER_ROLE, 'first')).url;
}

function messageOf(error: unknown): string {
  if (error instanceof HttpStatusError) return error.problem?.detail ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Polls a job until it finishes, drawing live progress on stderr. */
async function watch(api: MasterApi, id: string, json: boolean | undefined): Promise<JobView> {
  const interactive = !json && process.stderr.isTTY;
  const bars = interactive
    ? new MultiBar(
        {
          format: ' {phase} [{bar}] {value}/{total} tasks',
          hideCursor: false,
          clearOnComplete: false,
        },
        Presets.shades_classic,
      )
    : null;
  let view = await api.get<JobView>(`/jobs/${id}`);
  const mapBar = bars?.create(Math.max(1, view.progress.map.total), 0, { phase: 'map   ' });
  const reduceBar = bars?.create(Math.max(1, view.progress.reduce.total), 0, { phase: 'reduce' });
  let lastLine = '';
  for (;;) {
    mapBar?.update(view.progress.map.done);
    reduceBar?.update(view.progress.reduce.done);
    const line = `${view.id} ${view.state}: map ${view.progress.map.done}/${view.progress.map.total}, reduce ${view.progress.reduce.done}/${view.progress.reduce.total}`;
    if (!interactive && !json && line !== lastLine) process.stderr.write(`${line}\n`);
    lastLine = line;
    if (['succeeded', 'failed', 'cancelled'].includes(view.state)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
    view = await api.get<JobView>(`/jobs/${id}`);
  }
  bars?.stop();
  return view;
}

function printJob(view: JobView, json: boolean | undefined, verb?: string): void {
  if (json) return printJson(view);
  const out = process.stdout;
  out.write(`${view.id} ${verb ?? view.state} (${view.name})\n`);
  out.write(
    `  map ${view.progress.map.done}/${view.progress.map.total}, reduce ${view.progress.reduce.done}/${view.progress.reduce.total}`,
  );
  out.write(view.duration_ms === null ? '\n' : `, ${formatDuration(view.duration_ms)}\n`);
  out.write(`  output ${view.output}\n`);
  if (view.error) out.write(`  error ${view.error.split('\n')[0] ?? ''}\n`);
  const counters = Object.entries(view.counters);
  if (counters.length > 0)
    out.write(`  counters ${counters.map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function parsePositive(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('expected an integer >= 1');
  return value;
}

function collectArgs(raw: string, previous: Record<string, string>): Record<string, string> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value');
  return { ...previous, [raw.slice(0, eq)]: raw.slice(eq + 1) };
}
