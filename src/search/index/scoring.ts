/**
 * Ranking functions, pure: everything they need comes in as numbers, so the same call on any
 * node with the same (global) statistics gives the same float.
 *
 * BM25 (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond", 2009)
 * with the non-negative IDF that Lucene uses, ln(1 + (N - df + 0.5) / (df + 0.5)), so that a
 * term found in more than half the documents still adds a little instead of subtracting.
 */

/** BM25 parameters. */
export interface Bm25Params {
  /** Term-frequency saturation. Default 1.2. */
  k1: number;
  /** Length normalization, 0 (none) to 1 (full). Default 0.75. */
  b: number;
}

/** The defaults the issue asks for (and Lucene, Anserini and Elasticsearch use). */
export const DEFAULT_BM25: Readonly<Bm25Params> = Object.freeze({ k1: 1.2, b: 0.75 });

/** BM25's inverse document frequency of a term found in `df` of `docCount` documents. */
export function bm25Idf(docCount: number, df: number): number {
  return Math.log(1 + (docCount - df + 0.5) / (df + 0.5));
}

/**
 * BM25's term-frequency component: tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)).
 * An empty collection (avgdl 0) normalizes nothing.
 */
export function bm25TermFrequency(
  tf: number,
  docLength: number,
  avgDocLength: number,
  params: Bm25Params,
): number {
  const lengthRatio = avgDocLength > 0 ? docLength / avgDocLength : 1;
  return (tf * (params.k1 + 1)) / (tf + params.k1 * (1 - params.b + params.b * lengthRatio));
}

/**
 * The BM25 score of one query term in one document (as minisearch's `calcBM25Score`):
 * idf(df, N) times the saturated term frequency.
 */
export function bm25Score(
  tf: number,
  df: number,
  docCount: number,
  docLength: number,
  avgDocLength: number,
  params: Bm25Params = DEFAULT_BM25,
): number {
  return bm25Idf(docCount, df) * bm25TermFrequency(tf, docLength, avgDocLength, params);
}

/** The seed's TF-IDF, in its usual sublinear form: idf = ln(1 + N / df). */
export function tfidfIdf(docCount: number, df: number): number {
  return df > 0 ? Math.log(1 + docCount / df) : 0;
}

/** TF-IDF of one query term in one document: (1 + ln tf) ln(1 + N / df); 0 when tf = 0. */
export function tfidfScore(tf: number, df: number, docCount: number): number {
  return tf > 0 ? (1 + Math.log(tf)) * tfidfIdf(docCount, df) : 0;
}

/** The ranking functions the index offers. */
export type ScoringName = 'bm25' | 'tfidf';

/**
 * A term's proximity weight (BM25TP, Büttcher, Clarke & Lushman, SIGIR 2006): for every
 * occurrence of a query term, each nearest occurrence of another query term at distance d
 * adds that other term's idf / d^2 to the term's accumulator. The accumulator is then
 * saturated like a term frequency and weighted by min(1, idf(term)).
 */
export function proximityScore(
  accumulator: number,
  idf: number,
  docLength: number,
  avgDocLength: number,
  params: Bm25Params,
): number {
  if (accumulator <= 0) return 0;
  return Math.min(1, idf) * bm25TermFrequency(accumulator, docLength, avgDocLength, params);
}
