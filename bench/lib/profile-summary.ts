/**
 * Summarises a V8 CPU profile (`node --cpu-prof`) by where the time went: self time per
 * category (Fastify, schema validation, Node's HTTP stack, SQLite, our code, GC, idle...) and
 * the top functions. Used by `npm run bench -- registry --profile`; also runnable alone:
 * `node --import tsx bench/lib/profile-summary.ts FILE.cpuprofile`.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Table } from './table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one category or function, in milliseconds and as a share of busy time. */
export interface ProfileEntry {
  readonly name: string;
  readonly selfMs: number;
  readonly shareOfBusy: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly categories: ProfileEntry[];
  readonly functions: ProfileEntry[];
}

/** Categories, first match wins; a frame's URL (or name, for V8's own entries) is tested. */
const CATEGORIES: ReadonlyArray<[string, RegExp]> = [
  ['idle', /^\(idle\)$/],
  ['garbage collection', /^\(garbage collector\)$/],
  ['v8 / native (program)', /^\(program\)$/],
  ['schema validation (ajv)', /node_modules\/(ajv|fast-uri|@fastify\/ajv-compiler)|^validate\d*$/],
  [
    'response serialization',
    /node_modules\/(fast-json-stringify|@fastify\/fast-json-stringify-compiler)|^anonymous$/,
  ],
  ['fastify', /node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify\/)/],
  ['metrics (prom-client)', /node_modules\/(prom-client|tdigest|bintrees)/],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|thread-stream)/],
  ['sqlite (better-sqlite3)', /node_modules\/better-sqlite3/],
  ['tessera src/core', /\/src\/core\//],
  ['tessera src/registry', /\/src\/registry\//],
  [
    'node http / net / streams',
    /^node:(_http|http|net|stream|internal\/(streams|http|stream_base|net))|^node:internal\/js_stream/,
  ],
  ['node other', /^node:/],
  ['other dependencies', /node_modules\//],
];

function categoryOf(frame: ProfileNode['callFrame']): string {
  const key = frame.url === '' ? frame.functionName : frame.url;
  for (const [name, pattern] of CATEGORIES) {
    if (pattern.test(key) || (frame.url === '' && pattern.test(frame.functionName))) return name;
  }
  return frame.url === '' ? `native: ${frame.functionName || '(anonymous)'}` : 'other';
}

/** Reads and summarises one profile. */
export function summariseProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, at) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[at] ?? 0));
  });
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    const category = categoryOf(frame);
    categories.set(category, (categories.get(category) ?? 0) + us);
    const file = frame.url.replace(/^.*\/(node_modules|src)\//, '$1/');
    const fn = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    if (category !== 'idle') functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const idleUs = categories.get('idle') ?? 0;
  const busyUs = Math.max(1, totalUs - idleUs);
  const entries = (map: Map<string, number>): ProfileEntry[] =>
    [...map]
      .filter(([name]) => name !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({
        name,
        selfMs: Math.round(us / 1000),
        shareOfBusy: Math.round((us / busyUs) * 1000) / 1000,
      }));
  return {
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    categories: entries(categories),
    functions: entries(functions).slice(0, top),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const path of process.argv.slice(2)) {
    const summary = summariseProfile(path, 25);
    process.stdout.write(`${path}: ${summary.totalMs} ms sampled, ${summary.idleMs} ms idle\n`);
    for (const entry of [
      ...summary.categories,
      { name: '--', selfMs: 0, shareOfBusy: 0 },
      ...summary.functions,
    ]) {
      process.stdout.write(
        `${(entry.shareOfBusy * 100).toFixed(1).padStart(6)}%  ${String(entry.selfMs).padStart(7)} ms  ${entry.name}\n`,
      );
    }
  }
}

/**
 * The main-thread profile that process `pid` wrote into `dir` when it exited (V8 names it
 * `CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`; thread 0 is the main thread), summarised.
 */
export function summariseProcessProfile(dir: string, pid: number): ProfileSummary | undefined {
  const file = readdirSync(dir).find((name) => name.includes(`.${pid}.0.`));
  return file ? summariseProfile(join(dir, file)) : undefined;
}

/** A profile summary as a printable table: categories, then the top functions. */
export function profileTable(title: string, summary: ProfileSummary): Table {
  const busyMs = summary.totalMs - summary.idleMs;
  return {
    title: `${title}: ${busyMs} ms busy of ${summary.totalMs} ms sampled`,
    columns: ['where (self time)', 'ms', 'share of busy'],
    rows: [...summary.categories.slice(0, 12), ...summary.functions.slice(0, 10)].map((entry) => [
      entry.name,
      entry.selfMs,
      `${(entry.shareOfBusy * 100).toFixed(1)} %`,
    ]),
  };
}

/** Collects the CPU profiles of the child processes of one benchmark run (`--profile`). */
export class ProfileCollector {
  readonly tables: Table[] = [];
  readonly summaries: Record<string, ProfileSummary> = {};

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Node flags that make a child write its profile into `dir` when it exits. */
  nodeFlags(): string[] {
    return ['--cpu-prof', `--cpu-prof-dir=${this.dir}`];
  }

  /** Summarises the profile of an exited child. */
  collect(label: string, pid: number): void {
    const summary = summariseProcessProfile(this.dir, pid);
    if (!summary) return;
    this.summaries[label] = summary;
    this.tables.push(profileTable(`CPU profile, ${label}`, summary));
  }
}
