/**
 * Relevance and speed of the local index on Cranfield (1400 docs, 225 queries, graded qrels).
 * Run: `node --import tsx bench/search-relevance.ts [--data DIR] [--json FILE]`. Its loaders
 * and metrics are exported for the cluster benchmark; importing the file runs nothing.
 * A document is indexed as `{doc_id: id, content: title + "\n" + text, metadata: {title}}`.
 *
 * Metrics follow trec_eval: nDCG@10 with linear gains (the README's 1..4) against the ideal
 * ordering of all judged documents; MAP over the top 1000; P@10 with gain > 0 as relevant.
 * For reference, it also runs SQLite FTS5's bm25() on the same title + text, which reproduces
 * the published 0.3622 and so checks these metric implementations.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import {
  IndexStore,
  InvertedIndex,
  localShard,
  searchIndex,
  searchShards,
  type QueryOptions,
  type StoredDocument,
} from '../src/search/index/index.js';

/** The ranking variants measured, from the seed's TF-IDF to the default pipeline. */
export const VARIANTS: readonly [string, QueryOptions][] = [
  ['tfidf', { scoring: 'tfidf', proximity: false, feedback: false }],
  ['bm25', { proximity: false, feedback: false }],
  ['bm25+proximity', { proximity: true, feedback: false }],
  ['bm25+rm3', { proximity: false, feedback: true }],
  ['bm25+proximity+rm3', {}],
];

export interface CranfieldDoc {
  id: string;
  title: string;
  text: string;
}
export interface CranfieldQuery {
  id: string;
  text: string;
}
/** query id -> doc id -> gain */
export type Qrels = Map<string, Map<string, number>>;
/** query id -> ranked doc ids */
export type Run = Map<string, string[]>;

export interface Metrics {
  ndcg10: number;
  map: number;
  p10: number;
}

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function readJsonLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

function readQrels(path: string): Qrels {
  const qrels: Qrels = new Map();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [query, doc, gain] = line.split('\t');
    if (query === undefined || doc === undefined || gain === undefined) continue;
    const judged = qrels.get(query) ?? new Map<string, number>();
    judged.set(doc, Number(gain));
    qrels.set(query, judged);
  }
  return qrels;
}

export function ndcgAt(
  ranked: readonly string[],
  judged: ReadonlyMap<string, number>,
  depth: number,
): number {
  const dcg = ranked
    .slice(0, depth)
    .reduce((sum, doc, i) => sum + (judged.get(doc) ?? 0) / Math.log2(i + 2), 0);
  const ideal = [...judged.values()]
    .filter((gain) => gain > 0)
    .sort((a, b) => b - a)
    .slice(0, depth)
    .reduce((sum, gain, i) => sum + gain / Math.log2(i + 2), 0);
  return ideal > 0 ? dcg / ideal : 0;
}

export function averagePrecision(
  ranked: readonly string[],
  judged: ReadonlyMap<string, number>,
): number {
  const relevant = [...judged.values()].filter((gain) => gain > 0).length;
  let found = 0;
  let sum = 0;
  ranked.forEach((doc, i) => {
    if ((judged.get(doc) ?? 0) > 0) {
      found += 1;
      sum += found / (i + 1);
    }
  });
  return relevant > 0 ? sum / relevant : 0;
}

export function evaluate(run: Run, qrels: Qrels): Metrics {
  let ndcg10 = 0;
  let map = 0;
  let p10 = 0;
  for (const [query, judged] of qrels) {
    const ranked = run.get(query) ?? [];
    ndcg10 += ndcgAt(ranked, judged, 10);
    map += averagePrecision(ranked, judged);
    p10 += ranked.slice(0, 10).filter((doc) => (judged.get(doc) ?? 0) > 0).length / 10;
  }
  const n = qrels.size;
  return { ndcg10: ndcg10 / n, map: map / n, p10: p10 / n };
}

export function toStored(doc: CranfieldDoc): StoredDocument {
  return { doc_id: doc.id, content: `${doc.title}\n${doc.text}`, metadata: { title: doc.title } };
}

/** The ranked run at depth 1000 (for MAP), and latencies of the same queries at k = 10. */
function runIndex(
  index: InvertedIndex,
  queries: readonly CranfieldQuery[],
  options: QueryOptions,
): { run: Run; latenciesMs: number[] } {
  const run: Run = new Map();
  for (const query of queries) {
    run.set(
      query.id,
      searchIndex(index, query.text, 1000, options).map((hit) => hit.doc_id),
    );
  }
  const latenciesMs: number[] = [];
  for (const query of queries) {
    const started = performance.now();
    searchIndex(index, query.text, 10, options);
    latenciesMs.push(performance.now() - started);
  }
  return { run, latenciesMs };
}

