/**
 * The map side of the shuffle (issue 5: "Map output is partitioned by key hash into R
 * partitions, sorted and spilled to the worker's disk"), and the k-way merge both sides use.
 *
 * - `MapOutputBuffer` keeps map output in memory grouped per partition and key, up to an
 *   estimated `memoryLimitBytes`; `spill()` writes one sorted RUN FILE holding every partition
 *   one after the other (an index in memory gives each partition's byte segment), applying the
 *   combiner to each key. `finish()` makes the map task's OUTPUT FILE: the single run renamed,
 *   or the runs of each partition merged in turn (combiner again), plus its index
 *   (`<file>.index.json`: the segment of each partition). Reducers fetch their segment.
 * - `mergeGroups(segments)` merges sorted segments into `(key, values[])` groups in key order:
 *   a heap over one buffered reader per segment, in passes of at most `mergeFactor` segments
 *   (intermediate runs go to `tmpDir`), so memory stays `mergeFactor * readBufferBytes` plus
 *   one group. A group holds every value of one key; a combiner keeps that small.
 *
 * Record format of run files: `u32le keyBytes, key (UTF-8), u32le valueBytes, value (UTF-8)`.
 * Keys sort by `compareKeys`: Unicode code point order, which is UTF-8 byte order (what
 * `LC_ALL=C sort` gives), so any worker, in any language, sorts the same way.
 */
import assert from 'node:assert/strict';
import { mkdir, open, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { partitionOf, type Partitioner } from './partition.js';

/** Code point order (= UTF-8 byte order), unlike `<` on strings (UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (D800-DFFF, which encode code points >= 0x10000) above E000-FFFF. */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** Bytes `[offset, offset + length)` of a run file: one sorted sequence of records. */
export interface RunSegment {
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

/** Where each partition of a map task's output file is. */
export interface MapOutputIndex {
  readonly path: string;
  /** Entry `p` is partition `p`. */
  readonly partitions: readonly { offset: number; length: number; records: number }[];
}

/** Folds the values of one key (word count: their sum); may be asynchronous (streaming). */
export type Combiner = (
  key: string,
  values: string[],
) => readonly string[] | Promise<readonly string[]>;

/** Appends records to a run file through a buffer; call `drain()` when `needsDrain`. */
export class RunWriter {
  /** Bytes appended so far (written or buffered). */
  bytes = 0;
  records = 0;
  private buffer: Buffer;
  private used = 0;
  private readonly full: Buffer[] = [];

  private constructor(
    private readonly handle: FileHandle,
    private readonly bufferBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(bufferBytes);
  }

  /** Creates (truncates) the file at `path`. */
  static async create(path: string, bufferBytes = 1024 * 1024): Promise<RunWriter> {
    return new RunWriter(await open(path, 'w'), bufferBytes);
  }

  /** Whether buffers are waiting to be written. */
  get needsDrain(): boolean {
    return this.full.length > 0;
  }

  /** Buffers one record (synchronous). */
  append(key: string, value: string): void {
    const worst = 8 + 3 * (key.length + value.length);
    if (this.used + worst > this.buffer.length) {
      if (this.used > 0) this.full.push(this.buffer.subarray(0, this.used));
      this.buffer = Buffer.allocUnsafe(Math.max(this.bufferBytes, worst));
      this.used = 0;
    }
    const start = this.used;
    const keyBytes = this.buffer.write(key, start + 4, 'utf8');
    this.buffer.writeUInt32LE(keyBytes, start);
    const valueAt = start + 4 + keyBytes;
    const valueBytes = this.buffer.write(value, valueAt + 4, 'utf8');
    this.buffer.writeUInt32LE(valueBytes, valueAt);
    this.used = valueAt + 4 + valueBytes;
    this.bytes += this.used - start;
    this.records += 1;
  }

  /** Writes the full buffers. */
  async drain(): Promise<void> {
    while (this.full.length > 0) await writeFully(this.handle, this.full.shift()!);
  }

  /** Writes everything and closes the file. */
  async close(): Promise<void> {
    try {
      await this.drain();
      if (this.used > 0) await writeFully(this.handle, this.buffer.subarray(0, this.used));
      this.used = 0;
    } finally {
      await this.handle.close();
    }
  }
}

async function writeFully(handle: FileHandle, data: Buffer): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written);
    written += bytesWritten;
  }
}

/** Reads the records of one segment through a buffer; `key`/`value` hold the current one. */
export class RunReader {
  key = '';
  value = '';
  private buffer: Buffer;
  private start = 0;
  private end = 0;
  private filePosition: number;
  private remaining: number;

