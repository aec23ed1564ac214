// Group commit (src/core/sqlite.ts): writes queued while a group is syncing share the next
// transaction; each caller resolves only after its group is committed and the WAL synced; a
// failing write rejects alone; close() writes and syncs whatever is still queued.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GroupCommitter, openDatabase, type SqliteDatabase } from '../../src/core/sqlite.js';

const MIGRATIONS = ['CREATE TABLE items (n INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE);'];

describe('GroupCommitter', () => {
  let dir: string;
  const open: SqliteDatabase[] = [];
  const openAt = (name: string): SqliteDatabase => {
    const db = openDatabase(join(dir, name), MIGRATIONS);
    open.push(db);
    return db;
  };
  const count = (db: SqliteDatabase): number =>
    (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-group-commit-'));
  });
  after(() => {
    for (const db of open) if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a file database commits without an in-line fsync; the committer syncs the WAL', () => {
    const db = openAt('mode.db');
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL before the committer');
    const committer = new GroupCommitter(db);
    assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL under the committer');
    committer.close();
  });

  test('writes arriving during a sync wait for the next group; all become visible', async () => {
    const db = openAt('many.db');
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO items (label) VALUES (?)');
    const events: string[] = [];
    const track = (label: string): Promise<void> =>
      committer
        .commit(() => {
          events.push(`write ${label}`);
          insert.run(label);
        })
        .then(() => void events.push(`ack ${label}`));
    const early = Array.from({ length: 500 }, (_unused, index) => track(`early-${index}`));
    // Queued after the first group's transaction has run, while its WAL sync is in flight.
    const late = new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        Promise.all(Array.from({ length: 50 }, (_unused, index) => track(`late-${index}`))).then(
          () => resolve(),
          reject,
        );
      });
    });
    await Promise.all([...early, late]);
    const firstEarlyAck = events.indexOf('ack early-0');
    const lastEarlyWrite = events.indexOf('write early-499');
    const firstLateWrite = events.indexOf('write late-0');
    assert.ok(lastEarlyWrite < firstEarlyAck, 'the first group is one transaction, acked after');
    assert.ok(firstEarlyAck < firstLateWrite, 'late writes form the next group');
    assert.ok(
      events.indexOf('ack early-499') < firstLateWrite,
      'the whole first group is acknowledged before the next one runs',
    );
    assert.equal(count(openAt('many.db')), 550);
    committer.close();
  });

  test('a failing write rejects alone; the rest of its group commits', async () => {
    const db = openAt('failing.db');
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO items (label) VALUES (?)');
    const outcomes = await Promise.allSettled([
      committer.commit(() => void insert.run('a')),
      committer.commit(() => {
        insert.run('b');
        insert.run('a'); // violates UNIQUE: this write's savepoint rolls back, 'b' included
      }),
      committer.commit(() => void insert.run('c')),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    const labels = db.prepare('SELECT label FROM items ORDER BY label').pluck().all();
    assert.deepEqual(labels, ['a', 'c']);
    committer.close();
  });

  test('close writes and syncs queued writes; later commits are refused', async () => {
    const db = openAt('close.db');
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO items (label) VALUES (?)');
    const pending = committer.commit(() => void insert.run('queued'));
    committer.close();
    await pending;
    db.close();
    assert.equal(count(openAt('close.db')), 1);
    await assert.rejects(
      committer.commit(() => undefined),
      /closed/,
    );
  });

  test('an in-memory database needs no sync', async () => {
    const db = openDatabase(':memory:', MIGRATIONS);
    const committer = new GroupCommitter(db);
    await committer.commit(() => void db.prepare("INSERT INTO items (label) VALUES ('m')").run());
    assert.equal(count(db), 1);
    committer.close();
    db.close();
  });
});
