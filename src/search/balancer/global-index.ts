/**
 * The global index of the data balancer (distrisearch-balancer.md, "global_index.py"):
 * term -> {node id -> document frequency of the term on that node}. The leader keeps one; the
 * search nodes feed it with their index updates and the coordinators ask it where terms are.
 *
 * Pure: a plain in-memory structure, no time, no I/O. Every mutation answers the terms it
 * changed, so the caller can invalidate what it derived from them (the locate cache).
 */

/** A search node's hypercube id (an integer in [0, 2^d)). */
export type SearchNodeId = number;

/** An incremental change of one node's terms (the seed's `terms_added` / `terms_removed`). */
export interface TermDelta {
  /** term -> the node's current df for it (an absolute value, not an increment). */
  readonly added: Readonly<Record<string, number>>;
  /** Terms the node no longer holds. */
  readonly removed: readonly string[];
}

function assertDf(term: string, df: number): void {
  if (!Number.isSafeInteger(df) || df < 0) {
    throw new RangeError(`df of ${JSON.stringify(term)} must be a non-negative integer, got ${df}`);
  }
}

/**
 * term -> {nodeId -> df}, with the reverse map nodeId -> terms so that removing a node costs
 * the number of its terms, not the size of the index.
 *
 * A df of 0 is a legal entry: the node holds the term (for instance only in documents it keeps
 * as a secondary replica) and must be located, but it adds nothing to the global df.
 */
export class GlobalIndex {
  private readonly byTerm = new Map<string, Map<SearchNodeId, number>>();
  private readonly byNode = new Map<SearchNodeId, Set<string>>();

  /** Number of distinct terms held by at least one node. */
  get termCount(): number {
    return this.byTerm.size;
  }

  /** Ids of the nodes that have at least one term, ascending. */
  nodeIds(): SearchNodeId[] {
    return [...this.byNode.keys()].sort((a, b) => a - b);
  }

  /** Number of terms `nodeId` holds. */
  nodeTermCount(nodeId: SearchNodeId): number {
    return this.byNode.get(nodeId)?.size ?? 0;
  }

  /** Records that `nodeId` holds `term` in `df` documents (replacing a previous df). */
  addTerm(term: string, nodeId: SearchNodeId, df: number): boolean {
    assertDf(term, df);
    let nodes = this.byTerm.get(term);
    if (nodes === undefined) {
      nodes = new Map();
      this.byTerm.set(term, nodes);
    }
    if (nodes.get(nodeId) === df) return false;
    nodes.set(nodeId, df);
    let terms = this.byNode.get(nodeId);
    if (terms === undefined) {
      terms = new Set();
      this.byNode.set(nodeId, terms);
    }
    terms.add(term);
    return true;
  }

  /** Forgets that `nodeId` holds `term`; answers whether it did. */
  removeTerm(term: string, nodeId: SearchNodeId): boolean {
    const nodes = this.byTerm.get(term);
    if (nodes === undefined || !nodes.delete(nodeId)) return false;
    if (nodes.size === 0) this.byTerm.delete(term);
    const terms = this.byNode.get(nodeId);
    terms?.delete(term);
    if (terms?.size === 0) this.byNode.delete(nodeId);
    return true;
  }

  /** The nodes holding `term` with their df (empty when none). Do not mutate. */
  getNodesForTerm(term: string): ReadonlyMap<SearchNodeId, number> {
    return this.byTerm.get(term) ?? EMPTY;
  }

  /** The nodes holding at least one of `terms` (OR semantics: a union), ascending. */
  getNodesForTerms(terms: Iterable<string>): SearchNodeId[] {
    const union = new Set<SearchNodeId>();
    for (const term of terms) {
      for (const nodeId of this.getNodesForTerm(term).keys()) union.add(nodeId);
    }
    return [...union].sort((a, b) => a - b);
  }

  /** The terms `nodeId` holds (a live view; do not mutate, copy before changing the index). */
  nodeTerms(nodeId: SearchNodeId): ReadonlySet<string> {
    return this.byNode.get(nodeId) ?? NO_TERMS;
  }

  /** The terms of one node with their df (a copy). */
  termsOfNode(nodeId: SearchNodeId): Map<string, number> {
    const result = new Map<string, number>();
    for (const term of this.byNode.get(nodeId) ?? []) {
      const df = this.byTerm.get(term)?.get(nodeId);
      if (df !== undefined) result.set(term, df);
    }
    return result;
  }

  /** Removes every term of `nodeId`; answers the terms it removed. */
  removeNode(nodeId: SearchNodeId): string[] {
    const terms = [...(this.byNode.get(nodeId) ?? [])];
    for (const term of terms) this.removeTerm(term, nodeId);
    return terms;
  }

  /** Applies an incremental update of one node; answers the terms whose entry changed. */
  applyUpdate(nodeId: SearchNodeId, delta: TermDelta): string[] {
    const added = Object.entries(delta.added);
    for (const [term, df] of added) assertDf(term, df); // all or nothing
    const changed: string[] = [];
    for (const term of delta.removed) {
      if (this.removeTerm(term, nodeId)) changed.push(term);
    }
    for (const [term, df] of added) {
      if (this.addTerm(term, nodeId, df)) changed.push(term);
    }
    return changed;
  }

  /**
   * Replaces everything known about `nodeId` by `terms` (a FULL report); answers the terms
   * whose entry changed (added, removed or with a new df).
   */
  replaceNode(nodeId: SearchNodeId, terms: Readonly<Record<string, number>>): string[] {
    const entries = Object.entries(terms);
    for (const [term, df] of entries) assertDf(term, df);
    const changed: string[] = [];
    for (const term of [...(this.byNode.get(nodeId) ?? [])]) {
      if (!Object.hasOwn(terms, term) && this.removeTerm(term, nodeId)) changed.push(term);
    }
    for (const [term, df] of entries) {
      if (this.addTerm(term, nodeId, df)) changed.push(term);
    }
    return changed;
  }
}

const EMPTY: ReadonlyMap<SearchNodeId, number> = new Map();
const NO_TERMS: ReadonlySet<string> = new Set();
