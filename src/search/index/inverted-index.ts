import { languageOf, scanWords, wordTerms, type Language, type QueryTerm } from './analyzer.js';
import {
  DEFAULT_BM25,
  bm25Idf,
  bm25TermFrequency,
  tfidfIdf,
  type Bm25Params,
  type ScoringName,
} from './scoring.js';
import {
  kthBestScore,
  proximityBonus,
  proximityBoundByMatched,
  type PreparedTerm,
} from './proximity.js';
import { makeSnippet, type SnippetOptions } from './snippet.js';
import { avgDocLength, dfOf, type GlobalStats, type LocalStats } from './stats.js';
import { TopK, type ScoredHit } from './top-k.js';

/**
 * The local inverted index of a search node (the seed's `término -> {doc_id: score}`, kept as
 * term -> postings of (document, term frequency) so that scores can use global statistics).
 *
 * Documents get dense internal numbers in insertion order; every postings list is sorted by
 * them, so deleting is a binary search and a splice. Each document also keeps its term
 * sequence with word positions (a forward index), used for deletion, proximity and feedback.
 */

/** A document as the seed's data model has it. */
export interface StoredDocument {
  doc_id: string;
  content: string;
  metadata: Record<string, unknown>;
}

/** Which terms a change made appear on, or vanish from, this index (for the balancer). */
export interface IndexChange {
  /** Terms whose local document frequency went from 0 to 1. */
  termsAdded: string[];
  /** Terms whose local document frequency went to 0. */
  termsRemoved: string[];
}

/** Options of a local search; every field has the default stated. */
export interface SearchOptions {
  /** Ranking function. Default 'bm25'. */
  scoring?: ScoringName;
  /** BM25 k1. Default 1.2. */
  k1?: number;
  /** BM25 b. Default 0.75. */
  b?: number;
  /** Add the BM25TP term-proximity score (BM25 only). Default true. */
  proximity?: boolean;
  /** Only documents this accepts are scored (e.g. the ones a node is primary for). */
  filter?: (docId: string) => boolean;
}

interface DocSlot {
  readonly doc: StoredDocument;
  readonly language: Language;
  /** Term ids of the document's tokens, in order. Its length is the document length. */
  readonly termIds: Int32Array;
  /** Word position of each token (stop words leave gaps). */
  readonly positions: Int32Array;
}

interface Postings {
  /** Internal document numbers, ascending. */
  docs: number[];
  /** Term frequency in each of those documents. */
  tfs: number[];
}

interface Candidate {
  slot: DocSlot;
  /** BM25 or TF-IDF score before any proximity part. */
  score: number;
  /** Number of query terms the document contains. */
  matched: number;
}

/** An in-memory inverted index with BM25 / TF-IDF scoring against supplied statistics. */
export class InvertedIndex {
  private readonly slots: (DocSlot | undefined)[] = [];
  private readonly slotByDocId = new Map<string, number>();
  private readonly termIds = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly postings: Postings[] = [];
  private liveTerms = 0;
  private lengthSum = 0;
  private scratchScores = new Float64Array(0);
  private scratchHits = new Uint16Array(0);
  /** Term id -> count in the document being inserted; all zero between inserts. */
  private scratchCounts = new Int32Array(0);
  private readonly wordIdCache: Record<Language, Map<string, readonly number[]>> = {
    en: new Map(),
    es: new Map(),
  };
  /** Term id -> 1 + index in the current query (0: not in it); all zero between queries. */
  private scratchQueryIndex = new Int32Array(0);

  /** Number of documents held. */
  get docCount(): number {
    return this.slotByDocId.size;
  }

  /** Number of distinct terms with at least one posting. */
  get termCount(): number {
    return this.liveTerms;
  }

  /** Sum of the documents' lengths in terms. */
  get totalLength(): number {
    return this.lengthSum;
  }

  /** Whether a document with this id is held. */
  has(docId: string): boolean {
    return this.slotByDocId.has(docId);
  }

  /** The stored document, if held. */
  get(docId: string): StoredDocument | undefined {
    const slot = this.slotByDocId.get(docId);
    return slot === undefined ? undefined : this.slots[slot]?.doc;
  }

  /** The stored documents, in insertion order. */
  *documents(): IterableIterator<StoredDocument> {
    for (const slot of this.slots) if (slot !== undefined) yield slot.doc;
  }

