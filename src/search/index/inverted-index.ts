import {
  languageOf,
  scanWords,
  wordCharWidth,
  wordTerms,
  type Language,
  type QueryTerm,
} from './analyzer.js';
import {
  DEFAULT_BM25,
  bm25Idf,
  bm25TermFrequency,
  tfidfIdf,
  type Bm25Params,
  type ScoringName,
} from './scoring.js';
import {
  kthLargest,
  proximityBonus,
  proximityBoundByMatched,
  type PreparedTerm,
} from './proximity.js';
import { bestWindow, renderWindow, type SnippetOptions } from './snippet.js';
import { avgDocLength, dfOf, type GlobalStats, type LocalStats } from './stats.js';
import { TopK, type ScoredHit } from './top-k.js';
import { WORD_MISSING, WORD_NO_TERMS, WordTable } from './word-table.js';

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

/**
 * Told of every document the index gains (`sign` 1) or loses (`sign` -1), synchronously, in
 * the step that changes the postings: its id, internal number (see `SearchOptions.mask`),
 * length and distinct term ids. Lets a caller keep figures over a subset of the documents
 * (e.g. a node's primaries) exactly in step.
 */
export type DocumentObserver = (
  docId: string,
  docNumber: number,
  length: number,
  distinctTermIds: readonly number[],
  sign: 1 | -1,
) => void;

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
  /**
   * Only documents whose internal number n has `mask[n] === 1` are scored: the fast form of
   * `filter`, checked before any arithmetic (numbers come from `observeDocuments` and
   * `forEachDocument`). Both may be given.
   */
  mask?: Uint8Array;
}

interface DocSlot {
  readonly doc: StoredDocument;
  readonly language: Language;
  /** Term ids of the document's tokens, in order. Its length is the document length. */
  readonly termIds: Int32Array;
  /** Word position of each token (stop words leave gaps). */
  readonly positions: Int32Array;
  /** Number of words in the content (stop words included). */
  readonly wordCount: number;
}

/**
 * A term's postings, interleaved: [doc, tf, doc, tf, ...] with internal document numbers
 * ascending. One array per term (not two, nor a wrapper object) keeps an insert to about one
 * cache miss per distinct term, which is what indexing is bound by.
 */
