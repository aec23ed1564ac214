import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { fsyncDirectory } from '../../core/durable-files.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { InvertedIndex, type IndexChange, type StoredDocument } from './inverted-index.js';
import {
  decodeRecords,
  decodeSnapshot,
  encodeRecords,
  encodeSnapshot,
  parseFileName,
  segmentName,
  snapshotName,
  type IndexOp,
  type IndexOpInput,
} from './wal-format.js';

/**
 * Durable storage of a node's index (the edge around the pure index): an append-only log of
 * add/delete operations plus periodic compressed snapshots, in one directory.
 *
 * - Writes are group-committed: operations that arrive while a write is in flight wait and go
 *   out together, one write and one fdatasync per batch. A promise resolves only after its
 *   operation is on disk and applied to the index (DESIGN.md rule 7: a 2xx means durable).
 * - A snapshot rotates the log (a new segment starts after the snapshot's LSN), writes
 *   `snapshot-<lsn>.jsonl.gz` through a temporary file, fsync and rename, then deletes the
 *   older snapshots and segments.
 * - Recovery loads the newest readable snapshot and replays the log after its LSN. A torn
 *   last record (SIGKILL mid-write) is cut off: it was never acknowledged.
 */

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Error codes of the index store. */
export type IndexStoreErrorCode = 'INDEX_STORE_CLOSED' | 'INDEX_LOG_CORRUPT' | 'INDEX_STORE_IO';

/** An I/O failure or damage found by the index store. */
export class IndexStoreError extends Error {
  override readonly name = 'IndexStoreError';

