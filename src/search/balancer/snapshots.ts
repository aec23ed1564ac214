/**
 * Balancer snapshots on disk (distrisearch-balancer.md, "balancer_snapshots.py": save, load,
 * list; "Mejoras futuras": compressed snapshots). The I/O edge of the balancer.
 *
 * - Files: `<dataDir>/balancer-snapshots/<created_at_ms, 15 digits>-<name>.json.gz`, gzip JSON
 *   (snapshot-format.ts). The time in the file name orders them without opening them.
 * - Atomic: written to a temporary file, fsynced, renamed, then the directory is fsynced; a
 *   crash leaves the old snapshot or the new one, never half of one. gzip's CRC-32 and length
 *   trailer plus the schema check reject a torn or damaged file.
 * - Kept: the newest `keep` (default 5); saving a name again replaces the older file of it.
 * - Periodic (default every 60 s, only when the balancer changed) and on demand.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { fsyncDirectory, writeDurably } from '../../core/durable-files.js';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { systemClock, type Clock } from '../../core/clock.js';
import { BadRequestError, NotFoundError } from '../../core/errors.js';
import type { DataBalancer } from './data-balancer.js';
import type { SearchNodeId } from './global-index.js';
import { checkSnapshot, SNAPSHOT_NAME_PATTERN, type BalancerSnapshot } from './snapshot-format.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** The folder of the snapshots inside a data dir. */
export const SNAPSHOT_SUBDIR = 'balancer-snapshots';
/** Snapshots kept by default. */
export const DEFAULT_SNAPSHOTS_KEPT = 5;
/** Default period of automatic snapshots. */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 60_000;

const NAME_RE = new RegExp(SNAPSHOT_NAME_PATTERN);
const FILE_RE = /^(\d{15})-([A-Za-z0-9][A-Za-z0-9._-]{0,99})\.json\.gz$/;
const TEMP_SUFFIX = '.tmp';

/** A snapshot file as `list()` reports it. */
export interface SnapshotInfo {
  readonly name: string;
  /** ISO 8601 time of creation. */
  readonly created_at: string;
  readonly created_at_ms: number;
  /** Compressed size. */
  readonly bytes: number;
}

/** A snapshot file that could not be read: truncated, corrupted or not a snapshot. */
export class SnapshotCorruptError extends Error {
  readonly code = 'BALANCER_SNAPSHOT_CORRUPT';

  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`balancer snapshot ${file} is unreadable: ${detail}`, options);
    this.name = 'SnapshotCorruptError';
  }
}

export interface BalancerSnapshotStoreOptions {
  /** The service's data dir; snapshots go to `<dataDir>/balancer-snapshots/`. */
  readonly dataDir: string;
  /** Snapshots kept (default 5; at least 1). */
  readonly keep?: number;
  readonly clock?: Clock;
}

/** The result of `loadLatest`: the newest readable snapshot and the files skipped on the way. */
export interface LatestSnapshot {
  readonly info: SnapshotInfo;
  readonly snapshot: BalancerSnapshot;
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
}

interface SnapshotFile {
  readonly file: string;
  readonly name: string;
  readonly createdAtMs: number;
}

function parseFile(file: string): SnapshotFile | undefined {
  const match = FILE_RE.exec(file);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { file, name: match[2], createdAtMs: Number(match[1]) };
}

function newestFirst(a: SnapshotFile, b: SnapshotFile): number {
  return b.createdAtMs - a.createdAtMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
}

/** Saves, loads and lists the balancer snapshots of one data dir. */
export class BalancerSnapshotStore {
  /** The folder holding the snapshot files. */
  readonly dir: string;
  private readonly keep: number;
  private readonly clock: Clock;
  /** Saves run one at a time (a bounded queue of the callers' promises). */
  private saving: Promise<unknown> = Promise.resolve();

  constructor(options: BalancerSnapshotStoreOptions) {
    this.dir = join(options.dataDir, SNAPSHOT_SUBDIR);
    this.keep = options.keep ?? DEFAULT_SNAPSHOTS_KEPT;
    this.clock = options.clock ?? systemClock;
    if (!Number.isSafeInteger(this.keep) || this.keep < 1) {
      throw new RangeError(`keep must be a positive integer, got ${this.keep}`);
    }
  }

  /**
   * Writes a snapshot of `balancer` atomically and prunes old ones. Without a name, the name is
   * `auto-<created_at_ms>`. A name must match SNAPSHOT_NAME_PATTERN (else BadRequestError).
   */
  async save(balancer: DataBalancer, name?: string): Promise<SnapshotInfo> {
    if (name !== undefined && !NAME_RE.test(name)) {
      throw new BadRequestError(`snapshot name must match ${SNAPSHOT_NAME_PATTERN}`, { name });
    }
    const run = this.saving.then(() => this.saveNow(balancer, name));
    this.saving = run.catch(() => undefined);
    return run;
  }

  /** Reads the newest snapshot called `name`; NotFoundError or SnapshotCorruptError. */
  async load(name: string): Promise<BalancerSnapshot> {
    const file = (await this.files()).find((entry) => entry.name === name);
    if (file === undefined) throw new NotFoundError(`no balancer snapshot named ${name}`);
    return this.read(file.file);
  }