  private constructor(
    private readonly handle: FileHandle,
    private readonly segment: RunSegment,
    bufferBytes: number,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, bufferBytes));
    this.filePosition = segment.offset;
    this.remaining = segment.length;
  }

  static async open(segment: RunSegment, bufferBytes = 64 * 1024): Promise<RunReader> {
    return new RunReader(await open(segment.path, 'r'), segment, bufferBytes);
  }

  /** Moves to the next record; false at the end of the segment. */
  async next(): Promise<boolean> {
    for (;;) {
      const parsed = this.tryNext();
      if (parsed !== null) return parsed;
      await this.refill();
    }
  }

  /** The next record from the buffer: true/false as `next`, null when the buffer runs short. */
  tryNext(): boolean | null {
    const available = this.end - this.start;
    if (available === 0 && this.remaining === 0) return false;
    if (available < 4) return null;
    const keyBytes = this.buffer.readUInt32LE(this.start);
    if (available < 8 + keyBytes) return null;
    const valueAt = this.start + 4 + keyBytes;
    const valueBytes = this.buffer.readUInt32LE(valueAt);
    if (available < 8 + keyBytes + valueBytes) return null;
    this.key = this.buffer.toString('utf8', this.start + 4, valueAt);
    this.value = this.buffer.toString('utf8', valueAt + 4, valueAt + 4 + valueBytes);
    this.start = valueAt + 4 + valueBytes;
    return true;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async refill(): Promise<void> {
    if (this.remaining === 0) {
      throw new Error(`truncated run file ${this.segment.path} at byte ${this.filePosition}`);
    }
    const pending = this.end - this.start;
    const needed = pending >= 4 ? this.recordBytesNeeded() : 0;
    if (needed > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(needed);
      this.buffer.copy(bigger, 0, this.start, this.end);
      this.buffer = bigger;
    } else {
      this.buffer.copy(this.buffer, 0, this.start, this.end);
    }
    this.start = 0;
    this.end = pending;
    const want = Math.min(this.buffer.length - this.end, this.remaining);
    const { bytesRead } = await this.handle.read(this.buffer, this.end, want, this.filePosition);
    if (bytesRead === 0) throw new Error(`run file ${this.segment.path} is shorter than its index`);
    this.end += bytesRead;
    this.filePosition += bytesRead;
    this.remaining -= bytesRead;
  }

  /** Bytes of the record at `start`, as far as its length prefixes are buffered. */
  private recordBytesNeeded(): number {
    const keyBytes = this.buffer.readUInt32LE(this.start);
    if (this.end - this.start < 8 + keyBytes) return 8 + keyBytes;
    return 8 + keyBytes + this.buffer.readUInt32LE(this.start + 4 + keyBytes);
  }
}

/** Options of `mergeGroups`. */
export interface MergeOptions {
  /** Segments merged at once (Hadoop's io.sort.factor). Default 32. */
  readonly mergeFactor?: number | undefined;
  /** Read buffer per segment. Default 64 KiB. */
  readonly readBufferBytes?: number | undefined;
  /** Where intermediate runs go when there are more segments than `mergeFactor`. */
  readonly tmpDir?: string | undefined;
}

/** One key and all its values, values in segment order. */
export interface KeyGroup {
  readonly key: string;
  readonly values: string[];
}

/** Merges sorted segments into key groups, in key order (multi-pass beyond `mergeFactor`). */
export async function* mergeGroups(
  segments: readonly RunSegment[],
  options: MergeOptions = {},
): AsyncGenerator<KeyGroup> {
  const factor = options.mergeFactor ?? 32;
  assert.ok(Number.isInteger(factor) && factor >= 2, 'mergeFactor must be >= 2');
  const intermediates: string[] = [];
  try {
    let sources = segments.filter((s) => s.length > 0);
    for (let pass = 0; sources.length > factor; pass++) {
      assert.ok(options.tmpDir, `merging ${sources.length} segments needs a tmpDir`);
      await mkdir(options.tmpDir, { recursive: true });
      const next: RunSegment[] = [];
      for (let i = 0; i < sources.length; i += factor) {
        const path = join(options.tmpDir, `merge-${pass}-${next.length}.run`);
        intermediates.push(path);
        next.push(await mergeToFile(sources.slice(i, i + factor), path, options));
      }
      sources = next;
    }
    let group: { key: string; values: string[] } | null = null;
    for await (const [key, value] of mergePairs(sources, options)) {
      if (group !== null && group.key === key) {
        group.values.push(value);
        continue;
      }
      if (group !== null) yield group;
      group = { key, values: [value] };
    }
    if (group !== null) yield group;
  } finally {
    await Promise.all(intermediates.map((path) => rm(path, { force: true })));
  }
}

async function mergeToFile(
  sources: readonly RunSegment[],
  path: string,
  options: MergeOptions,
): Promise<RunSegment> {
  const writer = await RunWriter.create(path);
  try {
    for await (const [key, value] of mergePairs(sources, options)) {
      writer.append(key, value);
      if (writer.needsDrain) await writer.drain();
    }
  } finally {
    await writer.close();
  }
  return { path, offset: 0, length: writer.bytes };
}