  /** The analysis language of a held document. */
  languageOf(docId: string): Language | undefined {
    const slot = this.slotByDocId.get(docId);
    return slot === undefined ? undefined : this.slots[slot]?.language;
  }

  /** Add a document, replacing any document with the same id. */
  add(doc: StoredDocument): IndexChange {
    const removed = this.removeSlot(doc.doc_id);
    const added = this.insert(doc);
    return settleChange(added, removed);
  }

  /** Delete a document; `undefined` if it was not held. */
  delete(docId: string): IndexChange | undefined {
    if (!this.slotByDocId.has(docId)) return undefined;
    return { termsAdded: [], termsRemoved: this.removeSlot(docId) };
  }

  /** Local document frequency of a term. */
  df(term: string): number {
    const id = this.termIds.get(term);
    return id === undefined ? 0 : (this.postings[id]?.docs.length ?? 0);
  }

  /**
   * Local statistics: document count, total length and df of the given terms (of every term
   * when none are given). With `filter`, only the documents it accepts are counted.
   */
  localStats(terms?: Iterable<string>, filter?: (docId: string) => boolean): LocalStats {
    const df: Record<string, number> = Object.create(null) as Record<string, number>;
    const wanted = terms === undefined ? this.terms : [...new Set(terms)];
    if (filter === undefined) {
      for (const term of wanted) {
        const count = this.df(term);
        if (count > 0) df[term] = count;
      }
      return { docCount: this.docCount, totalLength: this.lengthSum, df };
    }
    return this.filteredStats(wanted, filter, df);
  }

  /**
   * Score this index's documents for the query with the supplied (global) statistics and
   * return the best k, ordered by score descending then doc_id ascending. Query terms are
   * added in the order given, so equal inputs give bit-identical scores on any node.
   */
  searchLocal(
    query: readonly QueryTerm[],
    stats: GlobalStats,
    k: number,
    options: SearchOptions = {},
  ): ScoredHit[] {
    const params: Bm25Params = {
      k1: options.k1 ?? DEFAULT_BM25.k1,
      b: options.b ?? DEFAULT_BM25.b,
    };
    const scoring = options.scoring ?? 'bm25';
    const prepared = this.prepare(query, stats, scoring);
    if (prepared.length === 0 || k === 0) return [];
    const candidates = this.collect(
      this.accumulate(prepared, stats, scoring, params),
      options.filter,
    );
    const top = new TopK(k);
    if (options.proximity !== false && scoring === 'bm25' && prepared.length > 1) {
      this.offerWithProximity(candidates, prepared, avgDocLength(stats), params, top);
    } else {
      for (const candidate of candidates)
        top.offer({ doc_id: candidate.slot.doc.doc_id, score: candidate.score });
    }
    return top.sorted();
  }

  /**
   * Add the BM25TP proximity part. Its value for a document matching m query terms is at most
   * the sum of the m largest per-term caps weight * min(1, idf) * (k1 + 1), and is 0 when
   * m < 2. A document whose BM25 plus that bound stays below the k-th best BM25 score cannot
   * enter the top k (those k documents score at least their BM25), so its proximity is never
   * computed. Scores are the same as without the cut; only work is saved.
   */
  private offerWithProximity(
    candidates: readonly Candidate[],
    prepared: readonly PreparedTerm[],
    avgdl: number,
    params: Bm25Params,
    top: TopK,
  ): void {
    const boundByMatched = proximityBoundByMatched(prepared, params);
    const threshold = kthBestScore(
      candidates.map((candidate) => candidate.score),
      top.k,
    );
    if (this.scratchQueryIndex.length < this.terms.length)
      this.scratchQueryIndex = new Int32Array(this.terms.length * 2);
    const queryIndex = this.scratchQueryIndex;
    prepared.forEach((term, i) => (queryIndex[term.termId] = i + 1));
    for (const { slot, score, matched } of candidates) {
      const bound = boundByMatched[Math.min(matched, prepared.length)] ?? 0;
      if (score + bound < threshold) continue;
      const bonus =
        matched > 1
          ? proximityBonus(slot.termIds, slot.positions, prepared, queryIndex, avgdl, params)
          : 0;
      top.offer({ doc_id: slot.doc.doc_id, score: score + bonus });
    }
    for (const term of prepared) queryIndex[term.termId] = 0;
  }

