/**
 * What one search node does with its own documents: the operations the other nodes call
 * (statistics, local search, term vectors, "which of these do you hold?", durable adds and
 * deletes). Both the `/internal/*` routes and the route payloads of `POST /route` end here.
 *
 * Replicas and the global statistics (docs/search-ranking.md, point 3): every document lives on
 * k nodes, but only its *primary* — the first owner by rendezvous placement over the live ids the
 * coordinator sends with the query — counts it in the statistics and scores it. So each document
 * is counted and returned once, and the cluster ranks exactly as one index would.
 */
import { placeDocument } from '../balancer/index.js';
import {
  termVectorsOf,
  type IndexChange,
  type IndexStore,
  type InvertedIndex,
  type LocalStats,
  type QueryTerm,
  type SearchOptions,
  type StoredDocument,
} from '../index/index.js';
import type { WireHitType, WireStatsType } from './schemas.js';

/** A local search request (the body of `/internal/search`, parsed). */
export interface LocalSearchRequest {
  readonly query: readonly QueryTerm[];
  readonly stats: WireStatsType;
  readonly k: number;
  readonly options: Omit<SearchOptions, 'filter'>;
  readonly live: readonly number[];
}

/** A hit's display fields: its metadata and, when asked, a highlighted snippet. */
export interface HitDetails {
  readonly metadata: Record<string, unknown>;
  readonly snippet?: string;
}

/** What the node needs of its durable store (an `IndexStore`; tests may pass a plain index). */
export type DocumentStore = Pick<IndexStore, 'index' | 'lsn' | 'addMany' | 'delete'>;

/** The node's figures, all documents and primaries only. */
export interface NodeFigures {
  readonly docCount: number;
  readonly termCount: number;
  readonly totalLength: number;
  readonly primaryDocCount: number;
  readonly primaryTotalLength: number;
}

/** Remembers which held documents this node is primary for, for one live set at a time. */
/** A canonical key of a set of live ids. */
function liveKey(live: readonly number[]): string {
  return [...new Set(live)].sort((a, b) => a - b).join(',');
}

class PrimaryCache {
  private key = '';
  private readonly primary = new Map<string, boolean>();

  constructor(private readonly self: number) {}

  filter(live: readonly number[], heldCount: number): (docId: string) => boolean {
    const sorted = [...new Set(live)].sort((a, b) => a - b);
    const key = sorted.join(',');
    if (key !== this.key || this.primary.size > 2 * heldCount + 1024) {
      this.key = key;
      this.primary.clear();
    }
    return (docId) => {
      let answer = this.primary.get(docId);
      if (answer === undefined) {
        answer = sorted.length > 0 && placeDocument(docId, sorted, 1)[0] === this.self;
        this.primary.set(docId, answer);
      }
      return answer;
    };
  }
}

/** The local side of a search node over its durable index. */
export class LocalNode {
  private readonly primaries: PrimaryCache;
  private readonly listeners: ((changes: readonly IndexChange[]) => void)[] = [];
  /** Grows with every change of the index (keys the statistics cache). */
  private version = 0;
  private statsCache: { key: string; stats: LocalStats } | undefined;

  constructor(
    readonly self: number,
    private readonly store: DocumentStore,
  ) {
    this.primaries = new PrimaryCache(self);
  }

  /** The in-memory index (read only; change it through this class). */
  get index(): InvertedIndex {
    return this.store.index;
  }

  /** The log sequence number of the last durable change (grows across restarts). */
  get lsn(): number {
    return this.store.lsn;
  }

  /** Calls `listener` with the term changes of every durable add or delete. */
  onChange(listener: (changes: readonly IndexChange[]) => void): void {
    this.listeners.push(listener);
  }

  /** Whether this node is the primary of `docId` among `live`. */
  primaryFilter(live: readonly number[]): (docId: string) => boolean {
    return this.primaries.filter(live, this.index.docCount);
  }

  /**
   * Statistics of the documents this node is primary for, for `terms`. The primaries' figures
   * and the df of every term are computed once per live set and index version (one pass over
   * the postings), so a query costs a lookup per term, not a pass over the documents.
   */
  stats(terms: readonly string[], live: readonly number[]): WireStatsType {
    const all = this.primaryStats(live);
    const df: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const term of terms) {
      const count = Object.hasOwn(all.df, term) ? (all.df[term] ?? 0) : 0;
      if (count > 0) df[term] = count;
    }
    return { doc_count: all.docCount, total_length: all.totalLength, df };
  }

  private primaryStats(live: readonly number[]): LocalStats {
    const key = `${liveKey(live)}#${this.version}`;
    if (this.statsCache?.key !== key) {
      this.statsCache = { key, stats: this.index.localStats(undefined, this.primaryFilter(live)) };
    }
    return this.statsCache.stats;
  }

  /** The best `k` of this node's primary documents under the given (global) statistics. */
  search(request: LocalSearchRequest): WireHitType[] {
    const stats = {
      docCount: request.stats.doc_count,
      totalLength: request.stats.total_length,
      df: request.stats.df,
    };
    return this.index.searchLocal(request.query, stats, request.k, {
      ...request.options,
      filter: this.primaryFilter(request.live),
    });
  }

  /** Metadata (and snippets highlighting `terms`) of the held documents among `docIds`. */
  details(
    docIds: readonly string[],
    terms: readonly string[],
    snippets: boolean,
  ): Record<string, HitDetails> {
    const details: Record<string, HitDetails> = Object.create(null) as Record<string, HitDetails>;
    for (const docId of docIds) {
      const doc = this.index.get(docId);
      if (doc === undefined) continue;
      details[docId] = snippets
        ? { metadata: doc.metadata, snippet: this.index.snippet(docId, terms) ?? '' }
        : { metadata: doc.metadata };
    }
    return details;
  }

  /** Term frequencies of the held documents among `docIds` (for RM3 feedback). */
  termVectors(docIds: readonly string[]): Record<string, Record<string, number>> {
    return termVectorsOf(this.index, docIds);
  }

  /** The ids among `docIds` this node does not hold. */
  missing(docIds: readonly string[]): string[] {
    return docIds.filter((docId) => !this.index.has(docId));
  }

  /** A held document. */
  get(docId: string): StoredDocument | undefined {
    return this.index.get(docId);
  }

  /** Adds documents durably (one group commit); resolves once they are on disk and indexed. */
  async add(docs: readonly StoredDocument[]): Promise<number> {
    if (docs.length === 0) return 0;
    const changes = await this.store.addMany(docs);
    this.emit(changes);
    return docs.length;
  }

  /** Deletes a document durably; false if it was not held. */
  async delete(docId: string): Promise<boolean> {
    if (!this.index.has(docId)) return false;
    const change = await this.store.delete(docId);
    if (change === undefined) return false;
    this.emit([change]);
    return true;
  }

  /** Document counts and lengths, all held and primaries among `live`. */
  figures(live: readonly number[]): NodeFigures {
    const primary = this.primaryStats(live);
    return {
      docCount: this.index.docCount,
      termCount: this.index.termCount,
      totalLength: this.index.totalLength,
      primaryDocCount: primary.docCount,
      primaryTotalLength: primary.totalLength,
    };
  }

  /** term -> local df of every term this node holds (a FULL report to the balancer). */
  allTermDfs(): Record<string, number> {
    return this.index.localStats().df;
  }

  private emit(changes: readonly IndexChange[]): void {
    this.version += 1;
    for (const listener of this.listeners) listener(changes);
  }
}
