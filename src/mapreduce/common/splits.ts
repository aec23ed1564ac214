/**
 * Input splits (issue 5, "Input splits follow DFS chunks"): one split per chunk of each input
 * file, with the hosts of the chunk's live replicas for data locality, and the rule that makes
 * LINE records crossing a chunk border read exactly once — Hadoop's `LineRecordReader` rule:
 *
 * - A line belongs to the split that holds its FIRST byte: the split `[start, end)` owns the
 *   lines starting at offsets `p` with `start <= p < end`.
 * - So a split that does not start at offset 0 skips its first partial line. To know whether a
 *   line starts exactly at `start`, it begins reading at `start - 1` and skips through the first
 *   `\n` found there: if byte `start - 1` is `\n`, only that byte is skipped.
 * - A split reads past its `end` to finish its last line: it stops after the first `\n` at an
 *   offset `>= end - 1`, or at the end of the file.
 *
 * A line longer than a chunk is read once, by the split holding its first byte; the splits it
 * spans yield nothing. Records are the lines without their `\n` (and without a `\r` before it);
 * a file ending with `\n` has no empty last record. Pure.
 */

/** The parts of a DFS file a split needs (structurally a `FileMetadata` of the DFS). */
export interface SplittableFile {
  readonly path: string;
  /** The DFS file id (a new one after every overwrite), when known. */
  readonly file_id?: string;
  readonly size: number;
  readonly chunks: readonly {
    readonly size: number;
    /** The chunk's checksum, when known (to tell later whether the file changed). */
    readonly checksum?: string;
    readonly replicas: readonly { readonly url: string; readonly state: string }[];
  }[];
}

/** One map task's input: bytes `[start, end)` of a file (one chunk), and where its replicas are. */
export interface InputSplit {
  readonly path: string;
  /** Position of the chunk in its file. */
  readonly chunkIndex: number;
  readonly start: number;
  readonly end: number;
  readonly fileSize: number;
  /** Hosts (lower case) of the chunk's active replicas: where the map task would read locally. */
  readonly hosts: readonly string[];
  /** The chunk's checksum at planning, when known (a recovery checks the file is unchanged). */
  readonly checksum?: string;
  /** The file's id at planning, when known: every attempt reads that file or fails. */
  readonly fileId?: string;
}

/** One split per non-empty chunk of each file, in file order then chunk order. */
export function computeSplits(files: readonly SplittableFile[]): InputSplit[] {
  const splits: InputSplit[] = [];
  for (const file of files) {
    let offset = 0;
    file.chunks.forEach((chunk, chunkIndex) => {
      const start = offset;
      offset += chunk.size;
      if (chunk.size === 0) return;
      const hosts = chunk.replicas
        .filter((replica) => replica.state === 'active')
        .map((replica) => hostOfUrl(replica.url));
      splits.push({
        path: file.path,
        chunkIndex,
        start,
        end: offset,
        fileSize: file.size,
        hosts: [...new Set(hosts.filter((h) => h !== ''))],
        ...(chunk.checksum === undefined ? {} : { checksum: chunk.checksum }),
        ...(file.file_id === undefined ? {} : { fileId: file.file_id }),
      });
    });
  }
  return splits;
}

/** The host name of a URL, lower case (`''` when it does not parse). */
export function hostOfUrl(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** How to read a split's lines: the bytes to fetch first, and whether to skip a partial line. */
export interface SplitReadPlan {
  /** First byte to fetch: `start - 1` when skipping (to see whether a line starts at `start`). */
  readonly readStart: number;
  /** Whether to skip through the first `\n` at or after `readStart`. */
  readonly skipFirstLine: boolean;
  /** Bytes `[readStart, end)` are read first; the split then reads past `end` ... */
  readonly end: number;
  /** ... until the first `\n` at an offset `>= stopAfterNewlineAt`, or the end of the file. */
  readonly stopAfterNewlineAt: number;
  readonly fileSize: number;
}

/** The read plan of a split (Hadoop's rule, see the module comment). */
export function splitReadPlan(
  split: Pick<InputSplit, 'start' | 'end' | 'fileSize'>,
): SplitReadPlan {
  if (!(split.start >= 0 && split.start < split.end && split.end <= split.fileSize)) {
    throw new RangeError(`bad split [${split.start}, ${split.end}) of ${split.fileSize} bytes`);
  }
  return {
    readStart: split.start === 0 ? 0 : split.start - 1,
    skipFirstLine: split.start > 0,
    end: split.end,
    stopAfterNewlineAt: split.end - 1,
    fileSize: split.fileSize,
  };
}

/** Whether the line that starts at byte `lineStart` is read by this split. */
export function splitOwnsLine(
  split: Pick<InputSplit, 'start' | 'end'>,
  lineStart: number,
): boolean {
  return split.start <= lineStart && lineStart < split.end;
}