  /** Read and clear the scratch arrays of the touched slots, keeping those the filter accepts. */
  private collect(
    touched: readonly number[],
    filter: ((docId: string) => boolean) | undefined,
  ): Candidate[] {
    const candidates: Candidate[] = [];
    for (const slotNumber of touched) {
      const slot = this.slots[slotNumber] as DocSlot;
      const score = this.scratchScores[slotNumber] ?? 0;
      const matched = this.scratchHits[slotNumber] ?? 0;
      this.scratchScores[slotNumber] = 0;
      this.scratchHits[slotNumber] = 0;
      if (filter === undefined || filter(slot.doc.doc_id))
        candidates.push({ slot, score, matched });
    }
    return candidates;
  }

  /** A highlighted snippet of a held document for the query terms (see `makeSnippet`). */
  snippet(
    docId: string,
    queryTerms: Iterable<string>,
    options: Omit<SnippetOptions, 'language'> = {},
  ): string | undefined {
    const slotNumber = this.slotByDocId.get(docId);
    const slot = slotNumber === undefined ? undefined : this.slots[slotNumber];
    if (slot === undefined) return undefined;
    return makeSnippet(slot.doc.content, queryTerms, { ...options, language: slot.language });
  }

  /** Term frequencies of a held document (its term vector), for pseudo-relevance feedback. */
  termVector(docId: string): Map<string, number> | undefined {
    const slotNumber = this.slotByDocId.get(docId);
    const slot = slotNumber === undefined ? undefined : this.slots[slotNumber];
    if (slot === undefined) return undefined;
    const vector = new Map<string, number>();
    for (const id of slot.termIds) {
      const term = this.terms[id] as string;
      vector.set(term, (vector.get(term) ?? 0) + 1);
    }
    return vector;
  }

  private prepare(
    query: readonly QueryTerm[],
    stats: GlobalStats,
    scoring: ScoringName,
  ): PreparedTerm[] {
    const prepared: PreparedTerm[] = [];
    for (const { term, weight } of query) {
      const termId = this.termIds.get(term);
      if (termId === undefined || (this.postings[termId]?.docs.length ?? 0) === 0) continue;
      // Statistics that miss a term this node holds are stale; count at least this node's df.
      const df = Math.max(dfOf(stats, term), this.df(term));
      const docCount = Math.max(stats.docCount, df);
      const idf = scoring === 'bm25' ? bm25Idf(docCount, df) : tfidfIdf(docCount, df);
      prepared.push({ termId, weight, idf });
    }
    return prepared;
  }

  /** Term-at-a-time accumulation into the scratch arrays; returns the slots touched. */
  private accumulate(
    prepared: readonly PreparedTerm[],
    stats: GlobalStats,
    scoring: ScoringName,
    params: Bm25Params,
  ): number[] {
    this.ensureScratch();
    const scores = this.scratchScores;
    const hits = this.scratchHits;
    const avgdl = avgDocLength(stats);
    const touched: number[] = [];
    for (const { termId, weight, idf } of prepared) {
      const { docs, tfs } = this.postings[termId] as Postings;
      for (let i = 0; i < docs.length; i += 1) {
        const slotNumber = docs[i] as number;
        const tf = tfs[i] as number;
        const length = (this.slots[slotNumber] as DocSlot).termIds.length;
        const tfPart =
          scoring === 'bm25' ? bm25TermFrequency(tf, length, avgdl, params) : 1 + Math.log(tf);
        if (hits[slotNumber] === 0) touched.push(slotNumber);
        hits[slotNumber] = (hits[slotNumber] ?? 0) + 1;
        scores[slotNumber] = (scores[slotNumber] ?? 0) + weight * idf * tfPart;
      }
    }
    return touched;
  }

  private ensureScratch(): void {
    if (this.scratchScores.length >= this.slots.length) return;
    const size = Math.max(1024, this.slots.length * 2);
    this.scratchScores = new Float64Array(size);
    this.scratchHits = new Uint16Array(size);
  }

