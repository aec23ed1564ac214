import { analyzeQuery, DEFAULT_LANGUAGE, type Language, type QueryTerm } from './analyzer.js';
import {
  DEFAULT_FEEDBACK,
  expandQuery,
  type FeedbackDocument,
  type FeedbackOptions,
} from './feedback.js';
import type { InvertedIndex, SearchOptions } from './inverted-index.js';
import { combineStats, type GlobalStats, type LocalStats } from './stats.js';
import { mergeTopK, type ScoredHit } from './top-k.js';

/**
 * The query pipeline, written once for one index and for many shards (nodes):
 *
 * 1. analyze the query text into weighted terms;
 * 2. gather the statistics of those terms from every shard and sum them (global stats);
 * 3. every shard scores its documents with the global stats; merge the top k;
 * 4. with feedback (RM3): fetch the term vectors of the first round's best documents,
 *    expand the query, gather statistics for the new terms and run step 3 again.
 *
 * Every step is deterministic and order-preserving, so k shards holding disjoint parts of a
 * collection return exactly what one index holding all of it returns.
 */

/** Options of the whole pipeline. */
export interface QueryOptions extends SearchOptions {
  /** Language to analyze the query in. Default 'en'. */
  language?: Language;
  /** RM3 pseudo-relevance feedback: true (default, Anserini's settings), false, or its options. */
  feedback?: boolean | FeedbackOptions;
}

/** A shard of the collection, local or remote, as the pipeline uses it. */
export interface Shard {
  /** The shard's statistics for these terms (see `InvertedIndex.localStats`). */
  localStats(terms: string[]): Promise<LocalStats>;
  /** The shard's top k for the query under the given statistics. */
  searchLocal(
    query: QueryTerm[],
    stats: GlobalStats,
    k: number,
    options: SearchOptions,
  ): Promise<ScoredHit[]>;
  /** Term frequencies of those of the given documents the shard holds. */
  termVectors(docIds: string[]): Promise<Record<string, Record<string, number>>>;
}

/** A shard over a local index. */
export function localShard(index: InvertedIndex): Shard {
  return {
    localStats: async (terms) => index.localStats(terms),
    searchLocal: async (query, stats, k, options) => index.searchLocal(query, stats, k, options),
    termVectors: async (docIds) => termVectorsOf(index, docIds),
  };
}

/** The term vectors of the held documents among `docIds`, as plain records. */
export function termVectorsOf(
  index: InvertedIndex,
  docIds: readonly string[],
): Record<string, Record<string, number>> {
  const vectors: Record<string, Record<string, number>> = Object.create(null) as Record<
    string,
    Record<string, number>
  >;
  for (const docId of docIds) {
    const vector = index.termVectorRecord(docId);
    if (vector !== undefined) vectors[docId] = vector;
  }
  return vectors;
}

/** The feedback options in force, or undefined when feedback is off. */
export function feedbackOptions(options: QueryOptions): Required<FeedbackOptions> | undefined {
  if (options.feedback === false) return undefined;
  return {
    ...DEFAULT_FEEDBACK,
    ...(options.feedback === undefined || options.feedback === true ? {} : options.feedback),
  };
}

function searchOptionsOf(options: QueryOptions): SearchOptions {
  const { language: _language, feedback: _feedback, ...search } = options;
  return search;
}

async function scatter(
  shards: readonly Shard[],
  query: QueryTerm[],
  k: number,
  options: SearchOptions,
): Promise<ScoredHit[]> {
  const terms = query.map((term) => term.term);
  const stats = combineStats(await Promise.all(shards.map((shard) => shard.localStats(terms))));
  const lists = await Promise.all(
    shards.map((shard) => shard.searchLocal(query, stats, k, options)),
  );
  return mergeTopK(lists, k);
}

/** Build RM3's feedback documents from ranked hits and the term vectors fetched for them. */
export function feedbackDocuments(
  hits: readonly ScoredHit[],
  vectors: Readonly<Record<string, Record<string, number>>>,
): FeedbackDocument[] {
  return hits.flatMap((hit) => {
    const vector = Object.hasOwn(vectors, hit.doc_id) ? vectors[hit.doc_id] : undefined;
    return vector === undefined
      ? []
      : [
          {
            doc_id: hit.doc_id,
            score: hit.score,
            termFrequencies: new Map(Object.entries(vector)),
          },
        ];
  });
}

/** Run the whole pipeline over shards holding disjoint parts of the collection. */
export async function searchShards(
  shards: readonly Shard[],
  text: string,
  k: number,
  options: QueryOptions = {},
): Promise<ScoredHit[]> {
  const query = analyzeQuery(text, options.language ?? DEFAULT_LANGUAGE);
  const search = searchOptionsOf(options);
  const feedback = feedbackOptions(options);
  if (feedback === undefined) return scatter(shards, query, k, search);
  const first = await scatter(shards, query, feedback.fbDocs, search);
  const ids = first.map((hit) => hit.doc_id);
  const vectors: Record<string, Record<string, number>> = Object.create(null) as Record<
    string,
    Record<string, number>
  >;
  for (const part of await Promise.all(shards.map((shard) => shard.termVectors(ids))))
    Object.assign(vectors, part);
  const expanded = expandQuery(query, feedbackDocuments(first, vectors), feedback);
  return scatter(shards, expanded, k, search);
}

/** Run the whole pipeline on one index, synchronously. */
export function searchIndex(
  index: InvertedIndex,
  text: string,
  k: number,
  options: QueryOptions = {},
): ScoredHit[] {
  const query = analyzeQuery(text, options.language ?? DEFAULT_LANGUAGE);
  const search = searchOptionsOf(options);
  const feedback = feedbackOptions(options);
  const run = (terms: QueryTerm[], depth: number): ScoredHit[] =>
    index.searchLocal(terms, index.localStats(terms.map((term) => term.term)), depth, search);
  if (feedback === undefined) return run(query, k);
  const first = run(query, feedback.fbDocs);
  const documents = first.map((hit) => ({
    ...hit,
    termFrequencies: index.termVector(hit.doc_id) ?? new Map<string, number>(),
  }));
  const expanded = expandQuery(query, documents, feedback);
  return run(expanded, k);
}
