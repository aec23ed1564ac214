/**
 * The statistics of the documents a node is *primary* for, kept exactly in step with its index.
 *
 * A document's primary is its first owner by rendezvous placement over the live ids a
 * coordinator sends with a query (docs/search-ranking.md, "Replicas must not be counted
 * twice"). For the live set in use, this keeps the primaries' count and total length, and the
 * df of every term asked about so far, and updates them on every document the index gains or
 * loses, in the same synchronous step as the postings change (`InvertedIndex.observeDocuments`).
 * So a coordinator's statistics request costs a lookup per term, also right after a write; a
 * term first asked about costs one pass over its postings; a new live set costs one pass over
 * the documents. The figures are always those of the index as it is at the moment of the call.
 */
import { placeDocument } from '../balancer/index.js';
import type { InvertedIndex } from '../index/index.js';
import type { WireStatsType } from './schemas.js';

/** A canonical key of a set of live ids. */
export function liveKey(live: readonly number[]): string {
  return [...new Set(live)].sort((a, b) => a - b).join(',');
}

/** Primary-document figures of one node's index, for one live set at a time. */
export class PrimaryStats {
  private key: string | undefined;
  private sortedLive: number[] = [];
  private readonly primary = new Map<string, boolean>();
  private docCount = 0;
  private totalLength = 0;
  /** Term id -> primary df, valid where `known` is 1. */
  private df = new Int32Array(0);
  private known = new Uint8Array(0);
  /** Internal document number -> 1 for a held primary (`SearchOptions.mask`). */
  private primaryMask = new Uint8Array(1024);
  private readonly isPrimaryFn = (docId: string): boolean => this.isPrimary(docId);

  constructor(
    private readonly self: number,
    private readonly index: InvertedIndex,
  ) {
    index.observeDocuments((docId, docNumber, length, termIds, sign) => {
      if (this.key === undefined) return;
      const primary = sign === 1 && this.isPrimary(docId);
      if (sign === -1 && this.primaryMask[docNumber] !== 1) return;
      this.markDocument(docNumber, primary);
      if (sign === 1 && !primary) return;
      this.docCount += sign;
      this.totalLength += sign * length;
      for (const id of termIds) if (this.known[id] === 1) this.df[id] = (this.df[id] ?? 0) + sign;
    });
  }

  /** Whether this node is the primary of `docId` among `live`. */
  filter(live: readonly number[]): (docId: string) => boolean {
    this.use(live);
    return this.isPrimaryFn;
  }

  /** The primaries among `live` by internal document number (read only; `SearchOptions.mask`). */
  mask(live: readonly number[]): Uint8Array {
    this.use(live);
    return this.primaryMask;
  }

  /** N, total length and the df of `terms` (zeros left out) over the primaries among `live`. */
  stats(terms: readonly string[], live: readonly number[]): WireStatsType {
    this.use(live);
    const df: Record<string, number> = Object.create(null) as Record<string, number>;
    for (const term of terms) {
      const count = this.termDf(term);
      if (count > 0) df[term] = count;
    }
    return { doc_count: this.docCount, total_length: this.totalLength, df };
  }

  /** The primaries' count and total length among `live`. */
  figures(live: readonly number[]): { docCount: number; totalLength: number } {
    this.use(live);
    return { docCount: this.docCount, totalLength: this.totalLength };
  }

  private termDf(term: string): number {
    const id = this.index.termIdOf(term);
    if (id === undefined) return 0;
    if (id >= this.known.length) this.growTerms();
    if (this.known[id] !== 1) {
      this.df[id] = this.index.countPostings(id, this.primaryMask);
      this.known[id] = 1;
    }
    return this.df[id] ?? 0;
  }

  private growTerms(): void {
    const size = Math.max(1024, this.index.termIdLimit * 2);
    const df = new Int32Array(size);
    df.set(this.df);
    const known = new Uint8Array(size);
    known.set(this.known);
    this.df = df;
    this.known = known;
  }

  private isPrimary(docId: string): boolean {
    let answer = this.primary.get(docId);
    if (answer === undefined) {
      answer =
        this.sortedLive.length > 0 && placeDocument(docId, this.sortedLive, 1)[0] === this.self;
      if (this.primary.size > 2 * this.index.docCount + 1024) this.primary.clear();
      this.primary.set(docId, answer);
    }
    return answer;
  }

  /** Switches to the live set `live` (recounting the primaries when it changed). */
  private use(live: readonly number[]): void {
    const key = liveKey(live);
    if (key === this.key) return;
    this.key = key;
    this.sortedLive = key === '' ? [] : key.split(',').map(Number);
    this.primary.clear();
    this.known.fill(0);
    this.docCount = 0;
    this.totalLength = 0;
    this.primaryMask = new Uint8Array(Math.max(1024, this.index.docNumberLimit * 2));
    this.index.forEachDocument((docId, docNumber, length) => {
      if (!this.isPrimary(docId)) return;
      this.primaryMask[docNumber] = 1;
      this.docCount += 1;
      this.totalLength += length;
    });
  }

  private markDocument(docNumber: number, primary: boolean): void {
    if (docNumber >= this.primaryMask.length) {
      const mask = new Uint8Array(Math.max(1024, docNumber * 2));
      mask.set(this.primaryMask);
      this.primaryMask = mask;
    }
    this.primaryMask[docNumber] = primary ? 1 : 0;
  }
}
