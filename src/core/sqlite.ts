import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
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

/**
 * Group commit: writes requested in the same tick share one transaction (one fsync), and each
 * caller's promise resolves once that transaction is durable. Every write runs in its own
 * savepoint, so one failing write rolls back alone and rejects only its own caller. Callers
 * answer their clients after awaiting `commit` (a 2xx means durable).
 */
export class GroupCommitter {
  private queue: { write: () => void; resolve: () => void; reject: (error: unknown) => void }[] =
    [];
  private scheduled = false;

  constructor(private readonly db: SqliteDatabase) {}

  /** Runs `write` in the next group transaction; resolves when it is committed. */
  commit(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs every queued write now (also used at shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: { error?: unknown }[] = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            this.db.transaction(item.write)();
            outcomes.push({});
          } catch (error) {
            outcomes.push({ error: error ?? new Error('write failed') });
          }
        }
      })();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome?.error === undefined) item.resolve();
      else item.reject(outcome.error);
    });
  }
}
