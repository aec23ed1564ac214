/**
 * The in-process runs the cluster is compared with, on the same Cranfield title + text:
 * MiniSearch (npm `minisearch`, default options: BM25 with its default parameters, OR of the
 * query words, no prefix or fuzzy matching), SQLite FTS5 `bm25()` with the `porter unicode61`
 * tokenizer (as bench/search-relevance.ts, which reproduces the published 0.3622), and
 * Tessera's own index as one node holding every document (the figure the cluster must equal).
 */
import Database from 'better-sqlite3';
import MiniSearch from 'minisearch';
import {
  InvertedIndex,
  searchIndex,
  type QueryOptions,
  type StoredDocument,
} from '../../src/search/index/index.js';
import { toStored, type CranfieldDoc, type CranfieldQuery, type Run } from '../search-relevance.js';

/** Ranked lists are cut at this depth (MAP over the top 1000, as trec_eval). */
export const RUN_DEPTH = 1000;

/** MiniSearch over `title` and `text` with its default options. */
export function runMiniSearch(
  docs: readonly CranfieldDoc[],
  queries: readonly CranfieldQuery[],
): Run {
  const engine = new MiniSearch<CranfieldDoc>({ fields: ['title', 'text'], storeFields: [] });
  engine.addAll(docs);
  const run: Run = new Map();
  for (const query of queries) {
    const ranked = engine.search(query.text).slice(0, RUN_DEPTH);
    run.set(
      query.id,
      ranked.map((hit) => String(hit.id)),
    );
  }
  return run;
}

/**
 * SQLite FTS5 `bm25()` over the columns `title` and `text` (equal weights), the query as an OR
 * of its lowercased alphanumeric words, each quoted.
 */
export function runFts5(
  docs: readonly CranfieldDoc[],
  queries: readonly CranfieldQuery[],
  tokenize = 'porter unicode61',
): Run {
  const db = new Database(':memory:');
  try {
    db.exec(
      `CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, text, tokenize = '${tokenize}')`,
    );
    const insert = db.prepare('INSERT INTO docs (id, title, text) VALUES (?, ?, ?)');
    db.transaction(() => docs.forEach((doc) => insert.run(doc.id, doc.title, doc.text)))();
    const select = db.prepare(
      `SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ${RUN_DEPTH}`,
    );
    const run: Run = new Map();
    for (const query of queries) {
      const words = query.text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
      const match = words.map((word) => `"${word}"`).join(' OR ');
      const rows = match === '' ? [] : (select.all(match) as { id: string }[]);
      run.set(
        query.id,
        rows.map((row) => row.id),
      );
    }
    return run;
  } finally {
    db.close();
  }
}

/** Tessera as one index holding every document: one run per variant's options. */
export function runSingleNode(
  docs: readonly CranfieldDoc[],
  queries: readonly CranfieldQuery[],
  variants: readonly (readonly [string, QueryOptions])[],
): Map<string, Run> {
  const index = new InvertedIndex();
  for (const doc of docs) index.add(toStored(doc));
  const runs = new Map<string, Run>();
  for (const [name, options] of variants) {
    const run: Run = new Map();
    for (const query of queries) {
      run.set(
        query.id,
        searchIndex(index, query.text, RUN_DEPTH, options).map((hit) => hit.doc_id),
      );
    }
    runs.set(name, run);
  }
  return runs;
}

/**
 * Documents per second of one in-memory InvertedIndex in this process (analysis and postings,
 * no HTTP, no log, one copy): with k = 2 copies on as many cores as copies, the ceiling of a
 * cluster's bulk-indexing rate on this machine.
 */
export function indexInProcess(docs: readonly StoredDocument[]): {
  seconds: number;
  docsPerS: number;
} {
  const index = new InvertedIndex();
  const startedMs = performance.now();
  for (const doc of docs) index.add(doc);
  const seconds = (performance.now() - startedMs) / 1000;
  return { seconds, docsPerS: docs.length / seconds };
}

/** The query parameters of `GET /search` that select a variant's ranking. */
export function variantParams(options: QueryOptions): Record<string, string | boolean> {
  return {
    ...(options.scoring === undefined ? {} : { scoring: options.scoring }),
    ...(options.proximity === undefined ? {} : { proximity: options.proximity }),
    ...(typeof options.feedback === 'boolean' ? { feedback: options.feedback } : {}),
  };
}
