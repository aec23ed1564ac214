/**
 * Re-planning a recovered map task's split (issue 5, DLQ recovery). A job's splits are cut from
 * its input files at submission, and its finished map tasks read those byte ranges. When a
 * dead-lettered map task is recovered after the user fixed its input, the task must read the
 * file as it is now — but only if the fix stayed inside that task's split: if it moved or
 * changed the bytes of a split that another map task already read, re-running the one task
 * would cut or repeat lines, and the only correct answer is to resubmit the job (Hadoop's
 * input is a snapshot fixed at submission, too).
 *
 * So the file's splits are planned again from its current metadata and compared with the
 * planned ones: the same number of splits, every other split with the same range and (when
 * known) the same chunk checksum; the recovered split keeps its start and may change its end
 * only if it is the file's last split (a fix in the last chunk may change the file's length).
 * Pure.
 */
import { computeSplits, type InputSplit, type SplittableFile } from '../common/splits.js';

/** The outcome of re-planning a recovered map task's split. */
export type SplitReplan =
  /** The job's splits with the file's splits planned again (hosts, sizes, checksums now). */
  | { readonly kind: 'replanned'; readonly splits: InputSplit[] }
  /** The file changed outside the task's split (or is gone): the job must be resubmitted. */
  | { readonly kind: 'input-changed'; readonly path: string; readonly detail: string };

/**
 * Re-plans the splits of the file read by split `index` of `splits`, from `file` (its metadata
 * now, or `undefined` if it no longer exists).
 */
export function replanRecoveredSplit(
  splits: readonly InputSplit[],
  index: number,
  file: SplittableFile | undefined,
): SplitReplan {
  const recovered = splits[index];
  if (!recovered) throw new RangeError(`no split ${index} among ${splits.length}`);
  const path = recovered.path;
  if (!file) {
    return { kind: 'input-changed', path, detail: `input ${path} no longer exists` };
  }
  const planned = splits.filter((split) => split.path === path);
  const current = computeSplits([file]);
  const mismatch = firstMismatch(planned, current, planned.indexOf(recovered));
  if (mismatch !== undefined) {
    return {
      kind: 'input-changed',
      path,
      detail: `input ${path} changed since the job was submitted (${recovered.fileSize} -> ${file.size} bytes; ${mismatch})`,
    };
  }
  let next = 0;
  return {
    kind: 'replanned',
    splits: splits.map((split) => (split.path === path ? current[next++]! : split)),
  };
}

/** Why `current` does not fit the splits the job's other map tasks read, or `undefined`. */
function firstMismatch(
  planned: readonly InputSplit[],
  current: readonly InputSplit[],
  recoveredAt: number,
): string | undefined {
  if (planned.length !== current.length) {
    return `${current.length} splits now, ${planned.length} at submission`;
  }
  const last = planned.length - 1;
  for (let at = 0; at < planned.length; at += 1) {
    const before = planned[at]!;
    const now = current[at]!;
    if (before.start !== now.start) return `split ${at} now starts at byte ${now.start}`;
    if (at === recoveredAt) {
      if (at !== last && before.end !== now.end) return `split ${at} now ends at byte ${now.end}`;
      continue;
    }
    if (before.end !== now.end) return `split ${at} now ends at byte ${now.end}`;
    if (before.checksum !== undefined && before.checksum !== now.checksum) {
      return `the bytes of split ${at}, already read by its map task, changed`;
    }
  }
  return undefined;
}