function runFts5(
  docs: readonly CranfieldDoc[],
  queries: readonly CranfieldQuery[],
  tokenize: string,
): Run {
  const db = new Database(':memory:');
  db.exec(
    `CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, tokenize = '${tokenize}')`,
  );
  const insert = db.prepare('INSERT INTO docs (id, title, text) VALUES (?, ?, ?)');
  db.transaction(() => docs.forEach((doc) => insert.run(doc.id, doc.title, doc.text)))();
  const select = db.prepare(
    'SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 1000',
  );
  const run: Run = new Map();
  for (const query of queries) {
    const words = query.text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
    const match = words.map((word) => `"${word}"`).join(' OR ');
    run.set(
      query.id,
      match === '' ? [] : (select.all(match) as { id: string }[]).map((row) => row.id),
    );
  }
  db.close();
  return run;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function format(metrics: Metrics): string {
  return `nDCG@10 ${metrics.ndcg10.toFixed(4)}  MAP ${metrics.map.toFixed(4)}  P@10 ${metrics.p10.toFixed(4)}`;
}

/** Indexing rates: a cold in-memory pass, a warm one, and durable writes through IndexStore. */
async function measureIndexing(stored: readonly StoredDocument[]): Promise<Record<string, number>> {
  const rate = (ms: number): number => Math.round(stored.length / (ms / 1000));
  const timeInMemory = (): number => {
    const started = performance.now();
    const index = new InvertedIndex();
    for (const doc of stored) index.add(doc);
    return performance.now() - started;
  };
  const coldMs = timeInMemory();
  const warmMs = Math.min(timeInMemory(), timeInMemory(), timeInMemory());
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-index-'));
  try {
    const store = await IndexStore.open(dir, { snapshotEveryOps: Number.MAX_SAFE_INTEGER });
    const started = performance.now();
    for (let i = 0; i < stored.length; i += 500) await store.addMany(stored.slice(i, i + 500));
    const durableMs = performance.now() - started;
    const snapshotStarted = performance.now();
    await store.snapshot();
    const snapshotMs = performance.now() - snapshotStarted;
    await store.close();
    const recoverStarted = performance.now();
    await (await IndexStore.open(dir)).close();
    const recoverMs = performance.now() - recoverStarted;
    return {
      coldDocsPerS: rate(coldMs),
      warmDocsPerS: rate(warmMs),
      durableBatch500DocsPerS: rate(durableMs),
      snapshotMs,
      recoverFromSnapshotMs: recoverMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The distributed check on Cranfield: 4 shards with global statistics = one index, per query. */
async function checkDistributed(
  stored: readonly StoredDocument[],
  queries: readonly CranfieldQuery[],
): Promise<number> {
  const single = new InvertedIndex();
  const shards = Array.from({ length: 4 }, () => new InvertedIndex());
  stored.forEach((doc, i) => {
    single.add(doc);
    shards[(i * 2654435761) % 4]?.add(doc);
  });
  let mismatches = 0;
  for (const query of queries) {
    for (const options of [{ feedback: false }, {}] satisfies QueryOptions[]) {
      const expected = searchIndex(single, query.text, 10, options);
      const actual = await searchShards(shards.map(localShard), query.text, 10, options);
      if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches += 1;
    }
  }
  return mismatches;
}

/** Load the collection from a directory laid out as shared/data/cranfield. */
export function loadCranfield(dataDir: string): {
  docs: CranfieldDoc[];
  queries: CranfieldQuery[];
  qrels: Qrels;
} {
  return {
    docs: readJsonLines<CranfieldDoc>(join(dataDir, 'docs.jsonl')),
    queries: readJsonLines<CranfieldQuery>(join(dataDir, 'queries.jsonl')),
    qrels: readQrels(join(dataDir, 'qrels.tsv')),
  };
}

async function main(): Promise<void> {
  const dataDir = argValue('--data') ?? join(import.meta.dirname, '../../shared/data/cranfield');
  const { docs, queries, qrels } = loadCranfield(dataDir);
  const stored = docs.map(toStored);
  const indexing = await measureIndexing(stored);
  console.log(
    `indexing ${docs.length} docs: cold ${indexing['coldDocsPerS']} docs/s, warm ${indexing['warmDocsPerS']} docs/s, durable (IndexStore, batches of 500) ${indexing['durableBatch500DocsPerS']} docs/s; snapshot ${indexing['snapshotMs']?.toFixed(0)} ms, recovery ${indexing['recoverFromSnapshotMs']?.toFixed(0)} ms`,
  );
  const index = new InvertedIndex();
  for (const doc of stored) index.add(doc);

  const results: Record<string, Metrics & { p50Ms?: number; p99Ms?: number }> = {};
  for (const [name, options] of VARIANTS) {
    const { run, latenciesMs } = runIndex(index, queries, options);
    const metrics = evaluate(run, qrels);
    const p50Ms = percentile(latenciesMs, 50);
    const p99Ms = percentile(latenciesMs, 99);
    results[name] = { ...metrics, p50Ms, p99Ms };
    console.log(
      `tessera ${name.padEnd(20)} ${format(metrics)}  k=10 latency p50 ${p50Ms.toFixed(3)} ms  p99 ${p99Ms.toFixed(3)} ms`,
    );
  }
  for (const tokenize of ['unicode61', 'porter unicode61']) {
    const metrics = evaluate(runFts5(docs, queries, tokenize), qrels);
    results[`fts5 ${tokenize}`] = metrics;
    console.log(`fts5 ${tokenize.padEnd(23)} ${format(metrics)}`);
  }
  const mismatches = await checkDistributed(stored, queries);
  console.log(
    `distributed check (4 shards, global stats, with and without RM3): ${mismatches} of ${queries.length * 2} queries differ from one index`,
  );
  const jsonPath = argValue('--json');
  if (jsonPath !== undefined) {
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(
      jsonPath,
      `${JSON.stringify({ docs: docs.length, indexing, results, distributedMismatches: mismatches }, null, 2)}\n`,
    );
  }
  if (mismatches > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  await main();
