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
import { randomUUID } from 'node:crypto';
import {
  termVectorsOf,
  type IndexChange,
  type IndexStore,
  type InvertedIndex,
  type QueryTerm,
  type SearchOptions,
  type StoredDocument,
} from '../index/index.js';
import { PrimaryStats } from './primary-stats.js';
import type { WireHitType, WireStatsType } from './schemas.js';

/** A local search request (the body of `/internal/search`, parsed). */
export interface LocalSearchRequest {
  readonly query: readonly QueryTerm[];
  readonly stats: WireStatsType;
  readonly k: number;
  readonly options: Omit<SearchOptions, 'filter'>;
  readonly live: readonly number[];
  /** Term vectors of this many of the best hits are returned too. */
  readonly vectors?: number;
  /** Metadata (and snippets highlighting `terms`) of this many of the best hits are returned too. */
  readonly details?: {
    readonly terms: readonly string[];
    readonly snippets: boolean;
    readonly hits: number;
  };
}

/** A hit's display fields: its metadata and, when asked, a highlighted snippet. */
export interface HitDetails {
  readonly metadata: Record<string, unknown>;
  readonly snippet?: string;
}

/** A node's answer to a local search. */
export interface RemoteSearchReply {
  readonly hits: WireHitType[];
  /** The node's index version when it scored: its incarnation and log sequence number. */
  readonly version: string;
  /** The node's own statistics for the query terms, taken in the step that scored the hits. */
  readonly stats: WireStatsType;
  readonly vectors?: Record<string, Record<string, number>>;
  readonly details?: Record<string, HitDetails>;
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

/** The local side of a search node over its durable index. */
export class LocalNode {
  private readonly primaries: PrimaryStats;
  private readonly listeners: ((changes: readonly IndexChange[]) => void)[] = [];

  /**
   * `incarnation` tells this process's index apart from any other one with the same LSN (a
   * wiped data dir restarts the LSN); by default a random UUID.
   */
  constructor(
    readonly self: number,
    private readonly store: DocumentStore,
    private readonly incarnation: string = randomUUID(),
  ) {
    this.primaries = new PrimaryStats(self, store.index);
  }

  /** The version of the index: it changes with every durable change, and across restarts. */
  get version(): string {
    return `${this.incarnation}:${this.store.lsn}`;
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
    return this.primaries.filter(live);
  }

  /**
   * Statistics of the documents this node is primary for, for `terms`: kept in step with the
   * index (primary-stats.ts), so this costs a lookup per term.
   */
  stats(terms: readonly string[], live: readonly number[]): WireStatsType {
    return this.primaries.stats(terms, live);
  }

  /**
   * The best `k` of this node's primary documents under the given (global) statistics, with
   * this node's own statistics for the query terms taken in the same step (the coordinator
   * checks its statistics against their sum), and what else was asked for.
   */
  search(request: LocalSearchRequest): RemoteSearchReply {
    const stats = {
      docCount: request.stats.doc_count,
      totalLength: request.stats.total_length,
      df: request.stats.df,
    };
    const hits = this.index.searchLocal(request.query, stats, request.k, {
      ...request.options,
      mask: this.primaries.mask(request.live),
    });
    const own = this.stats(
      request.query.map((term) => term.term),
      request.live,
    );
    const ids = hits.map((hit) => hit.doc_id);
    return {
      hits,
      version: this.version,
      stats: own,
      ...(request.vectors === undefined || request.vectors <= 0
        ? {}
        : { vectors: this.termVectors(ids.slice(0, request.vectors)) }),
      ...(request.details === undefined
        ? {}
        : {
            details: this.details(
              ids.slice(0, request.details.hits),
              request.details.terms,
              request.details.snippets,
            ),
          }),
    };
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
    const primary = this.primaries.figures(live);
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
    for (const listener of this.listeners) listener(changes);
  }
}