type Postings = number[];

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
  /** Term ids and word positions of the document being tokenized. */
  private scratchTokenIds = new Int32Array(1024);
  private scratchTokenPositions = new Int32Array(1024);
  private readonly wordIds: Record<Language, WordTable> = {
    en: new WordTable(WORD_ID_CACHE_MAX),
    es: new WordTable(WORD_ID_CACHE_MAX),
  };
  private observer: DocumentObserver | undefined;
  /** Internal document number -> length in terms (scoring reads it for every posting). */
  private docLengths = new Int32Array(1024);
  /** The candidates of the current search (see `collect`). */
  private candidateSlots = new Int32Array(0);
  private candidateScores = new Float64Array(0);
  private candidateMatched = new Uint16Array(0);
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

  /** Calls `visit` with the id, internal number and length (in terms) of every held document. */
  forEachDocument(visit: (docId: string, docNumber: number, length: number) => void): void {
    this.slots.forEach((slot, number) => {
      if (slot !== undefined) visit(slot.doc.doc_id, number, slot.termIds.length);
    });
  }

  /** One more than the largest internal document number so far. */
  get docNumberLimit(): number {
    return this.slots.length;
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
    return id === undefined ? 0 : (this.postings[id]?.length ?? 0) >> 1;
  }

  /** Sets the one observer of document changes (see `DocumentObserver`); undefined removes it. */
  observeDocuments(observer: DocumentObserver | undefined): void {
    this.observer = observer;
  }

  /** The internal id of a term ever seen (it may have no postings now), else undefined. */
  termIdOf(term: string): number | undefined {
    return this.termIds.get(term);
  }

  /** Number of terms ever seen: every term id is below it. */
  get termIdLimit(): number {
    return this.terms.length;
  }

  /** How many documents holding the term with this id have `mask[number] === 1`. */
  countPostings(termId: number, mask: Uint8Array): number {
    const list = this.postings[termId];
    if (list === undefined) return 0;
    let count = 0;
    for (let i = 0; i < list.length; i += 2) if (mask[list[i] as number] === 1) count += 1;
    return count;
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
    const count = this.collect(
      this.accumulate(prepared, stats, scoring, params, options.mask),
      options.filter,
    );
    const top = new TopK(k);
    if (options.proximity !== false && scoring === 'bm25' && prepared.length > 1) {
      this.offerWithProximity(count, prepared, avgDocLength(stats), params, top);
    } else {
      for (let i = 0; i < count; i += 1) {
        const slot = this.slots[this.candidateSlots[i] as number] as DocSlot;
        offerScored(top, slot.doc.doc_id, this.candidateScores[i] as number);
      }
    }
    return top.sorted();
  }

  /**
   * Add the BM25TP proximity part. Its value for a document matching m query terms is at most
   * the sum of the m largest per-term caps weight * min(1, idf) * (k1 + 1), and is 0 when
   * m < 2. Candidates are taken best BM25 first; once the top k is full, a document whose BM25
   * plus that bound stays below the k-th best final score cannot enter it, and when even the
   * largest bound cannot lift the current candidate, no later one (all have a lower BM25) can
   * either. So proximity is computed for few documents, and the results are exactly those of
   * computing it for all of them.
   */
  private offerWithProximity(
    count: number,
    prepared: readonly PreparedTerm[],
    avgdl: number,
    params: Bm25Params,
    top: TopK,
  ): void {
    const boundByMatched = proximityBoundByMatched(prepared, params);
    const largestBound = boundByMatched[prepared.length] ?? 0;
    const scores = this.candidateScores;
    // The k-th best BM25 is at most the k-th best final score: below it minus the largest
    // bound, a document cannot enter the top k, so only the others are ordered.
    const floor = kthLargest(scores, count, top.k) - largestBound;
    const order: number[] = [];
    for (let i = 0; i < count; i += 1) if ((scores[i] as number) >= floor) order.push(i);
    // A max-heap, not a sort: the loop usually stops after a few candidates.
    heapifyByScore(order, scores);
    if (this.scratchQueryIndex.length < this.terms.length)
      this.scratchQueryIndex = new Int32Array(this.terms.length * 2);
    const queryIndex = this.scratchQueryIndex;
    prepared.forEach((term, i) => (queryIndex[term.termId] = i + 1));
    while (order.length > 0) {
      const i = popBest(order, scores);
      const score = scores[i] as number;
      const matched = this.candidateMatched[i] as number;
      const full = top.size >= top.k;
      if (full && score + largestBound < top.worstScore()) break;
      const bound = boundByMatched[Math.min(matched, prepared.length)] ?? 0;
      if (full && score + bound < top.worstScore()) continue;
      const slot = this.slots[this.candidateSlots[i] as number] as DocSlot;
      const bonus =
        matched > 1
          ? proximityBonus(slot.termIds, slot.positions, prepared, queryIndex, avgdl, params)
          : 0;
      offerScored(top, slot.doc.doc_id, score + bonus);
    }
    for (const term of prepared) queryIndex[term.termId] = 0;
  }

  /**
   * Read and clear the scratch arrays of the touched slots, keeping those the filter accepts
   * as candidates (`candidateSlots`, `candidateScores`, `candidateMatched`); answers how many.
   */
  private collect(
    touched: readonly number[],
    filter: ((docId: string) => boolean) | undefined,
  ): number {
    if (this.candidateSlots.length < touched.length) {
      const size = touched.length * 2;
      this.candidateSlots = new Int32Array(size);
      this.candidateScores = new Float64Array(size);
      this.candidateMatched = new Uint16Array(size);
    }
    let count = 0;
    for (const slotNumber of touched) {
      const score = this.scratchScores[slotNumber] ?? 0;
      const matched = this.scratchHits[slotNumber] ?? 0;
      this.scratchScores[slotNumber] = 0;
      this.scratchHits[slotNumber] = 0;
      if (filter !== undefined && !filter((this.slots[slotNumber] as DocSlot).doc.doc_id)) continue;
      this.candidateSlots[count] = slotNumber;
      this.candidateScores[count] = score;
      this.candidateMatched[count] = matched;
      count += 1;
    }
    return count;
  }

  /**
   * A highlighted snippet of a held document for the query terms: the same text as
   * `makeSnippet(content, terms, {language})`, computed from the document's forward index
   * (term ids and word positions) instead of analyzing its text again.
   */
  snippet(
    docId: string,
    queryTerms: Iterable<string>,
    options: Omit<SnippetOptions, 'language'> = {},
  ): string | undefined {
    const slotNumber = this.slotByDocId.get(docId);
    const slot = slotNumber === undefined ? undefined : this.slots[slotNumber];
    if (slot === undefined) return undefined;
    if (slot.wordCount === 0) return '';
    const wanted = new Set<number>();
    for (const term of queryTerms) {
      const id = this.termIds.get(term);
      if (id !== undefined) wanted.add(id);
    }
    const none: readonly number[] = [];
    const matches: (readonly number[])[] = new Array<readonly number[]>(slot.wordCount).fill(none);
    for (let i = 0; i < slot.termIds.length; i += 1) {
      const id = slot.termIds[i] as number;
      if (!wanted.has(id)) continue;
      const position = slot.positions[i] as number;
      const seen = matches[position] as readonly number[];
      matches[position] = seen === none ? [id] : [...seen, id];
    }
    const { first, last } = bestWindow(matches, Math.max(1, options.windowWords ?? 30));
    const spans: [number, number][] = [];
    let word = 0;
    scanWords(slot.doc.content, (start, end) => {
      if (word >= first) spans.push([start, end]);
      word += 1;
      return word <= last;
    });
    const matched = matches.slice(first, last + 1).map((ids) => ids.length > 0);
    const cutAfter = last < slot.wordCount - 1;
    const window = { spans, matched, cutBefore: first > 0, cutAfter };
    return renderWindow(slot.doc.content, window, options);
  }

  /** Term frequencies of a held document (its term vector), for pseudo-relevance feedback. */
  termVector(docId: string): Map<string, number> | undefined {
    const record = this.termVectorRecord(docId);
    return record === undefined ? undefined : new Map(Object.entries(record));
  }

  /**
   * The term vector as a plain record (for the wire), terms in order of first occurrence:
   * counted in a scratch array by term id, no map.
   */
  termVectorRecord(docId: string): Record<string, number> | undefined {
    const slotNumber = this.slotByDocId.get(docId);
    const slot = slotNumber === undefined ? undefined : this.slots[slotNumber];
    if (slot === undefined) return undefined;
    if (this.scratchCounts.length < this.terms.length)
      this.scratchCounts = new Int32Array(this.terms.length * 2);
    const counts = this.scratchCounts;
    const order: number[] = [];
    for (const id of slot.termIds) {
      if (counts[id] === 0) order.push(id);
      counts[id] = (counts[id] ?? 0) + 1;
    }
    const vector: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const id of order) {
      vector[this.terms[id] as string] = counts[id] ?? 0;
      counts[id] = 0;
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
      if (termId === undefined || (this.postings[termId]?.length ?? 0) === 0) continue;
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
    mask: Uint8Array | undefined,
  ): number[] {
    this.ensureScratch();
    const scores = this.scratchScores;
    const hits = this.scratchHits;
    const lengths = this.docLengths;
    const avgdl = avgDocLength(stats);
    const touched: number[] = [];
    for (const { termId, weight, idf } of prepared) {
      const list = this.postings[termId] as Postings;
      for (let i = 0; i < list.length; i += 2) {
        const slotNumber = list[i] as number;
        if (mask !== undefined && mask[slotNumber] !== 1) continue;
        const tf = list[i + 1] as number;
        const length = lengths[slotNumber] as number;
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
    const { termIds, positions, wordCount } = this.tokenize(doc.content, language);
    const slotNumber = this.slots.length;
    this.slots.push({ doc, language, termIds, positions, wordCount });
    if (slotNumber >= this.docLengths.length) {
      const lengths = new Int32Array(this.docLengths.length * 2);
      lengths.set(this.docLengths);
      this.docLengths = lengths;
    }
    this.docLengths[slotNumber] = termIds.length;
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
      if (list.length === 0) {
        this.liveTerms += 1;
        added.push(this.terms[id] as string);
      }
      list.push(slotNumber, counts[id] ?? 0);
      counts[id] = 0;
    }
    this.observer?.(doc.doc_id, slotNumber, termIds.length, distinct, 1);
    return added;
  }

  /**
   * The term ids and word positions of a text: one scan over its characters, each word looked
   * up in the per-index word table by its offsets (analysis and the term dictionary in one
   * step, no substring, no callback); a word seen for the first time is analyzed once.
   */
  private tokenize(
    text: string,
    language: Language,
  ): { termIds: Int32Array; positions: Int32Array; wordCount: number } {
    const table = this.wordIds[language];
    let count = 0;
    let position = 0;
    let start = -1;
    const length = text.length;
    for (let i = 0; i <= length;) {
      const width = i < length ? wordCharWidth(text, i) : 0;
      if (width > 0) {
        if (start < 0) start = i;
        i += width;
        continue;
      }
      if (start >= 0) {
        let code = table.find(text, start, i);
        if (code === WORD_MISSING) code = this.learnWord(table, text.slice(start, i), language);
        if (count + 4 > this.scratchTokenIds.length) this.growTokenScratch(count + 4);
        if (code >= 0) {
          this.scratchTokenIds[count] = code;
          this.scratchTokenPositions[count] = position;
          count += 1;
        } else if (code !== WORD_NO_TERMS) {
          count = this.appendIds(table.idsOf(code), position, count);
        }
        position += 1;
        start = -1;
      }
      i += i < length && (text.codePointAt(i) as number) > 0xffff ? 2 : 1;
    }
    return {
      termIds: this.scratchTokenIds.slice(0, count),
      positions: this.scratchTokenPositions.slice(0, count),
      wordCount: position,
    };
  }

  /** Appends a word's several term ids at `position`; answers the new token count. */
  private appendIds(ids: readonly number[], position: number, count: number): number {
    if (count + ids.length > this.scratchTokenIds.length) this.growTokenScratch(count + ids.length);
    let at = count;
    for (const id of ids) {
      this.scratchTokenIds[at] = id;
      this.scratchTokenPositions[at] = position;
      at += 1;
    }
    return at;
  }

  private growTokenScratch(needed: number): void {
    const size = Math.max(needed, this.scratchTokenIds.length * 2);
    const ids = new Int32Array(size);
    ids.set(this.scratchTokenIds);
    const positions = new Int32Array(size);
    positions.set(this.scratchTokenPositions);
    this.scratchTokenIds = ids;
    this.scratchTokenPositions = positions;
  }

  /** Analyzes a word seen for the first time and remembers its term ids; answers its code. */
  private learnWord(table: WordTable, word: string, language: Language): number {
    return table.add(
      word,
      wordTerms(word, language).map((term) => this.termId(term)),
    );
  }

  /** Remove a document's postings; returns the terms left with no posting. */
  private removeSlot(docId: string): string[] {
    const slotNumber = this.slotByDocId.get(docId);
    if (slotNumber === undefined) return [];
    const slot = this.slots[slotNumber] as DocSlot;
    const removed: string[] = [];
    const distinct = [...new Set(slot.termIds)];
    for (const id of distinct) {
      const list = this.postings[id] as Postings;
      list.splice(2 * lowerBound(list, slotNumber), 2);
      if (list.length === 0) {
        this.liveTerms -= 1;
        removed.push(this.terms[id] as string);
      }
    }
    this.slots[slotNumber] = undefined;
    this.slotByDocId.delete(docId);
    this.lengthSum -= slot.termIds.length;
    this.observer?.(docId, slotNumber, slot.termIds.length, distinct, -1);
    return removed;
  }

  private termId(term: string): number {
    let id = this.termIds.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.termIds.set(term, id);
      this.terms.push(term);
      this.postings.push([]);
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
      const list = this.postings[id] as Postings;
      let count = 0;
      for (let at = 0; at < list.length; at += 2) count += accepted[list[at] as number] ?? 0;
      if (count > 0) df[term] = count;
    }
    return { docCount, totalLength, df };
  }
}

