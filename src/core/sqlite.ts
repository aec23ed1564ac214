import Database from 'better-sqlite3';
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * Opens an SQLite database for metadata (DESIGN.md, rule 7): WAL journal, `synchronous=FULL`
 * so a committed transaction survives a crash or power loss, foreign keys on, and the given
 * migrations applied in order (tracked by `PRAGMA user_version`). `:memory:` is accepted.
 *
 * Each migration is a SQL script run once, inside a transaction; append new ones, never edit.
 */
export function openDatabase(path: string, migrations: readonly string[]): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    migrate(db, migrations);
  } catch (error) {
    db.close(); // a refused or failed open must not leak the connection (and its file lock)
    throw error;
  }
  return db;
}

function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this Tessera (${migrations.length}); upgrade Tessera`,
    );
  }
  for (let version = current; version < migrations.length; version += 1) {
    const script = migrations[version] ?? '';
    db.transaction(() => {
      db.exec(script);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

interface QueuedWrite {
  readonly write: () => void;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** A write that ran inside a committed transaction, waiting for the sync that makes it durable. */
interface CommittedWrite {
  readonly item: QueuedWrite;
  readonly error?: unknown;
}

/**
 * Group commit: writes requested while the previous group is being synced share one
 * transaction and one sync, and each caller's promise resolves once that group is durable.
 * One failing write rolls back alone and rejects only its own caller (see `writeGroup`). Callers answer their clients after awaiting `commit` (a 2xx means
 * durable).
 *
 * The sync runs off the event loop. With `synchronous=FULL` SQLite fsyncs the WAL inside
 * every commit, and better-sqlite3 is synchronous, so the whole process would stand still for
 * each disk flush. Instead the database runs with `synchronous=NORMAL` (commits write the WAL
 * but do not flush it; checkpoints still sync) and the committer `fdatasync`s the WAL file on
 * libuv's thread pool before resolving the group: the same guarantee for the writes it
 * acknowledges, while the process keeps serving requests and queueing the next group. A read
 * may see a committed write a few milliseconds before it is durable; no write is acknowledged
 * before it is. In-memory databases have nothing to sync.
 */
export class GroupCommitter {
  private queue: QueuedWrite[] = [];
  private scheduled = false;
  private syncing = false;
  private walFd: number | undefined;
  private closed = false;
  private readonly walPath: string | undefined;

  constructor(private readonly db: SqliteDatabase) {
    const wal = !db.memory && db.pragma('journal_mode', { simple: true }) === 'wal';
    this.walPath = wal ? `${db.name}-wal` : undefined;
    if (wal) db.pragma('synchronous = NORMAL');
  }

  /** Runs `write` in the next group transaction; resolves when it is durable. */
  commit(write: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.schedule();
    });
  }

  /** Writes and syncs every queued write now, synchronously (at shutdown). */
  flush(): void {
    const committed = this.writeGroup();
    if (committed.length === 0) return;
    if (this.walPath !== undefined) fdatasyncSync(this.openWal());
    settle(committed);
  }

  /** Flushes, then releases the WAL file handle (once no sync is in flight). */
  close(): void {
    this.flush();
    this.closed = true;
    if (!this.syncing) this.closeWal();
  }

  private schedule(): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.syncGroup(this.writeGroup());
    });
  }

  /**
   * Runs the queued writes in one transaction; answers them for the sync. The common case, no
   * write failing, runs them plainly; only when one throws is the group rolled back and run
   * again with a savepoint per write (two more statements each), so that the failing write
   * rolls back alone. A write must therefore only run statements: it may run twice.
   */
  private writeGroup(): CommittedWrite[] {
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return [];
    try {
      this.db.transaction(() => {
        for (const item of group) item.write();
      })();
      return group.map((item) => ({ item }));
    } catch {
      // Rolled back as a whole: find the failing writes one savepoint at a time.
    }
    const committed: CommittedWrite[] = [];
    try {
      this.db.transaction(() => {
        for (const item of group) {
          try {
            this.db.transaction(item.write)();
            committed.push({ item });
          } catch (error) {
            committed.push({ item, error: error ?? new Error('write failed') });
          }
        }
      })();
    } catch (error) {
      for (const item of group) item.reject(error);
      return [];
    }
    return committed;
  }

  private syncGroup(committed: CommittedWrite[]): void {
    if (committed.length === 0) return;
    if (this.walPath === undefined) {
      settle(committed);
      return;
    }
    this.syncing = true;
    fdatasync(this.openWal(), (error) => {
      this.syncing = false;
      settle(committed, error ?? undefined);
      if (this.closed) this.closeWal();
      else if (this.queue.length > 0) this.schedule();
    });
  }

  private openWal(): number {
    // The WAL file exists once a transaction has been committed in WAL mode, and keeps its
    // inode for the life of the connection (checkpoints rewind or truncate it in place).
    this.walFd ??= openSync(this.walPath ?? '', 'r');
    return this.walFd;
  }

  private closeWal(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }
}

/** Resolves or rejects each write: its own error first, then the group's sync error. */
function settle(committed: readonly CommittedWrite[], syncError?: unknown): void {
  for (const { item, error } of committed) {
    if (error !== undefined) item.reject(error);
    else if (syncError !== undefined) item.reject(syncError);
    else item.resolve();
  }
}