  constructor(
    readonly code: IndexStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Options of an index store; every field has the default stated. */
export interface IndexStoreOptions {
  /** Take a snapshot in the background after this many logged operations. Default 10,000. */
  snapshotEveryOps?: number;
  /** Called with failures of background snapshots (which are retried at the next trigger). */
  onBackgroundError?: (error: unknown) => void;
}

/** What recovery found. */
export interface RecoveryReport {
  /** LSN of the snapshot loaded (0: none). */
  snapshotLsn: number;
  /** Operations replayed from the log. */
  replayedOps: number;
  /** Bytes cut from the end of the last segment (a torn write). */
  truncatedBytes: number;
  /** Snapshot files that could not be read and were skipped. */
  skippedSnapshots: string[];
}

interface PendingOp {
  input: IndexOpInput;
  resolve: (change: IndexChange | undefined) => void;
  reject: (error: unknown) => void;
}

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** The index of one node, kept durable in a directory. */
export class IndexStore {
  private pending: PendingOp[] = [];
  /** The running flush loop (kept for close) and whether it is still looping. */
  private flushing: Promise<void> = Promise.resolve();
  private flushActive = false;
  private snapshotting: Promise<void> | undefined;
  private opsSinceSnapshot = 0;
  private closed = false;
  private batchesWritten = 0;
  private opsWritten = 0;
  /** Set by a failed log write: the log's tail is unknown, so the store stops (fail-stop). */
  private failure: IndexStoreError | undefined;
  /** Serializes whatever touches the current segment: batch writes and log rotation. */
  private segmentLock: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    /** The in-memory index; read it freely, change it only through the store. */
    readonly index: InvertedIndex,
    private segment: FileHandle,
    private lastLsn: number,
    private readonly options: IndexStoreOptions,
    /** What recovery found when the store was opened. */
    readonly recovery: RecoveryReport,
  ) {}

  /** Open (creating if needed) the store in `dir` and recover its index. */
  static async open(dir: string, options: IndexStoreOptions = {}): Promise<IndexStore> {
    await mkdir(dir, { recursive: true });
    const { index, lastLsn, report, lastSegment } = await recover(dir);
    const segment = await open(join(dir, lastSegment ?? segmentName(lastLsn + 1)), 'a');
    if (lastSegment === undefined) await fsyncDirectory(dir);
    return new IndexStore(dir, index, segment, lastLsn, options, report);
  }

  /** The LSN of the last operation made durable. */
  get lsn(): number {
    return this.lastLsn;
  }

  /** Counters for metrics: batches written (one fdatasync each) and operations in them. */
  get writeStats(): { batches: number; ops: number } {
    return { batches: this.batchesWritten, ops: this.opsWritten };
  }

  /** Add (or replace) a document durably. */
  async add(doc: StoredDocument): Promise<IndexChange> {
    return (await this.enqueue({ op: 'add', doc })) as IndexChange;
  }

  /** Add many documents; one batch, so one fsync when nothing else is in flight. */
  async addMany(docs: readonly StoredDocument[]): Promise<IndexChange[]> {
    const changes = await Promise.all(docs.map((doc) => this.enqueue({ op: 'add', doc })));
    return changes as IndexChange[];
  }

  /** Delete a document durably; undefined if it was not held. */
  async delete(docId: string): Promise<IndexChange | undefined> {
    return this.enqueue({ op: 'delete', doc_id: docId });
  }

  /** Write a snapshot now (waits for one already running first). */
  async snapshot(): Promise<void> {
    if (this.closed) throw new IndexStoreError('INDEX_STORE_CLOSED', 'the index store is closed');
    while (this.snapshotting !== undefined) await this.snapshotting;
    this.snapshotting = this.writeSnapshot().finally(() => (this.snapshotting = undefined));
    await this.snapshotting;
  }

  /** Finish pending writes and snapshots and close the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushActive || this.snapshotting !== undefined) {
      await Promise.allSettled([this.flushing, this.snapshotting]);
    }
    await this.segment.close();
  }

  private enqueue(input: IndexOpInput): Promise<IndexChange | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closed)
      return Promise.reject(new IndexStoreError('INDEX_STORE_CLOSED', 'the index store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (!this.flushActive) this.flushing = this.flushLoop();
    });
  }

  private withSegmentLock<T>(task: () => Promise<T>): Promise<T> {
    const run = this.segmentLock.then(task);
    this.segmentLock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Write batches until nothing is pending; each batch is one write and one fdatasync. The
   * loop clears `flushActive` in the same synchronous step that finds the queue empty, so an
   * operation enqueued later always starts a new loop.
   */
  private async flushLoop(): Promise<void> {
    this.flushActive = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        if (this.failure !== undefined) {
          for (const item of batch) item.reject(this.failure);
          continue;
        }
        await this.withSegmentLock(() => this.writeBatch(batch));
        this.maybeSnapshotInBackground();
      }
    } finally {
      this.flushActive = false;
    }
  }

  /** Log a batch durably, then apply it to the index and answer its callers. */
  private async writeBatch(batch: readonly PendingOp[]): Promise<void> {
    const ops = batch.map((item, i): IndexOp => ({ ...item.input, lsn: this.lastLsn + 1 + i }));
    try {
      await writeAll(this.segment, encodeRecords(ops));
      await this.segment.datasync();
    } catch (cause) {
      this.failure = new IndexStoreError(
        'INDEX_STORE_IO',
        'writing the index log failed; reopen the store to recover',
        { cause },
      );
      for (const item of batch) item.reject(this.failure);
      return;
    }
    this.lastLsn += ops.length;
    this.opsSinceSnapshot += ops.length;
    this.batchesWritten += 1;
    this.opsWritten += ops.length;
    ops.forEach((op, i) => batch[i]?.resolve(applyOp(this.index, op)));
  }

  private maybeSnapshotInBackground(): void {
    const every = this.options.snapshotEveryOps ?? 10_000;
    if (this.opsSinceSnapshot < every || this.snapshotting !== undefined || this.closed) return;
    this.snapshotting = this.writeSnapshot()
      .catch((error: unknown) => this.options.onBackgroundError?.(error))
      .finally(() => (this.snapshotting = undefined));
  }

  /**
   * Capture the index at the current LSN and rotate the log so later operations go to a new
   * segment (both under the segment lock, so no batch is between its write and its apply),
   * then write the snapshot durably and delete what it replaces.
   */
  private async writeSnapshot(): Promise<void> {
    const { lsn, docs } = await this.withSegmentLock(() => this.rotate());
    const compressed = await gzip(encodeSnapshot(lsn, docs));
    const temporary = join(this.dir, `${snapshotName(lsn)}.tmp`);
    const handle = await open(temporary, 'w');
    try {
      await writeAll(handle, compressed);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(this.dir, snapshotName(lsn)));
    await fsyncDirectory(this.dir);
    await removeReplacedFiles(this.dir, lsn);
  }

  private async rotate(): Promise<{ lsn: number; docs: StoredDocument[] }> {
    const lsn = this.lastLsn;
    const docs = [...this.index.documents()];
    const next = await open(join(this.dir, segmentName(lsn + 1)), 'a');
    const previous = this.segment;
    this.segment = next;
    this.opsSinceSnapshot = 0;
    await previous.close();
    await fsyncDirectory(this.dir);
    return { lsn, docs };
  }
}