/** Arranges candidate numbers as a max-heap by their score. */
function heapifyByScore(heap: number[], scores: Float64Array): void {
  for (let at = (heap.length >> 1) - 1; at >= 0; at -= 1) siftDownByScore(heap, scores, at);
}

/** Removes and answers the candidate with the best score. */
function popBest(heap: number[], scores: Float64Array): number {
  const best = heap[0] as number;
  const last = heap.pop() as number;
  if (heap.length > 0) {
    heap[0] = last;
    siftDownByScore(heap, scores, 0);
  }
  return best;
}

function siftDownByScore(heap: number[], scores: Float64Array, start: number): void {
  const item = heap[start] as number;
  const score = scores[item] as number;
  let at = start;
  for (;;) {
    const left = 2 * at + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child =
      right < heap.length &&
      (scores[heap[right] as number] as number) > (scores[heap[left] as number] as number)
        ? right
        : left;
    if ((scores[heap[child] as number] as number) <= score) break;
    heap[at] = heap[child] as number;
    at = child;
  }
  heap[at] = item;
}

/** Offers a hit unless its score is already below the k-th best kept (no allocation then). */
function offerScored(top: TopK, docId: string, score: number): void {
  if (top.size >= top.k && score < top.worstScore()) return;
  top.offer({ doc_id: docId, score });
}

/** Bound on each per-index word -> term ids cache. */
const WORD_ID_CACHE_MAX = 200_000;

/** The pair index of the first document >= value in interleaved postings. */
function lowerBound(list: Postings, value: number): number {
  let low = 0;
  let high = list.length >> 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[2 * mid] as number) < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** A replacement's net change: a term both removed and re-added did not change. */
function settleChange(added: string[], removed: string[]): IndexChange {
  if (removed.length === 0) return { termsAdded: added, termsRemoved: removed };
  const addedSet = new Set(added);
  const removedSet = new Set(removed);
  return {
    termsAdded: added.filter((term) => !removedSet.has(term)),
    termsRemoved: removed.filter((term) => !addedSet.has(term)),
  };
}
