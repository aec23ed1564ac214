/**
 * The DataBalancer of distrisearch-balancer.md ("balancer_core.py"): the global index plus the
 * node registry, on the leader. Nodes report their terms (`updateNodeIndex`) and their figures
 * (`heartbeat`); coordinators ask where terms are (`locateTerms`) and for the global statistics
 * that BM25 needs (`getStats`).
 *
 * Idempotent updates: each node numbers its updates with a seq that only grows (its index log's
 * LSN is a good one); an update whose seq is not above the last applied one is ignored, so
 * retries, duplicates and reordering cannot change the index. A FULL report replaces the node's
 * whole entry; nodes send one when they learn of a new leader.
 *
 * Pure: every operation takes `nowMs`; liveness changes only in `sweep(nowMs)`, which the
 * reading operations run first. No clock, timer or I/O.
 */
import { GlobalIndex, type SearchNodeId } from './global-index.js';
import { LocateCache, type LocateCacheStats } from './locate-cache.js';
import { SearchNodeTable, type NodeChange, type SearchNodeFigures } from './node-table.js';
import {
  restoreInto,
  snapshotOf,
  type BalancerParts,
  type NodeSeqState,
} from './balancer-snapshot.js';
import type { BalancerSnapshot } from './snapshot-format.js';

export interface DataBalancerOptions {
  /** Id of the node that hosts this balancer (the leader), reported in stats and snapshots. */
  readonly nodeId?: SearchNodeId;
  /** Silence after which a node is dead and left out of locate answers (default 30 s). */
  readonly deadAfterMs?: number;
  /** Time a dead node is kept before it and its terms are removed (default 5 min). */
  readonly forgetAfterMs?: number;
  /** Capacity of the locate cache in terms (default 10,000; 0 disables it). */
  readonly cacheSize?: number;
}

/** An index update of one node (the body of `POST /update_index`). */
export interface IndexUpdate {
  readonly nodeId: SearchNodeId;
  /** Grows with every update of this node, across its restarts (use the index log's LSN). */
  readonly seq: number;
  /**
   * term -> the node's current df of the term (absolute, not a delta; 0 is allowed: the node
   * holds the term but does not count it, e.g. only in documents it keeps as a replica).
   * With `full`, the node's whole term set.
   */
  readonly added: Readonly<Record<string, number>>;
  /** Terms the node no longer holds (ignored with `full`). */
  readonly removed?: readonly string[];
  /** A FULL report: `added` replaces everything known about the node. */
  readonly full?: boolean;
  /** The node's base URL; registers or refreshes the node when given. */
  readonly url?: string;
}

/** What an update did. */
export interface UpdateOutcome {
  /** False when the update was a replay (seq not above the last applied). */
  readonly applied: boolean;
  /**
   * True while this balancer has no FULL report from the node (a new leader that has not heard
   * from it): the node should send one.
   */
  readonly fullRequired: boolean;
}

/** A node that holds a term, as locate answers it (the wire shape). */
export interface LocatedNode {
  readonly node_id: SearchNodeId;
  readonly url: string;
  /** The node's df of the term (its primary documents only, as the node reports it). */
  readonly df: number;
}

/** The answer of `locate`: where each term is, and the union of the nodes (OR semantics). */
export interface LocateResult {
  readonly terms: Readonly<Record<string, readonly LocatedNode[]>>;
  readonly nodes: readonly SearchNodeId[];
}

/** Cluster statistics for BM25, summed over the active nodes' heartbeats. */
export interface GlobalStats {
  readonly doc_count: number;
  readonly total_length: number;
  /** total_length / doc_count, 0 for an empty cluster. */
  readonly avg_doc_length: number;
}

/** One node in `getStats().nodes`. */
export interface NodeStats {
  readonly node_id: SearchNodeId;
  readonly url: string | null;
  readonly status: 'active' | 'inactive' | 'unregistered';
  readonly last_heartbeat_ms: number | null;
  readonly doc_count: number;
  readonly term_count: number;
  readonly total_length: number;
  /** Terms of this node in the global index. */
  readonly indexed_terms: number;
  readonly last_seq: number | null;
  readonly full_report: boolean;
}

