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
 * The edge keeps the record in the node's data dir (departures-file.ts), so a node restarted
 * during an outage still knows who left; an operator who gives up on departed peers (their data
 * is lost for good) forgets them (`forget`, `POST /departures/forget`).
 *
 * Limit (docs/search.md, "Partial answers"): a repair run covers this node's documents; another
 * survivor may still be copying when the next peer leaves.
 */
export class Departures {
  private previousLive: ReadonlySet<number>;
  private readonly uncovered = new Set<number>();
  /** Called with the uncovered ids after every change of them (the edge saves them). */
  onChange: (uncovered: number[]) => void = () => undefined;

  constructor(
    private readonly k: number,
    live: readonly number[] = [],
    uncovered: readonly number[] = [],
  ) {
    this.previousLive = new Set(live);
    for (const id of uncovered) if (!this.previousLive.has(id)) this.uncovered.add(id);
  }

  /** The live set is now `live`: peers that left it are departed, peers in it are not. */
  liveChanged(live: readonly number[]): void {
    const now = new Set(live);
    const before = this.uncovered.size;
    let returned = 0;
    for (const id of this.previousLive) if (!now.has(id)) this.uncovered.add(id);
    const grew = this.uncovered.size !== before;
    for (const id of now) if (this.uncovered.delete(id)) returned += 1;
    this.previousLive = now;
    if (grew || returned > 0) this.onChange(this.uncoveredIds());
  }

  /** A repair run over `live` ended with every copy confirmed and the live set unchanged. */
  repairedOver(live: readonly number[]): void {
    if (this.mayMissDocuments()) return;
    const over = new Set(live);
    const covered = [...this.uncovered].filter((id) => !over.has(id));
    for (const id of covered) this.uncovered.delete(id);
    if (covered.length > 0) this.onChange(this.uncoveredIds());
  }

  /**
   * Stops counting `ids` as departed (an operator accepts that what only they held is lost);
   * answers the ids that were departed. A forgotten peer that comes back and leaves again counts
   * again.
   */
  forget(ids: readonly number[]): number[] {
    const forgotten = ids.filter((id) => this.uncovered.delete(id));
    if (forgotten.length > 0) this.onChange(this.uncoveredIds());
    return forgotten;
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
