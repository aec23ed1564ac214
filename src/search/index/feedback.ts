import type { QueryTerm } from './analyzer.js';

/**
 * Pseudo-relevance feedback with RM3 (Abdul-Jaleel et al., "UMass at TREC 2004"; the form
 * Anserini uses): take the top documents of a first search as relevant, estimate a relevance
 * model P(w|R) = sum_d P(w|d) P(d|Q) from their term vectors, keep its best terms and
 * interpolate it with the original query. Pure, so the coordinator of a distributed search
 * can run it on term vectors fetched from any node and get the same expanded query.
 */

/** A feedback document: its first-round score and its term frequencies. */
export interface FeedbackDocument {
  doc_id: string;
  score: number;
  termFrequencies: ReadonlyMap<string, number>;
}

/** RM3 parameters (Anserini's defaults). */
export interface FeedbackOptions {
  /** Feedback documents taken from the first round. Default 10. */
  fbDocs?: number;
  /** Expansion terms kept from the relevance model. Default 10. */
  fbTerms?: number;
  /** Weight of the original query in the interpolation. Default 0.5. */
  originalWeight?: number;
}

/** Anserini's RM3 defaults. */
export const DEFAULT_FEEDBACK: Readonly<Required<FeedbackOptions>> = Object.freeze({
  fbDocs: 10,
  fbTerms: 10,
  originalWeight: 0.5,
});

/** Best first: weight descending, then term ascending (a total order, so nodes agree). */
function compareWeighted(a: QueryTerm, b: QueryTerm): number {
  if (a.weight !== b.weight) return b.weight > a.weight ? 1 : -1;
  return a.term < b.term ? -1 : a.term > b.term ? 1 : 0;
}

/** The relevance model over the feedback documents, as weights summing to 1 (unsorted). */
export function relevanceModel(documents: readonly FeedbackDocument[]): Map<string, number> {
  const model = new Map<string, number>();
  const scoreSum = documents.reduce((sum, doc) => sum + Math.max(0, doc.score), 0);
  for (const doc of documents) {
    let length = 0;
    for (const tf of doc.termFrequencies.values()) length += tf;
    if (length === 0) continue;
    const docWeight = scoreSum > 0 ? Math.max(0, doc.score) / scoreSum : 1 / documents.length;
    for (const [term, tf] of doc.termFrequencies)
      model.set(term, (model.get(term) ?? 0) + docWeight * (tf / length));
  }
  return model;
}

/**
 * RM3: the original query (weights normalized to sum 1) interpolated with the best `fbTerms`
 * terms of the relevance model (renormalized), original terms first in their order, then the
 * new terms best first. Only the first `fbDocs` documents (by the given order) are used.
 */
export function expandQuery(
  query: readonly QueryTerm[],
  documents: readonly FeedbackDocument[],
  options: FeedbackOptions = {},
): QueryTerm[] {
  const { fbDocs, fbTerms, originalWeight } = { ...DEFAULT_FEEDBACK, ...options };
  const queryMass = query.reduce((sum, term) => sum + term.weight, 0);
  if (queryMass <= 0) return [];
  const model = relevanceModel(documents.slice(0, fbDocs));
  const best = [...model]
    .map(([term, weight]) => ({ term, weight }))
    .sort(compareWeighted)
    .slice(0, fbTerms);
  const bestMass = best.reduce((sum, term) => sum + term.weight, 0);
  const expanded = new Map<string, number>();
  for (const { term, weight } of query)
    expanded.set(term, (expanded.get(term) ?? 0) + (originalWeight * weight) / queryMass);
  if (bestMass > 0) {
    for (const { term, weight } of best)
      expanded.set(term, (expanded.get(term) ?? 0) + ((1 - originalWeight) * weight) / bestMass);
  }
  return [...expanded].map(([term, weight]) => ({ term, weight }));
}