/** `getStats()`: the seed's shape, plus global BM25 statistics, the cache and the updates. */
export interface BalancerStats extends GlobalStats {
  readonly node_id: SearchNodeId | null;
  readonly total_nodes: number;
  readonly active_nodes: number;
  /** Distinct terms in the global index. */
  readonly total_terms: number;
  readonly global_index: { readonly terms: number; readonly nodes: number };
  readonly node_registry: {
    readonly total_nodes: number;
    readonly active_nodes: number;
    readonly total_documents: number;
    readonly total_terms: number;
  };
  readonly cache: Omit<LocateCacheStats, 'hitRate'> & { readonly hit_rate: number };
  readonly updates: { readonly applied: number; readonly ignored: number };
  readonly nodes: readonly NodeStats[];
}

/** The data balancer of the leader. */
export class DataBalancer {
  private readonly index = new GlobalIndex();
  private readonly nodes: SearchNodeTable;
  private readonly seqs = new Map<SearchNodeId, NodeSeqState>();
  private readonly cache: LocateCache<readonly LocatedNode[]>;
  private appliedUpdates = 0;
  private ignoredUpdates = 0;
  private changes = 0;

  constructor(readonly options: DataBalancerOptions = {}) {
    this.nodes = new SearchNodeTable({
      ...(options.deadAfterMs === undefined ? {} : { deadAfterMs: options.deadAfterMs }),
      ...(options.forgetAfterMs === undefined ? {} : { forgetAfterMs: options.forgetAfterMs }),
    });
    this.cache = new LocateCache(options.cacheSize);
  }

  /** Grows whenever the index or the node set changes; a snapshot is due when it moved. */
  get revision(): number {
    return this.changes;
  }

  /** Registers a node (or refreshes its URL); it is active from `nowMs`. */
  registerNode(nodeId: SearchNodeId, url: string, nowMs: number): void {
    this.sweep(nowMs);
    this.onNodeChange(nodeId, this.nodes.register(nodeId, url, nowMs));
  }

  /** Removes a node, its terms and its seq; answers whether anything was known about it. */
  unregisterNode(nodeId: SearchNodeId): boolean {
    const known = this.nodes.unregister(nodeId);
    return this.forgetNode(nodeId) || known;
  }

  /**
   * A node's heartbeat with its figures (registers an unknown node). `fullRequired` tells the
   * node to send a FULL report (this balancer has none from it).
   */
  heartbeat(
    nodeId: SearchNodeId,
    url: string,
    figures: SearchNodeFigures,
    nowMs: number,
  ): { fullRequired: boolean } {
    this.sweep(nowMs);
    this.onNodeChange(nodeId, this.nodes.heartbeat(nodeId, url, figures, nowMs));
    return { fullRequired: this.seqs.get(nodeId)?.fullReport !== true };
  }