/** k-way merge of sorted segments into `[key, value]` pairs; equal keys in segment order. */
async function* mergePairs(
  sources: readonly RunSegment[],
  options: MergeOptions,
): AsyncGenerator<[string, string]> {
  const readers: RunReader[] = [];
  try {
    for (const source of sources) {
      readers.push(await RunReader.open(source, options.readBufferBytes));
    }
    const heap = new ReaderHeap(readers);
    for (let i = 0; i < readers.length; i++) if (await readers[i]!.next()) heap.push(i);
    while (heap.size > 0) {
      const i = heap.peek();
      const reader = readers[i]!;
      yield [reader.key, reader.value];
      const more = reader.tryNext() ?? (await reader.next());
      if (more) heap.replaceTop(i);
      else heap.pop();
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
}

/** A binary min-heap of reader indices, by current key then index (a stable merge). */
class ReaderHeap {
  private readonly items: number[] = [];
  constructor(private readonly readers: readonly RunReader[]) {}

  get size(): number {
    return this.items.length;
  }
  peek(): number {
    return this.items[0]!;
  }
  push(index: number): void {
    this.items.push(index);
    this.up(this.items.length - 1);
  }
  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) this.replaceTop(last);
  }
  /** Replaces the top (after its reader advanced) and restores the heap. */
  replaceTop(index: number): void {
    this.items[0] = index;
    this.down(0);
  }

  private less(a: number, b: number): boolean {
    const order = compareKeys(this.readers[a]!.key, this.readers[b]!.key);
    return order < 0 || (order === 0 && a < b);
  }
  private up(at: number): void {
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.less(this.items[at]!, this.items[parent]!)) return;
      this.swap(at, parent);
      at = parent;
    }
  }
  private down(at: number): void {
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < this.items.length && this.less(this.items[left]!, this.items[smallest]!)) {
        smallest = left;
      }
      if (right < this.items.length && this.less(this.items[right]!, this.items[smallest]!)) {
        smallest = right;
      }
      if (smallest === at) return;
      this.swap(at, smallest);
      at = smallest;
    }
  }
  private swap(a: number, b: number): void {
    const t = this.items[a]!;
    this.items[a] = this.items[b]!;
    this.items[b] = t;
  }
}

/** Options of a map task's output buffer. */
export interface MapOutputBufferOptions {
  /** The task's own directory (created); runs and the output file go there. */
  readonly dir: string;
  /** R, the number of reduce tasks. */
  readonly partitions: number;
  /** Estimated in-memory bytes before a spill. Default 64 MiB. */
  readonly memoryLimitBytes?: number | undefined;
  readonly partitioner?: Partitioner | undefined;
  readonly combiner?: Combiner | undefined;
  readonly mergeFactor?: number | undefined;
  readonly readBufferBytes?: number | undefined;
}

/** Memory estimate: V8 string payload (2 bytes a char at most) plus per-entry overheads. */
const KEY_OVERHEAD_BYTES = 96;
const VALUE_OVERHEAD_BYTES = 32;
/** Values of one key that trigger an in-memory combine. */
const EAGER_COMBINE_VALUES = 32;

function valueBytes(value: string): number {
  return VALUE_OVERHEAD_BYTES + 2 * value.length;
}

/** A map task's output: buffer, spill sorted runs, and finish into one indexed output file. */
export class MapOutputBuffer {
  /** Records added. */
  recordsIn = 0;
  /** Run files written so far. */
  spills = 0;
  /** Buffered keys with their partition (hashed once per key and spill) and values. */
  private readonly entries = new Map<string, { partition: number; values: string[] }>();
  private readonly partitioner: Partitioner;
  private memoryBytes = 0;
  private readonly runs: MapOutputIndex[] = [];
  private readonly limitBytes: number;
  private ready: Promise<void> | null = null;
  private eagerCombine: boolean;

  constructor(private readonly options: MapOutputBufferOptions) {
    assert.ok(Number.isInteger(options.partitions) && options.partitions >= 1);
    this.limitBytes = options.memoryLimitBytes ?? 64 * 1024 * 1024;
    this.eagerCombine = options.combiner !== undefined;
    this.partitioner = options.partitioner ?? partitionOf;
  }

  /** Whether the buffer is over its memory limit (call `spill()`). */
  get overLimit(): boolean {
    return this.memoryBytes >= this.limitBytes;
  }

