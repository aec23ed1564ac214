/**
 * CPU profiles of the DFS benchmark's profiled pass, by where a transfer's time goes: hashing
 * (SHA-256, CRC-32), file I/O, Node's HTTP and stream plumbing, undici, Fastify, Tessera's own
 * code, garbage collection. The generic summary (profile-summary.ts) gives the top functions;
 * this adds the categories that matter for moving bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './harness.js';
import type { ProfileCollector } from './profile-summary.js';
import type { Table } from './table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Categories, first match wins, tested against `functionName url` of the sampled frame. */
const CATEGORIES: ReadonlyArray<[string, RegExp]> = [
  ['idle', /^\(idle\) /],
  ['garbage collection', /^\(garbage collector\) /],
  ['SHA-256 (crypto hash)', /node:internal\/crypto\/hash|^(update|digest) $/],
  ['CRC-32 (zlib)', /^crc32 /],
  // Native calls by name: the fs and socket bindings share names (writeBuffer, writev), and the
  // profiler samples wall time, so a main thread waiting for a core inside one counts here too.
  [
    'I/O calls (fs, socket writes)',
    /node:internal\/fs|node:fs|^(write|writev|writeBuffers?|writeUtf8String|read|fsync|close|open|openFileHandle) $/,
  ],
  ['undici (client HTTP)', /node_modules\/undici/],
  ['sqlite (better-sqlite3)', /node_modules\/better-sqlite3/],
  ['schema validation (ajv)', /node_modules\/(ajv|fast-uri|@fastify\/ajv-compiler)|^validate\d* /],
  [
    'fastify / pino / metrics',
    /node_modules\/(fastify|find-my-way|avvio|@fastify|pino|prom-client)/,
  ],
  [
    'node http / net / streams',
    /node:(_http|http|net|stream|internal\/(streams|http|stream_base|net|js_stream))/,
  ],
  ['meta replication planning (periodic scan)', /\/src\/dfs\/meta\/replication-/],
  ['tessera src/dfs', /\/src\/dfs\//],
  ['tessera src/core', /\/src\/core\//],
  ['v8 / native (program)', /^\(program\) /],
  ['node other', /node:/],
  ['other', /.*/],
];

/** Self time per category of the main-thread profile `pid` wrote into `dir`, in ms. */
export function dfsProfileCategories(dir: string, pid: number): Record<string, number> | undefined {
  const file = readdirSync(dir).find((name) => name.includes(`.${pid}.0.`));
  if (!file) return undefined;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const categoryOf = new Map<number, string>();
  for (const node of profile.nodes) {
    const key = `${node.callFrame.functionName} ${node.callFrame.url}`;
    categoryOf.set(node.id, CATEGORIES.find(([, pattern]) => pattern.test(key))?.[0] ?? 'other');
  }
  const selfUs: Record<string, number> = {};
  profile.samples.forEach((id, at) => {
    const category = categoryOf.get(id) ?? 'other';
    selfUs[category] = (selfUs[category] ?? 0) + (profile.timeDeltas[at] ?? 0);
  });
  return Object.fromEntries(
    Object.entries(selfUs)
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => [name, round(us / 1000)]),
  );
}

/** The categories of each profiled process, by label. */
export function profileCategories(
  profiler: ProfileCollector,
  pids: Record<string, number>,
): Record<string, Record<string, number>> {
  const result: Record<string, Record<string, number>> = {};
  for (const [label, pid] of Object.entries(pids)) {
    const categories = dfsProfileCategories(profiler.dir, pid);
    if (categories) result[label] = categories;
  }
  return result;
}

/** The tables of a profiled pass: transfer categories per process, then the generic ones. */
export function profileTables(profiler: ProfileCollector, pids: Record<string, number>): Table[] {
  const tables: Table[] = [];
  for (const [label, categories] of Object.entries(profileCategories(profiler, pids))) {
    const busyMs = Object.entries(categories)
      .filter(([name]) => name !== 'idle')
      .reduce((sum, [, ms]) => sum + ms, 0);
    tables.push({
      title: `CPU profile by transfer category, ${label}: ${busyMs} ms busy`,
      columns: ['category (self time)', 'ms', 'share of busy'],
      rows: Object.entries(categories)
        .filter(([name]) => name !== 'idle')
        .map(([name, ms]) => [name, ms, `${((ms / Math.max(1, busyMs)) * 100).toFixed(1)} %`]),
    });
  }
  return [...tables, ...profiler.tables];
}