  /** Applies a node's index update unless it is a replay (see the class comment). */
  updateNodeIndex(update: IndexUpdate, nowMs: number): UpdateOutcome {
    this.sweep(nowMs);
    const { nodeId, seq } = update;
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`bad seq ${seq}`);
    const change =
      update.url === undefined
        ? this.nodes.touch(nodeId, nowMs)
        : this.nodes.register(nodeId, update.url, nowMs);
    if (change !== undefined) this.onNodeChange(nodeId, change);
    const state = this.seqs.get(nodeId);
    const full = update.full === true;
    if (!isNewer(state, seq, full)) {
      this.ignoredUpdates += 1;
      return { applied: false, fullRequired: state?.fullReport !== true };
    }
    const changed = full
      ? this.index.replaceNode(nodeId, update.added)
      : this.index.applyUpdate(nodeId, { added: update.added, removed: update.removed ?? [] });
    this.cache.invalidateAll(changed);
    const fullReport = full || state?.fullReport === true;
    this.seqs.set(nodeId, { lastSeq: seq, fullReport });
    this.appliedUpdates += 1;
    this.changes += 1;
    return { applied: true, fullRequired: !fullReport };
  }

  /** Where each term is: the active nodes holding it, by node id (the LRU cache answers first). */
  locateTerms(terms: Iterable<string>, nowMs: number): Record<string, readonly LocatedNode[]> {
    this.sweep(nowMs);
    const entries: [string, readonly LocatedNode[]][] = [];
    for (const term of new Set(terms)) entries.push([term, this.locateOne(term)]);
    return Object.fromEntries(entries);
  }

  /** `locateTerms` plus the union of the nodes holding any of the terms (the HTTP answer). */
  locate(terms: Iterable<string>, nowMs: number): LocateResult {
    const located = this.locateTerms(terms, nowMs);
    const union = new Set<SearchNodeId>();
    for (const list of Object.values(located)) for (const entry of list) union.add(entry.node_id);
    return { terms: located, nodes: [...union].sort((a, b) => a - b) };
  }

  /** The answer for one term computed from the index, bypassing the cache (for tests). */
  locateUncached(term: string): LocatedNode[] {
    const result: LocatedNode[] = [];
    for (const [nodeId, df] of this.index.getNodesForTerm(term)) {
      const url = this.nodes.activeUrl(nodeId);
      if (url !== undefined) result.push(Object.freeze({ node_id: nodeId, url, df }));
    }
    return result.sort((a, b) => a.node_id - b.node_id);
  }

  /** The ids of the active nodes, ascending. */
  activeNodeIds(nowMs: number): SearchNodeId[] {
    this.sweep(nowMs);
    return this.nodes.activeNodes().map((node) => node.nodeId);
  }

  /** doc_count and total_length summed over the active nodes (BM25's N and average length). */
  globalStats(nowMs: number): GlobalStats {
    this.sweep(nowMs);
    let docCount = 0;
    let totalLength = 0;
    for (const node of this.nodes.activeNodes()) {
      docCount += node.docCount;
      totalLength += node.totalLength;
    }
    return {
      doc_count: docCount,
      total_length: totalLength,
      avg_doc_length: docCount === 0 ? 0 : totalLength / docCount,
    };
  }

  /** The seed's statistics plus global BM25 figures, cache counters and per-node detail. */
  getStats(nowMs: number): BalancerStats {
    const global = this.globalStats(nowMs);
    const nodes = this.nodeStats();
    const active = nodes.filter((node) => node.status === 'active');
    const registered = nodes.filter((node) => node.status !== 'unregistered').length;
    const { hitRate, ...cache } = this.cache.stats();
    return {
      node_id: this.options.nodeId ?? null,
      total_nodes: registered,
      active_nodes: active.length,
      total_terms: this.index.termCount,
      ...global,
      global_index: { terms: this.index.termCount, nodes: this.index.nodeIds().length },
      node_registry: {
        total_nodes: registered,
        active_nodes: active.length,
        total_documents: global.doc_count,
        total_terms: active.reduce((sum, node) => sum + node.term_count, 0),
      },
      cache: { ...cache, hit_rate: hitRate },
      updates: { applied: this.appliedUpdates, ignored: this.ignoredUpdates },
      nodes,
    };
  }

  /**
   * Marks silent nodes dead (they leave locate answers) and forgets nodes dead for longer than
   * `forgetAfterMs` (their terms leave the index). The reading operations call it first.
   */
  sweep(nowMs: number): void {
    const { expired, removed } = this.nodes.sweep(nowMs);
    for (const nodeId of expired) this.invalidateNode(nodeId);
    for (const nodeId of removed) this.forgetNode(nodeId);
    if (expired.length > 0) this.changes += 1;
  }

  /** The whole state as a snapshot (see snapshot-format.ts). */
  toSnapshot(nowMs: number): BalancerSnapshot {
    return snapshotOf(this.parts(), this.options.nodeId ?? null, nowMs);
  }

  /**
   * Fills in, from a snapshot, every node this balancer knows nothing about yet; nodes that
   * already registered or reported keep what they said (so a snapshot loaded after the first
   * FULL reports cannot undo them). Nodes in `liveNodeIds` (when given; otherwise those active
   * in the snapshot) start active with a fresh heartbeat. Answers the nodes restored.
   */
  restore(
    snapshot: BalancerSnapshot,
    nowMs: number,
    liveNodeIds?: Iterable<SearchNodeId>,
  ): SearchNodeId[] {
    const restored = restoreInto(this.parts(), snapshot, nowMs, liveNodeIds);
    for (const nodeId of restored) this.invalidateNode(nodeId);
    if (restored.length > 0) this.changes += 1;
    return restored;
  }

  /** Hit and miss counters of the locate cache. */
  cacheStats(): LocateCacheStats {
    return this.cache.stats();
  }

  /** The index, read-only (for tests and tools: mutate only through the balancer). */
  get globalIndex(): Pick<
    GlobalIndex,
    | 'termCount'
    | 'nodeIds'
    | 'nodeTermCount'
    | 'getNodesForTerm'
    | 'getNodesForTerms'
    | 'termsOfNode'
  > {
    return this.index;
  }

  private parts(): BalancerParts {
    return { index: this.index, nodes: this.nodes, seqs: this.seqs };
  }

  private locateOne(term: string): readonly LocatedNode[] {
    const cached = this.cache.get(term);
    if (cached !== undefined) return cached;
    const fresh = Object.freeze(this.locateUncached(term));
    this.cache.set(term, fresh);
    return fresh;
  }

  private nodeStats(): NodeStats[] {
    const ids = new Set<SearchNodeId>([...this.index.nodeIds(), ...this.seqs.keys()]);
    for (const node of this.nodes.all()) ids.add(node.nodeId);
    return [...ids]
      .sort((a, b) => a - b)
      .map((nodeId) => {
        const node = this.nodes.get(nodeId);
        const seq = this.seqs.get(nodeId);
        return {
          node_id: nodeId,
          url: node?.url ?? null,
          status: node?.status ?? 'unregistered',
          last_heartbeat_ms: node?.lastHeartbeatMs ?? null,
          doc_count: node?.docCount ?? 0,
          term_count: node?.termCount ?? 0,
          total_length: node?.totalLength ?? 0,
          indexed_terms: this.index.nodeTermCount(nodeId),
          last_seq: seq?.lastSeq ?? null,
          full_report: seq?.fullReport ?? false,
        };
      });
  }

  private onNodeChange(nodeId: SearchNodeId, change: NodeChange): void {
    if (change.created) this.changes += 1;
    if (change.becameActive || change.urlChanged) {
      this.invalidateNode(nodeId);
      this.changes += 1;
    }
  }

  /** Drops the cached answers that mention, or should mention, `nodeId`. */
  private invalidateNode(nodeId: SearchNodeId): void {
    const terms = this.index.nodeTerms(nodeId);
    if (terms.size <= this.cache.size) {
      this.cache.invalidateAll(terms);
      return;
    }
    for (const term of this.cache.keys()) {
      if (this.index.getNodesForTerm(term).has(nodeId)) this.cache.invalidate(term);
    }
  }

  /** Removes a node's terms and seq; answers whether there was anything. */
  private forgetNode(nodeId: SearchNodeId): boolean {
    const removed = this.index.removeNode(nodeId);
    this.cache.invalidateAll(removed);
    const hadSeq = this.seqs.delete(nodeId);
    this.changes += 1;
    return removed.length > 0 || hadSeq;
  }
}

/**
 * Whether an update with `seq` is newer than what was applied. A FULL report with the same seq
 * as the last incremental update is still applied when no FULL report underlies the entry (a
 * node may send increments to a new leader before its FULL report, numbered the same).
 */
function isNewer(state: NodeSeqState | undefined, seq: number, full: boolean): boolean {
  if (state === undefined) return true;
  if (seq > state.lastSeq) return true;
  return full && seq === state.lastSeq && !state.fullReport;
}