  private insert(doc: StoredDocument): string[] {
    const language = languageOf(doc.metadata);
    const { termIds, positions } = this.tokenize(doc.content, language);
    const slotNumber = this.slots.length;
    this.slots.push({ doc, language, termIds, positions });
    this.slotByDocId.set(doc.doc_id, slotNumber);
    this.lengthSum += termIds.length;
    if (this.scratchCounts.length < this.terms.length)
      this.scratchCounts = new Int32Array(this.terms.length * 2);
    const counts = this.scratchCounts;
    const distinct: number[] = [];
    for (const id of termIds) {
      if (counts[id] === 0) distinct.push(id);
      counts[id] = (counts[id] ?? 0) + 1;
    }
    const added: string[] = [];
    for (const id of distinct) {
      const list = this.postings[id] as Postings;
      if (list.docs.length === 0) {
        this.liveTerms += 1;
        added.push(this.terms[id] as string);
      }
      list.docs.push(slotNumber);
      list.tfs.push(counts[id] ?? 0);
      counts[id] = 0;
    }
    return added;
  }

  /** The term ids and word positions of a text, through the per-index word cache. */
  private tokenize(
    text: string,
    language: Language,
  ): { termIds: Int32Array; positions: Int32Array } {
    const ids: number[] = [];
    const positions: number[] = [];
    let position = 0;
    scanWords(text, (start, end) => {
      for (const id of this.idsOfWord(text.slice(start, end), language)) {
        ids.push(id);
        positions.push(position);
      }
      position += 1;
    });
    return { termIds: Int32Array.from(ids), positions: Int32Array.from(positions) };
  }

  /**
   * The term ids of a word as it appears in text: one map lookup per word once the word has
   * been seen (analysis and the term dictionary in one step). Bounded; cleared when full.
   */
  private idsOfWord(word: string, language: Language): readonly number[] {
    const cache = this.wordIdCache[language];
    let ids = cache.get(word);
    if (ids === undefined) {
      ids = wordTerms(word, language).map((term) => this.termId(term));
      if (cache.size >= WORD_ID_CACHE_MAX) cache.clear();
      cache.set(word, ids);
    }
    return ids;
  }

  /** Remove a document's postings; returns the terms left with no posting. */
  private removeSlot(docId: string): string[] {
    const slotNumber = this.slotByDocId.get(docId);
    if (slotNumber === undefined) return [];
    const slot = this.slots[slotNumber] as DocSlot;
    const removed: string[] = [];
    for (const id of new Set(slot.termIds)) {
      const list = this.postings[id] as Postings;
      const at = lowerBound(list.docs, slotNumber);
      list.docs.splice(at, 1);
      list.tfs.splice(at, 1);
      if (list.docs.length === 0) {
        this.liveTerms -= 1;
        removed.push(this.terms[id] as string);
      }
    }
    this.slots[slotNumber] = undefined;
    this.slotByDocId.delete(docId);
    this.lengthSum -= slot.termIds.length;
    return removed;
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.termIds.set(term, id);
      this.terms.push(term);
      this.postings.push({ docs: [], tfs: [] });
    }
    return id;
  }

  private filteredStats(
    wanted: Iterable<string>,
    filter: (docId: string) => boolean,
    df: Record<string, number>,
  ): LocalStats {
    let docCount = 0;
    let totalLength = 0;
    const accepted = new Uint8Array(this.slots.length);
    this.slots.forEach((slot, i) => {
      if (slot === undefined || !filter(slot.doc.doc_id)) return;
      accepted[i] = 1;
      docCount += 1;
      totalLength += slot.termIds.length;
    });
    for (const term of wanted) {
      const id = this.termIds.get(term);
      if (id === undefined) continue;
      const count = (this.postings[id] as Postings).docs.reduce(
        (sum, slotNumber) => sum + (accepted[slotNumber] ?? 0),
        0,
      );
      if (count > 0) df[term] = count;
    }
    return { docCount, totalLength, df };
  }
}

/** Bound on each per-index word -> term ids cache. */
const WORD_ID_CACHE_MAX = 200_000;

/** Index of the first element >= value in an ascending array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((sorted[mid] as number) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A replacement's net change: a term both removed and re-added did not change. */
function settleChange(added: string[], removed: string[]): IndexChange {
  const addedSet = new Set(added);
  const removedSet = new Set(removed);
  return {
    termsAdded: added.filter((term) => !removedSet.has(term)),
    termsRemoved: removed.filter((term) => !addedSet.has(term)),
  };
}
