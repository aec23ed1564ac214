// Rule checked (DESIGN.md rule 7, "Nothing acknowledged is lost"): metadata databases run in
// WAL mode with synchronous=FULL, so a committed transaction survives a crash; schema
// migrations are applied once each, in order, tracked by `user_version`; reopening runs none
// again; a database written by a newer Tessera (more migrations than this code knows) is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type SqliteDatabase } from '../../src/core/sqlite.js';

const MIGRATIONS = [
  'CREATE TABLE log (n INTEGER PRIMARY KEY, step TEXT NOT NULL);',
  "INSERT INTO log (step) VALUES ('second');",
  "ALTER TABLE log ADD COLUMN note TEXT; INSERT INTO log (step, note) VALUES ('third', 'x');",
];

describe('openDatabase', () => {
  let dir: string;
  const open: SqliteDatabase[] = [];
  const openAt = (path: string, migrations: readonly string[]): SqliteDatabase => {
    const db = openDatabase(path, migrations);
    open.push(db);
    return db;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-'));
  });
  after(() => {
    for (const db of open) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('WAL journal, synchronous FULL and foreign keys are on', () => {
    const db = openAt(join(dir, 'pragmas.db'), MIGRATIONS);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL is 2');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  });

  test('creates missing parent directories', () => {
    const db = openAt(join(dir, 'a', 'b', 'nested.db'), MIGRATIONS);
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  });

  test('migrations run once each, in order', () => {
    const db = openAt(join(dir, 'order.db'), MIGRATIONS);
    assert.equal(db.pragma('user_version', { simple: true }), 3);
    const rows = db.prepare('SELECT step, note FROM log ORDER BY n').all();
    assert.deepEqual(rows, [
      { step: 'second', note: null },
      { step: 'third', note: 'x' },
    ]);
  });

  test('reopening runs no migration again; a new one is applied alone', () => {
    const path = join(dir, 'reopen.db');
    openAt(path, MIGRATIONS.slice(0, 2)).close();
    const db = openAt(path, MIGRATIONS.slice(0, 2));
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM log').get(), { n: 1 });
    db.close();
    const upgraded = openAt(path, MIGRATIONS);
    assert.equal(upgraded.pragma('user_version', { simple: true }), 3);
    assert.deepEqual(upgraded.prepare('SELECT count(*) AS n FROM log').get(), { n: 2 });
  });

  test('a failing migration is rolled back and leaves the version where it was', () => {
    const path = join(dir, 'failing.db');
    const broken = [
      ...MIGRATIONS.slice(0, 1),
      "INSERT INTO log (step) VALUES ('half'); SELECT * FROM missing;",
    ];
    assert.throws(() => openDatabase(path, broken), /no such table: missing/);
    const db = openAt(path, MIGRATIONS.slice(0, 1));
    assert.equal(db.pragma('user_version', { simple: true }), 1);
    assert.deepEqual(
      db.prepare('SELECT count(*) AS n FROM log').get(),
      { n: 0 },
      'the half-run insert is gone',
    );
  });

  test('a database newer than the code is refused', () => {
    const path = join(dir, 'newer.db');
    openAt(path, MIGRATIONS).close();
    assert.throws(
      () => openDatabase(path, MIGRATIONS.slice(0, 2)),
      /schema version 3 is newer than this Tessera \(2\)/,
    );
  });

  test('committed rows are visible to a second connection after close and reopen', () => {
    const path = join(dir, 'durable.db');
    const db = openAt(path, MIGRATIONS);
    db.prepare("INSERT INTO log (step) VALUES ('committed')").run();
    const reader = openAt(path, MIGRATIONS);
    assert.deepEqual(
      reader.prepare("SELECT count(*) AS n FROM log WHERE step = 'committed'").get(),
      { n: 1 },
    );
  });

  test(':memory: is accepted', () => {
    const db = openAt(':memory:', MIGRATIONS);
    assert.equal(db.pragma('user_version', { simple: true }), 3);
  });
});
