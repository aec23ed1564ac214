/**
 * The Search page's warning when documents may be missing (docs/search.md, "Partial answers
 * after nodes leave"): a node whose status says `documents_may_be_missing` lists the peers that
 * left before a repair covered them. Pure, shared by the app and its tests.
 */

/** The status fields the warning reads (absent on nodes older than the field). */
export interface LossStatus {
  readonly node_id: number;
  readonly departed_uncovered?: readonly number[];
  readonly documents_may_be_missing?: boolean;
}

/** The warning to show, or `null` when no node reports that documents may be missing. */
export function lossWarning(statuses: readonly LossStatus[]): string | null {
  const reporting = statuses.filter((status) => status.documents_may_be_missing === true);
  if (reporting.length === 0) return null;
  const departed = new Set(reporting.flatMap((status) => status.departed_uncovered ?? []));
  const list = (ids: Iterable<number>): string =>
    [...ids]
      .sort((a, b) => a - b)
      .map(String)
      .join(', ');
  return (
    `Nodes ${list(departed)} left before a repair covered their copies, as seen by node` +
    `${reporting.length > 1 ? 's' : ''} ${list(reporting.map((s) => s.node_id))}. ` +
    'Documents whose every copy is on them are missing, and searches answer partial, ' +
    'until enough of them are back.'
  );
}
