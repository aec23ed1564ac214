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
  migrate(db, migrations);
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
