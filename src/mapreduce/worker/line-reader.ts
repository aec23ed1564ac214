/**
 * Reads the line records of one input split by the rule of `splitReadPlan` (splits.ts;
 * Hadoop's LineRecordReader): skip the first partial line unless the split starts at offset 0,
 * and read past the split's end, in bounded and growing increments, to finish the last line.
 * Every line of a file is then read by exactly one split.
 *
 * The edge to storage is one function, `readRange(start, end)` -> bytes `[start, end)`; in
 * production `(s, e) => dfs.getStream(path, { start: s, end: e })`. Lines are cut at `\n` bytes,
 * which never occur inside a multi-byte UTF-8 sequence, so decoding whole lines is safe.
 * Records come in batches (one per piece read) to keep the per-record cost low.
 */
import { splitReadPlan, type InputSplit, type SplitReadPlan } from '../common/splits.js';

/** Reads bytes `[start, end)` of the split's file (fewer only at the end of the file). */
export type ReadRange = (start: number, end: number) => AsyncIterable<Buffer>;

export interface LineReaderOptions {
  /** First read past the split's end, in bytes (doubles up to `maxIncrementBytes`). Default 8 KiB. */
  readonly firstIncrementBytes?: number;
  /** Largest read past the end. Default 1 MiB. */
  readonly maxIncrementBytes?: number;
  /** A longer line fails the split with `LineTooLongError` (bounded memory). Default 64 MiB. */
  readonly maxLineBytes?: number;
}

/** A line longer than `maxLineBytes`: the task fails with reason `bad-input`. */
export class LineTooLongError extends Error {
  readonly code = 'LINE_TOO_LONG';
  constructor(
    readonly offset: number,
    readonly maxLineBytes: number,
  ) {
    super(`the line starting near byte ${offset} is longer than ${maxLineBytes} bytes`);
    this.name = 'LineTooLongError';
  }
}

const NEWLINE = 0x0a;

/**
 * The lines of one split. Iterate `batches()` once; `bytesRead` and `records` count as it goes.
 */
export class SplitLineReader {
  /** Bytes fetched so far (including the skipped partial line and the read past the end). */
  bytesRead = 0;
  /** Records yielded so far. */
  records = 0;
  private readonly plan: SplitReadPlan;
  private readonly maxLineBytes: number;
  private skipping: boolean;
  private done = false;
  /** Absolute offset of the next byte to process. */
  private position: number;
  /** Bytes of the current, unfinished line. */
  private carry: Buffer[] = [];
  private carryBytes = 0;

  constructor(
    split: Pick<InputSplit, 'start' | 'end' | 'fileSize'>,
    private readonly readRange: ReadRange,
    private readonly options: LineReaderOptions = {},
  ) {
    this.plan = splitReadPlan(split);
    this.maxLineBytes = options.maxLineBytes ?? 64 * 1024 * 1024;
    this.skipping = this.plan.skipFirstLine;
    this.position = this.plan.readStart;
  }

  /** Batches of records, in file order; each record is a line without `\n` (or `\r\n`). */
  async *batches(): AsyncGenerator<string[]> {
    for await (const region of this.wholeLines()) {
      const lines = linesOf(region);
      this.records += lines.length;
      yield lines;
    }
  }

  /**
   * The same records as raw bytes: each region holds whole lines with their `\n` (the file's
   * unterminated last line comes alone, without one). Iterate `batches()` or this, once.
   */
  async *regions(): AsyncGenerator<Buffer> {
    for await (const region of this.wholeLines()) {
      this.records += countLines(region);
      yield region;
    }
  }

  /** Regions of whole lines, as bytes, in file order. */
  private async *wholeLines(): AsyncGenerator<Buffer> {
    for await (const piece of this.pieces()) {
      const region = this.consume(piece);
      if (region !== undefined && region.length > 0) yield region;
      if (this.done) return;
    }
    // End of file: an unterminated last line is a record; a skip that never ended yields none.
    if (!this.skipping && this.carryBytes > 0) {
      const last = Buffer.concat(this.carry);
      this.carry = [];
      this.carryBytes = 0;
      yield last;
    }
  }