  /** Buffers one record (synchronous; the caller spills when `overLimit`). */
  add(key: string, value: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.entries.set(key, { partition: this.partitionOf(key), values: [value] });
      this.memoryBytes += KEY_OVERHEAD_BYTES + 2 * key.length;
    } else {
      entry.values.push(value);
      if (entry.values.length >= EAGER_COMBINE_VALUES && this.eagerCombine) {
        this.combineNow(entry, key);
      }
    }
    this.memoryBytes += valueBytes(value);
    this.recordsIn += 1;
  }

  /**
   * Folds a key's values in memory (Spark's map-side combine): a combiner may run any number of
   * times on any subsets of a key's values (Hadoop's contract), so word count keeps one running
   * count per key instead of a value per word. Only a synchronous combiner can run here; an
   * asynchronous one (a streaming process) switches this off and runs at spill time only.
   */
  private combineNow(entry: { values: string[] }, key: string): void {
    const values = entry.values;
    const combined = this.options.combiner!(key, values);
    if (combined instanceof Promise) {
      this.eagerCombine = false;
      // Its result is not used here: the values are combined again at the spill.
      combined.catch(() => undefined);
      return;
    }
    let freed = 0;
    for (const value of values) freed += valueBytes(value);
    for (const value of combined) freed -= valueBytes(value);
    entry.values = [...combined];
    this.memoryBytes -= freed;
  }

  private partitionOf(key: string): number {
    const p = this.partitioner(key, this.options.partitions);
    if (!(Number.isInteger(p) && p >= 0 && p < this.options.partitions)) {
      throw new RangeError(`partitioner returned ${p} for ${this.options.partitions} partitions`);
    }
    return p;
  }

  /** Spills when over the limit. */
  async maybeSpill(): Promise<void> {
    if (this.overLimit) await this.spill();
  }

  /** Writes the buffered records as one sorted run (combined) and empties the buffer. */
  async spill(): Promise<void> {
    if (this.ready === null)
      this.ready = mkdir(this.options.dir, { recursive: true }).then(() => {});
    await this.ready;
    const path = join(this.options.dir, `spill-${String(this.spills).padStart(5, '0')}.run`);
    const writer = await RunWriter.create(path);
    const partitions: MapOutputIndex['partitions'][number][] = [];
    try {
      for (const keys of this.keysByPartition()) {
        const offset = writer.bytes;
        const records = writer.records;
        for (const key of keys.sort(compareKeys)) {
          await this.writeGroup(writer, key, this.entries.get(key)!.values);
        }
        partitions.push({
          offset,
          length: writer.bytes - offset,
          records: writer.records - records,
        });
      }
    } finally {
      await writer.close();
    }
    this.entries.clear();
    this.runs.push({ path, partitions });
    this.spills += 1;
    this.memoryBytes = 0;
  }

  private keysByPartition(): string[][] {
    const buckets = Array.from({ length: this.options.partitions }, (): string[] => []);
    for (const [key, entry] of this.entries) buckets[entry.partition]!.push(key);
    return buckets;
  }

  /** Spills what is left and produces the output file and its index. */
  async finish(): Promise<MapOutputIndex> {
    if (this.memoryBytes > 0 || this.runs.length === 0) await this.spill();
    const path = join(this.options.dir, 'output.run');
    const index =
      this.runs.length === 1 ? await this.adoptSingleRun(path) : await this.mergeRuns(path);
    await writeFile(`${path}.index.json`, JSON.stringify(index));
    return index;
  }

  private async adoptSingleRun(path: string): Promise<MapOutputIndex> {
    const run = this.runs[0]!;
    await rename(run.path, path);
    return { path, partitions: run.partitions };
  }

  private async mergeRuns(path: string): Promise<MapOutputIndex> {
    const writer = await RunWriter.create(path);
    const partitions: MapOutputIndex['partitions'][number][] = [];
    try {
      for (let p = 0; p < this.options.partitions; p++) {
        const offset = writer.bytes;
        const records = writer.records;
        const segments = this.runs.map((run) => ({ path: run.path, ...run.partitions[p]! }));
        const groups = mergeGroups(segments, {
          tmpDir: join(this.options.dir, 'merge'),
          mergeFactor: this.options.mergeFactor,
          readBufferBytes: this.options.readBufferBytes,
        });
        for await (const { key, values } of groups) await this.writeGroup(writer, key, values);
        partitions.push({
          offset,
          length: writer.bytes - offset,
          records: writer.records - records,
        });
      }
    } finally {
      await writer.close();
    }
    await Promise.all(this.runs.map((run) => rm(run.path, { force: true })));
    await rm(join(this.options.dir, 'merge'), { recursive: true, force: true });
    return { path, partitions };
  }

  private async writeGroup(writer: RunWriter, key: string, values: string[]): Promise<void> {
    const combined = this.options.combiner ? await this.options.combiner(key, values) : values;
    for (const value of combined) writer.append(key, value);
    if (writer.needsDrain) await writer.drain();
  }
}