  /** The newest snapshot that reads back whole, skipping damaged ones; undefined if none. */
  async loadLatest(): Promise<LatestSnapshot | undefined> {
    const skipped: { name: string; reason: string }[] = [];
    for (const file of await this.files()) {
      try {
        const snapshot = await this.read(file.file);
        const info = await this.infoOf(file);
        return { info, snapshot, skipped };
      } catch (error) {
        if (!(error instanceof SnapshotCorruptError)) throw error;
        skipped.push({ name: file.name, reason: error.message });
      }
    }
    return undefined;
  }

  /**
   * Loads the newest readable snapshot into `balancer` (see `DataBalancer.restore`): what a new
   * leader does before the nodes' FULL reports arrive. Answers what was loaded, if anything.
   */
  async restoreLatest(
    balancer: DataBalancer,
    liveNodeIds?: Iterable<SearchNodeId>,
  ): Promise<(LatestSnapshot & { readonly restored: SearchNodeId[] }) | undefined> {
    const latest = await this.loadLatest();
    if (latest === undefined) return undefined;
    const restored = balancer.restore(latest.snapshot, this.clock.nowMs(), liveNodeIds);
    return { ...latest, restored };
  }

  /** The snapshots on disk, newest first. */
  async list(): Promise<SnapshotInfo[]> {
    const infos: SnapshotInfo[] = [];
    for (const file of await this.files()) {
      try {
        infos.push(await this.infoOf(file));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // pruned meanwhile
      }
    }
    return infos;
  }

  private async saveNow(balancer: DataBalancer, name: string | undefined): Promise<SnapshotInfo> {
    await mkdir(this.dir, { recursive: true });
    const existing = await this.files();
    const createdAtMs = Math.max(this.clock.nowMs(), (existing[0]?.createdAtMs ?? -1) + 1);
    const snapshotName = name ?? `auto-${createdAtMs}`;
    const file = `${String(createdAtMs).padStart(15, '0')}-${snapshotName}.json.gz`;
    const bytes = await gzip(JSON.stringify(balancer.toSnapshot(createdAtMs)));
    const temporary = join(this.dir, `${file}${TEMP_SUFFIX}`);
    await writeDurably(temporary, bytes);
    await rename(temporary, join(this.dir, file));
    await fsyncDirectory(this.dir);
    await this.prune(file, snapshotName, existing);
    return {
      name: snapshotName,
      created_at: new Date(createdAtMs).toISOString(),
      created_at_ms: createdAtMs,
      bytes: bytes.length,
    };
  }

  /** Deletes older files of the same name, then all but the newest `keep`, then stray temps. */
  private async prune(
    written: string,
    name: string,
    existing: readonly SnapshotFile[],
  ): Promise<void> {
    const others = existing.filter((entry) => entry.file !== written);
    const replaced = others.filter((entry) => entry.name === name);
    const survivors = others.filter((entry) => entry.name !== name);
    const excess = survivors.slice(Math.max(0, this.keep - 1));
    for (const entry of [...replaced, ...excess])
      await rm(join(this.dir, entry.file), { force: true });
    for (const entry of await readdir(this.dir)) {
      if (entry.endsWith(TEMP_SUFFIX)) await rm(join(this.dir, entry), { force: true });
    }
  }

  private async files(): Promise<SnapshotFile[]> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files = entries.map(parseFile).filter((entry) => entry !== undefined);
    return files.sort(newestFirst);
  }

  private async infoOf(file: SnapshotFile): Promise<SnapshotInfo> {
    const { size } = await stat(join(this.dir, file.file));
    return {
      name: file.name,
      created_at: new Date(file.createdAtMs).toISOString(),
      created_at_ms: file.createdAtMs,
      bytes: size,
    };
  }

  private async read(file: string): Promise<BalancerSnapshot> {
    const compressed = await readFile(join(this.dir, file));
    let parsed: unknown;
    try {
      parsed = JSON.parse((await gunzip(compressed)).toString('utf8'));
    } catch (error) {
      throw new SnapshotCorruptError(file, (error as Error).message, { cause: error });
    }
    const checked = checkSnapshot(parsed);
    if (!checked.ok) throw new SnapshotCorruptError(file, checked.reason);
    return checked.snapshot;
  }
}

export interface PeriodicSnapshotOptions {
  readonly store: BalancerSnapshotStore;
  /** The balancer while this node leads, undefined otherwise (then nothing is saved). */
  readonly getBalancer: () => DataBalancer | undefined;
  /** Period (default 60 s). */
  readonly intervalMs?: number;
  /** Called with a failed save's error; the timer keeps running. */
  readonly onError?: (error: unknown) => void;
  readonly onSaved?: (info: SnapshotInfo) => void;
}

/** A running periodic snapshot timer. */
export interface PeriodicSnapshots {
  /** Stops the timer and waits for a save in progress. */
  stop(): Promise<void>;
  /** Saves now if the balancer changed since the last save (what each tick does). */
  tick(): Promise<SnapshotInfo | undefined>;
}

/**
 * Saves a snapshot every `intervalMs` while this node holds a balancer that changed since the
 * last save. One save at a time; the next tick is scheduled after the previous one ends.
 */
export function startPeriodicSnapshots(options: PeriodicSnapshotOptions): PeriodicSnapshots {
  const intervalMs = options.intervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
  let saved: { balancer: DataBalancer; revision: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const tick = async (): Promise<SnapshotInfo | undefined> => {
    const balancer = options.getBalancer();
    if (balancer === undefined) return undefined;
    const revision = balancer.revision;
    if (saved?.balancer === balancer && saved.revision === revision) return undefined;
    const info = await options.store.save(balancer);
    saved = { balancer, revision };
    options.onSaved?.(info);
    return info;
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    tick,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await running;
    },
  };
}