  /** The split's bytes, then past its end in growing increments, until done or end of file. */
  private async *pieces(): AsyncGenerator<Buffer> {
    const { readStart, end, fileSize } = this.plan;
    yield* this.range(readStart, end);
    let from = end;
    let increment = this.options.firstIncrementBytes ?? 8 * 1024;
    const maxIncrement = this.options.maxIncrementBytes ?? 1024 * 1024;
    while (!this.done && from < fileSize) {
      const to = Math.min(fileSize, from + increment);
      yield* this.range(from, to);
      from = to;
      increment = Math.min(maxIncrement, increment * 2);
    }
  }

  private async *range(start: number, end: number): AsyncGenerator<Buffer> {
    let remaining = end - start;
    for await (const raw of this.readRange(start, end)) {
      if (remaining <= 0) break;
      const piece = raw.length > remaining ? raw.subarray(0, remaining) : raw;
      remaining -= piece.length;
      this.bytesRead += piece.length;
      yield piece;
      if (this.done) return;
    }
  }

  /** Processes one piece at `this.position`; returns the whole lines it completes, as bytes. */
  private consume(piece: Buffer): Buffer | undefined {
    const pieceStart = this.position;
    this.position += piece.length;
    let from = 0;
    const stopIndex = this.plan.stopAfterNewlineAt - pieceStart;
    if (this.skipping) {
      const newline = piece.indexOf(NEWLINE);
      if (newline === -1 || newline >= stopIndex) {
        // No line starts in this split before its end: nothing to read.
        if (newline !== -1 || this.position > this.plan.stopAfterNewlineAt) this.done = true;
        return undefined;
      }
      this.skipping = false;
      from = newline + 1;
    }
    const stop = stopIndex < piece.length ? piece.indexOf(NEWLINE, Math.max(from, stopIndex)) : -1;
    if (stop !== -1) {
      this.done = true;
      return this.completeLines(piece.subarray(from, stop + 1));
    }
    const last = piece.lastIndexOf(NEWLINE);
    if (last < from) {
      this.keep(piece.subarray(from));
      return undefined;
    }
    const lines = this.completeLines(piece.subarray(from, last + 1));
    this.keep(piece.subarray(last + 1));
    return lines;
  }

  /** The carry plus `region`, which ends with `\n`: whole lines. */
  private completeLines(region: Buffer): Buffer {
    const bytes = this.carryBytes > 0 ? Buffer.concat([...this.carry, region]) : region;
    this.carry = [];
    this.carryBytes = 0;
    return bytes;
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.carry.push(bytes);
    this.carryBytes += bytes.length;
    if (this.carryBytes > this.maxLineBytes) {
      throw new LineTooLongError(this.position - this.carryBytes, this.maxLineBytes);
    }
  }
}

/** All records of a split, in order (convenience over `SplitLineReader`). */
export async function* readSplitLines(
  split: Pick<InputSplit, 'start' | 'end' | 'fileSize'>,
  readRange: ReadRange,
  options?: LineReaderOptions,
): AsyncGenerator<string> {
  for await (const batch of new SplitLineReader(split, readRange, options).batches()) {
    yield* batch;
  }
}

/** The records in a region of whole lines (the last may lack its `\n`). */
function countLines(region: Buffer): number {
  let lines = 0;
  for (let at = region.indexOf(NEWLINE); at !== -1; at = region.indexOf(NEWLINE, at + 1)) {
    lines += 1;
  }
  return region[region.length - 1] === NEWLINE ? lines : lines + 1;
}

/** The records of whole lines: split at `\n`, without a `\r` before it. */
function linesOf(region: Buffer): string[] {
  const lines = region.toString('utf8').split('\n');
  if (region[region.length - 1] === NEWLINE) lines.pop(); // the empty string after the final `\n`
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}
