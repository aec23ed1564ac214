/**
 * Test model: scores documents by scanning every one of them, with no index at all. It
 * computes each score with the same arithmetic, in the same order, as the index promises
 * (query terms in query order; BM25TP over consecutive query-term occurrences), so the two
 * must agree exactly.
 */
import {
  DEFAULT_BM25,
  analyze,
  bm25Idf,
  bm25TermFrequency,
  compareHits,
  languageOf,
  proximityScore,
  tfidfIdf,
  type AnalyzedToken,
  type QueryTerm,
  type ScoredHit,
  type ScoringName,
  type StoredDocument,
} from '../../../src/search/index/index.js';

/** Options the model understands (the subset of SearchOptions that changes scores). */
export interface ModelOptions {
  scoring?: ScoringName;
  proximity?: boolean;
  k1?: number;
  b?: number;
}

interface ScannedDoc {
  doc: StoredDocument;
  tokens: AnalyzedToken[];
  tf: Map<string, number>;
}

function scan(doc: StoredDocument): ScannedDoc {
  const tokens = analyze(doc.content, languageOf(doc.metadata));
  const tf = new Map<string, number>();
  for (const token of tokens) tf.set(token.term, (tf.get(token.term) ?? 0) + 1);
  return { doc, tokens, tf };
}

/** Collection statistics by scanning. */
export function scanStats(docs: Iterable<StoredDocument>): {
  docCount: number;
  totalLength: number;
  df: Map<string, number>;
} {
  const df = new Map<string, number>();
  let docCount = 0;
  let totalLength = 0;
  for (const doc of docs) {
    const scanned = scan(doc);
    docCount += 1;
    totalLength += scanned.tokens.length;
    for (const term of scanned.tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  }
  return { docCount, totalLength, df };
}

function proximityOf(
  doc: ScannedDoc,
  terms: readonly { term: string; weight: number; idf: number }[],
  avgdl: number,
  k1: number,
  b: number,
): number {
  const acc = terms.map(() => 0);
  const occurrences = doc.tokens.flatMap((token) => {
    const i = terms.findIndex((t) => t.term === token.term);
    return i >= 0 ? [{ i, position: token.position }] : [];
  });
  for (let j = 1; j < occurrences.length; j += 1) {
    const prev = occurrences[j - 1] as { i: number; position: number };
    const cur = occurrences[j] as { i: number; position: number };
    if (prev.i === cur.i) continue;
    const d = Math.max(1, cur.position - prev.position);
    acc[cur.i] = (acc[cur.i] as number) + (terms[prev.i]?.idf ?? 0) / (d * d);
    acc[prev.i] = (acc[prev.i] as number) + (terms[cur.i]?.idf ?? 0) / (d * d);
  }
  let bonus = 0;
  terms.forEach(
    (t, i) =>
      (bonus +=
        t.weight * proximityScore(acc[i] as number, t.idf, doc.tokens.length, avgdl, { k1, b })),
  );
  return bonus;
}

/** The top k of `docs` for the query, by brute force over all documents. */
export function bruteForceSearch(
  docs: Iterable<StoredDocument>,
  query: readonly QueryTerm[],
  k: number,
  options: ModelOptions = {},
): ScoredHit[] {
  const scanned = [...docs].map(scan);
  const docCount = scanned.length;
  const totalLength = scanned.reduce((sum, d) => sum + d.tokens.length, 0);
  const avgdl = docCount > 0 ? totalLength / docCount : 0;
  const scoring = options.scoring ?? 'bm25';
  const k1 = options.k1 ?? DEFAULT_BM25.k1;
  const b = options.b ?? DEFAULT_BM25.b;
  const terms = query.flatMap(({ term, weight }) => {
    const df = scanned.filter((d) => d.tf.has(term)).length;
    if (df === 0) return [];
    return [
      { term, weight, idf: scoring === 'bm25' ? bm25Idf(docCount, df) : tfidfIdf(docCount, df) },
    ];
  });
  const hits: ScoredHit[] = [];
  for (const doc of scanned) {
    let score = 0;
    let matched = 0;
    for (const { term, weight, idf } of terms) {
      const tf = doc.tf.get(term) ?? 0;
      if (tf === 0) continue;
      matched += 1;
      const tfPart =
        scoring === 'bm25'
          ? bm25TermFrequency(tf, doc.tokens.length, avgdl, { k1, b })
          : 1 + Math.log(tf);
      score = score + weight * idf * tfPart;
    }
    if (matched === 0) continue;
    const proximity =
      options.proximity !== false && scoring === 'bm25' && terms.length > 1 && matched > 1;
    hits.push({
      doc_id: doc.doc.doc_id,
      score: proximity ? score + proximityOf(doc, terms, avgdl, k1, b) : score,
    });
  }
  return hits.sort(compareHits).slice(0, k);
}
