/**
 * CPU profiles of the search benchmark's profiled passes (`--profile`), by where a search
 * node's time goes: Tessera's index (analysis, scoring, snippets), its node layer
 * (coordination, routing), the balancer, Fastify and its schema validation and serialization,
 * JSON, undici (node-to-node calls), Node's HTTP stack, file I/O, garbage collection.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './harness.js';
import type { Table } from './table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * A stretch of time on the machine's monotonic clock, in microseconds: V8 stamps profile
 * samples with it, and `process.hrtime` reads it, so a workload's window can be cut out of the
 * profile of another process (startup and shutdown left out).
 */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** The monotonic clock in microseconds, as V8's profiler stamps samples. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Where a process's time went in a window: self time per category and per function, in ms. */
export interface ProcessProfile {
  readonly categories: Record<string, number>;
  readonly functions: Record<string, number>;
}

/** Categories, first match wins, tested against `functionName url` of the sampled frame. */
const CATEGORIES: ReadonlyArray<[string, RegExp]> = [
  ['idle', /^\(idle\) /],
  [
    'startup: tsx, module loading',
    /node_modules\/(tsx|esbuild|get-tsconfig)|node:internal\/modules|node:internal\/vm/,
  ],
  ['garbage collection', /^\(garbage collector\) /],
  ['stemmer (snowball-stemmers)', /node_modules\/snowball-stemmers/],
  ['tessera index: analyzer', /\/src\/search\/index\/(analyzer|stopwords)\.ts/],
  ['tessera index: snippets', /\/src\/search\/index\/snippet\.ts/],
  [
    'tessera index: inverted index (insert, scoring, top-k)',
    /\/src\/search\/index\/(inverted-index|scoring|proximity|top-k|stats|feedback|query)\.ts/,
  ],
  ['tessera index: store (log, snapshots)', /\/src\/search\/index\/(index-store|wal-format)\.ts/],
  ['tessera search node', /\/src\/search\/node\//],
  ['tessera balancer', /\/src\/search\/balancer\//],
  ['tessera hypercube / election', /\/src\/search\/(hypercube|election)\//],
  ['tessera core', /\/src\/core\//],
  [
    'schema validation (ajv, typebox)',
    /node_modules\/(ajv|fast-uri|@fastify\/ajv-compiler|@sinclair)/,
  ],
  ['response serialization', /node_modules\/(fast-json-stringify|@fastify\/fast-json-stringify)/],
  ['JSON parse / stringify', /^(parse|stringify|JSONParse|JsonParse|JSONStringify) $/],
  ['fastify', /node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify\/)/],
  ['metrics / logging', /node_modules\/(prom-client|tdigest|bintrees|pino|sonic-boom)/],
  ['undici (node-to-node calls)', /node_modules\/undici|node:internal\/deps\/undici/],
  [
    'node http / net / streams',
    /node:(_http|http|net|stream|internal\/(streams|http|stream_base|net|js_stream))/,
  ],
  ['native writev (socket writes: kernel loopback delivery, waking the peer)', /^writev $/],
  ['file I/O and compression', /node:internal\/fs|node:fs|node:zlib|^(fdatasync|fsync|write) /],
  ['v8 / native (program)', /^\(program\) /],
  ['node other', /node:/],
  ['other dependencies', /node_modules\//],
  ['other', /.*/],
];

/**
 * Self time per category and the top functions of the main-thread profile that `pid` wrote into
 * `dir`, counting only samples inside `window` (all samples if none falls inside it).
 */
export function searchProfile(
  dir: string,
  pid: number,
  window?: ProfileWindow,
  top = 12,
): ProcessProfile | undefined {
  const file = readdirSync(dir).find((name) => name.includes(`.${pid}.0.`));
  if (file === undefined) return undefined;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const inWindow = sampleFilter(profile, window);
  const categories: Record<string, number> = {};
  const functions: Record<string, number> = {};
  profile.samples.forEach((id, at) => {
    if (!inWindow(at)) return;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    const us = profile.timeDeltas[at] ?? 0;
    const category = categoryOf(frame);
    categories[category] = (categories[category] ?? 0) + us / 1000;
    if (category === 'idle') return;
    const file = frame.url.replace(/^.*\/(node_modules|src)\//, '$1/');
    const name = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    functions[name] = (functions[name] ?? 0) + us / 1000;
  });
  return {
    categories: sortedRounded(categories),
    functions: Object.fromEntries(Object.entries(sortedRounded(functions)).slice(0, top)),
  };
}

function categoryOf(frame: ProfileNode['callFrame']): string {
  const key = `${frame.functionName} ${frame.url}`;
  return CATEGORIES.find(([, pattern]) => pattern.test(key))?.[0] ?? 'other';
}

/** Whether the sample at an index lies in the window (every sample if none does). */
function sampleFilter(profile: CpuProfile, window?: ProfileWindow): (at: number) => boolean {
  if (window === undefined) return () => true;
  const stamps: number[] = [];
  let now = profile.startTime;
  for (const delta of profile.timeDeltas) {
    now += delta;
    stamps.push(now);
  }
  const inside = (at: number): boolean => {
    const stamp = stamps[at] ?? 0;
    return stamp >= window.fromUs && stamp <= window.toUs;
  };
  return stamps.some((_s, at) => inside(at)) ? inside : () => true;
}

function sortedRounded(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values)
      .sort((a, b) => b[1] - a[1])
      .map(([name, value]) => [name, round(value)]),
  );
}

/** The categories summed over several processes (the nodes of one workload). */
export function sumCategories(
  parts: readonly (Record<string, number> | undefined)[],
): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const part of parts) {
    for (const [name, value] of Object.entries(part ?? {})) sum[name] = (sum[name] ?? 0) + value;
  }
  return Object.fromEntries(Object.entries(sum).sort((a, b) => b[1] - a[1]));
}

/** A printable table of categories (idle left out; shares of busy time). */
export function categoriesTable(title: string, categories: Record<string, number>): Table {
  const busy = Object.entries(categories).filter(
    ([name]) => name !== 'idle' && !name.startsWith('startup'),
  );
  const busyMs = busy.reduce((sum, [, value]) => sum + value, 0);
  return {
    title: `${title}: ${Math.round(busyMs)} ms busy`,
    columns: ['category (self time)', 'ms', 'share of busy'],
    rows: busy.map(([name, value]) => [
      name,
      Math.round(value),
      `${((value / Math.max(1, busyMs)) * 100).toFixed(1)} %`,
    ]),
  };
}
