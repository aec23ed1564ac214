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
    for await (const piece of this.pieces()) {
      const lines = this.consume(piece);
      if (lines.length > 0) {
        this.records += lines.length;
        yield lines;
      }
      if (this.done) return;
    }
    // End of file: an unterminated last line is a record; a skip that never ended yields none.
    if (!this.skipping && this.carryBytes > 0) {
      const last = [stripCr(Buffer.concat(this.carry).toString('utf8'))];
      this.carry = [];
      this.carryBytes = 0;
      this.records += 1;
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

  /** Processes one piece at `this.position`; returns the lines it completes. */
  private consume(piece: Buffer): string[] {
    const pieceStart = this.position;
    this.position += piece.length;
    let from = 0;
    const stopIndex = this.plan.stopAfterNewlineAt - pieceStart;
    if (this.skipping) {
      const newline = piece.indexOf(NEWLINE);
      if (newline === -1 || newline >= stopIndex) {
        // No line starts in this split before its end: nothing to read.
        if (newline !== -1 || this.position > this.plan.stopAfterNewlineAt) this.done = true;
        return [];
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
      return [];
    }
    const lines = this.completeLines(piece.subarray(from, last + 1));
    this.keep(piece.subarray(last + 1));
    return lines;
  }

  /** The lines of the carry plus `region`, which ends with `\n`. */
  private completeLines(region: Buffer): string[] {
    const bytes = this.carryBytes > 0 ? Buffer.concat([...this.carry, region]) : region;
    this.carry = [];
    this.carryBytes = 0;
    const lines = bytes.toString('utf8').split('\n');
    lines.pop(); // the empty string after the final `\n`
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
    }
    return lines;
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

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