/** Apply a logged operation to an index. */
function applyOp(index: InvertedIndex, op: IndexOp): IndexChange | undefined {
  return op.op === 'add' ? index.add(op.doc) : index.delete(op.doc_id);
}

/** Delete snapshots older than `lsn` and the segments that end at or before it. */
async function removeReplacedFiles(dir: string, lsn: number): Promise<void> {
  for (const name of await readdir(dir)) {
    const parsed = parseFileName(name);
    const replaced =
      parsed !== undefined && (parsed.kind === 'snapshot' ? parsed.lsn < lsn : parsed.lsn <= lsn);
    if (replaced || name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  }
}

interface Recovered {
  index: InvertedIndex;
  lastLsn: number;
  report: RecoveryReport;
  /** Name of the segment to append to, if one exists. */
  lastSegment: string | undefined;
}

async function loadNewestSnapshot(
  dir: string,
  names: readonly string[],
  report: RecoveryReport,
): Promise<{ index: InvertedIndex; lsn: number }> {
  const snapshots = names
    .filter((name) => parseFileName(name)?.kind === 'snapshot')
    .sort()
    .reverse();
  for (const name of snapshots) {
    try {
      const decoded = decodeSnapshot(await gunzip(await readFile(join(dir, name))));
      if (decoded !== undefined) {
        const index = new InvertedIndex();
        for (const doc of decoded.docs) index.add(doc);
        return { index, lsn: decoded.header.lsn };
      }
    } catch {
      // An unreadable snapshot (e.g. damaged on disk) is skipped for an older one.
    }
    report.skippedSnapshots.push(name);
  }
  return { index: new InvertedIndex(), lsn: 0 };
}

/** Load the newest snapshot, replay the log after it and cut a torn tail. */
async function recover(dir: string): Promise<Recovered> {
  const names = await readdir(dir);
  const report: RecoveryReport = {
    snapshotLsn: 0,
    replayedOps: 0,
    truncatedBytes: 0,
    skippedSnapshots: [],
  };
  const { index, lsn } = await loadNewestSnapshot(dir, names, report);
  report.snapshotLsn = lsn;
  let lastLsn = lsn;
  const segments = names.filter((name) => parseFileName(name)?.kind === 'segment').sort();
  for (const [i, name] of segments.entries()) {
    const path = join(dir, name);
    const bytes = await readFile(path);
    const decoded = decodeRecords(bytes);
    if (decoded.stopReason !== undefined && i < segments.length - 1) {
      throw new IndexStoreError(
        'INDEX_LOG_CORRUPT',
        `log segment ${name} is damaged (${decoded.stopReason}) before the last segment`,
      );
    }
    for (const op of decoded.ops) {
      if (op.lsn <= lastLsn) continue;
      if (op.lsn !== lastLsn + 1)
        throw new IndexStoreError(
          'INDEX_LOG_CORRUPT',
          `log gap: expected LSN ${lastLsn + 1}, found ${op.lsn} in ${name}`,
        );
      applyOp(index, op);
      lastLsn = op.lsn;
      report.replayedOps += 1;
    }
    if (decoded.validBytes < bytes.length) {
      report.truncatedBytes = bytes.length - decoded.validBytes;
      const handle = await open(path, 'r+');
      try {
        await handle.truncate(decoded.validBytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  return { index, lastLsn, report, lastSegment: segments.at(-1) };
}
