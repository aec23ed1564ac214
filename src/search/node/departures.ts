/**
 * Which peers left this node's live set, and whether their leaving may have made documents
 * unreachable (the `partial` flag of a search). Pure: the edge feeds it live sets and the ends
 * of repair runs.
 *
 * Every document has k copies on its owners under the live set of the last repair. A departed
 * peer is *uncovered* until this node ends a clean repair run over a live set without it (its
 * documents that had a copy elsewhere are back at k copies on live nodes). While k or more
 * peers are uncovered at once, some documents may have had every copy on them: searches are
 * partial, and no repair can cover those peers (their sole copies left with them) until enough
 * of them come back. A peer that comes back is no longer departed.
 *
 * Limits (docs/search.md, "Partial answers"): a repair run covers this node's documents; another
 * survivor may still be copying when the next peer leaves. And the record is in memory: a node
 * restarted during an outage does not know who left before it started.
 */
export class Departures {
  private previousLive: ReadonlySet<number>;
  private readonly uncovered = new Set<number>();

  constructor(
    private readonly k: number,
    live: readonly number[] = [],
  ) {
    this.previousLive = new Set(live);
  }

  /** The live set is now `live`: peers that left it are departed, peers in it are not. */
  liveChanged(live: readonly number[]): void {
    const now = new Set(live);
    for (const id of this.previousLive) if (!now.has(id)) this.uncovered.add(id);
    for (const id of now) this.uncovered.delete(id);
    this.previousLive = now;
  }

  /** A repair run over `live` ended with every copy confirmed and the live set unchanged. */
  repairedOver(live: readonly number[]): void {
    if (this.mayMissDocuments()) return;
    const over = new Set(live);
    for (const id of [...this.uncovered]) if (!over.has(id)) this.uncovered.delete(id);
  }

  /** Whether some documents may have every copy on departed peers. */
  mayMissDocuments(): boolean {
    return this.uncovered.size >= this.k;
  }

  /** The departed peers not covered by a repair yet, ascending. */
  uncoveredIds(): number[] {
    return [...this.uncovered].sort((a, b) => a - b);
  }
}
