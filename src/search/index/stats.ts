/**
 * Collection statistics. Each node exports its local statistics; the cluster sums them into
 * global statistics and sends those with the query, so that every node scores with the N,
 * average document length and df(t) of the whole collection — and the distributed ranking is
 * the ranking one index holding every document would give.
 */

/** Statistics of a set of documents: the local ones of a node, or their sum over the cluster. */
export interface CollectionStats {
  /** Number of documents. */
  docCount: number;
  /** Sum of the documents' lengths in terms (stop words excluded). */
  totalLength: number;
  /** Document frequency of each term asked about (terms absent from the map have df 0). */
  df: Record<string, number>;
}

/** Statistics one node holds about its own documents. */
export type LocalStats = CollectionStats;

/** Statistics of the whole cluster, passed with a query. */
export type GlobalStats = CollectionStats;

/** The average document length, 0 for an empty collection. */
export function avgDocLength(stats: CollectionStats): number {
  return stats.docCount > 0 ? stats.totalLength / stats.docCount : 0;
}

/** df(t) in `stats`; 0 for a term it does not list (never an inherited property like "constructor"). */
export function dfOf(stats: CollectionStats, term: string): number {
  return Object.hasOwn(stats.df, term) ? (stats.df[term] ?? 0) : 0;
}

/** Sum the local statistics of disjoint sets of documents (e.g. of every node). */
export function combineStats(parts: readonly CollectionStats[]): GlobalStats {
  const df: Record<string, number> = Object.create(null) as Record<string, number>;
  let docCount = 0;
  let totalLength = 0;
  for (const part of parts) {
    docCount += part.docCount;
    totalLength += part.totalLength;
    for (const [term, count] of Object.entries(part.df))
      df[term] = (Object.hasOwn(df, term) ? (df[term] ?? 0) : 0) + count;
  }
  return { docCount, totalLength, df };
}
