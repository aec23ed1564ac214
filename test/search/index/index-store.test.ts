// Rule (issue 4, "Local inverted index"; DESIGN.md rule 7): the index is persisted as an
// append-only log plus compressed snapshots, so that a node SIGKILLed and restarted has all
// its documents: an acknowledged add or delete is on disk (fsync before the ack), recovery is
// the newest snapshot plus the log after it, and a torn last record (a write cut by SIGKILL)
// is dropped without losing anything acknowledged before it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readdir, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  IndexStore,
  IndexStoreError,
  encodeRecords,
  segmentName,
  type StoredDocument,
} from '../../../src/search/index/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-index-store-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const doc = (doc_id: string, content = `content of ${doc_id}`): StoredDocument => ({
  doc_id,
  content,
  metadata: { source: 'test' },
});

function contents(store: IndexStore): Map<string, StoredDocument> {
  return new Map([...store.index.documents()].map((d) => [d.doc_id, d]));
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('wal-')).sort();
}

describe('index store', () => {
  test('adds and deletes survive a reopen', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir);
    await store.addMany([doc('a'), doc('b'), doc('c')]);
    await store.add(doc('b', 'replaced content'));
    assert.deepEqual(await store.delete('c'), { termsAdded: [], termsRemoved: ['c'] });
    assert.equal(await store.delete('never-added'), undefined);
    const before = contents(store);
    await store.close();

    const reopened = await IndexStore.open(dir);
    assert.deepEqual(contents(reopened), before);
    assert.equal(reopened.index.get('b')?.content, 'replaced content');
    assert.equal(reopened.lsn, 6);
    assert.deepEqual(reopened.recovery, {
      snapshotLsn: 0,
      replayedOps: 6,
      truncatedBytes: 0,
      skippedSnapshots: [],
    });
    await reopened.close();
  });

  test('concurrent writes are group-committed: fewer fsyncs than operations', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir);
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.add(doc(`d${i}`))));
    assert.equal(store.writeStats.ops, 200);
    assert.ok(store.writeStats.batches <= 2, `batches: ${store.writeStats.batches}`);
    await store.close();
  });

  test('a torn last record is cut; everything before it and after the repair stays', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir);
    await store.addMany([doc('a'), doc('b')]);
    await store.close();
    const [segment] = await segmentFiles(dir);
    assert.ok(segment !== undefined);
    const whole = encodeRecords([{ lsn: 3, op: 'add', doc: doc('torn') }]);
    await appendFile(join(dir, segment), whole.subarray(0, whole.length - 5));

    const recovered = await IndexStore.open(dir);
    assert.deepEqual([...contents(recovered).keys()], ['a', 'b']);
    assert.equal(recovered.recovery.truncatedBytes, whole.length - 5);
    await recovered.add(doc('after-repair'));
    await recovered.close();

    const again = await IndexStore.open(dir);
    assert.deepEqual([...contents(again).keys()], ['a', 'b', 'after-repair']);
    assert.equal(again.recovery.truncatedBytes, 0);
    await again.close();
  });

  test('a last record with a bad checksum or a cut header is cut too', async () => {
    for (const damage of ['checksum', 'header'] as const) {
      const dir = await tempDir();
      const store = await IndexStore.open(dir);
      await store.add(doc('kept'));
      await store.close();
      const [segment] = await segmentFiles(dir);
      const path = join(dir, segment as string);
      const record = encodeRecords([{ lsn: 2, op: 'delete', doc_id: 'kept' }]);
      const at = record.length - 2;
      if (damage === 'checksum') record.writeUInt8(record.readUInt8(at) ^ 0xff, at);
      await appendFile(path, damage === 'checksum' ? record : record.subarray(0, 3));
      const sizeBefore = (await stat(path)).size;
      const recovered = await IndexStore.open(dir);
      assert.deepEqual([...contents(recovered).keys()], ['kept'], damage);
      assert.equal((await stat(path)).size, sizeBefore - recovered.recovery.truncatedBytes);
      await recovered.close();
    }
  });

  test('damage before the last segment is reported, not silently skipped', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir);
    await store.add(doc('a'));
    await store.close();
    const [segment] = await segmentFiles(dir);
    await appendFile(join(dir, segment as string), Buffer.from([0, 0, 0, 9, 1]));
    await writeFile(
      join(dir, segmentName(99)),
      encodeRecords([{ lsn: 99, op: 'delete', doc_id: 'a' }]),
    );
    await assert.rejects(
      IndexStore.open(dir),
      (error: unknown) => error instanceof IndexStoreError && error.code === 'INDEX_LOG_CORRUPT',
    );
  });

  test('snapshot + log tail: recovery replays only what follows the snapshot', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir);
    await store.addMany(Array.from({ length: 50 }, (_, i) => doc(`s${i}`)));
    await store.snapshot();
    await store.add(doc('t1'));
    await store.delete('s3');
    const expected = contents(store);
    await store.close();
    const files = (await readdir(dir)).sort();
    assert.deepEqual(files, ['snapshot-0000000000000050.jsonl.gz', segmentName(51)]);

    const reopened = await IndexStore.open(dir);
    assert.deepEqual(contents(reopened), expected);
    assert.deepEqual(reopened.recovery, {
      snapshotLsn: 50,
      replayedOps: 2,
      truncatedBytes: 0,
      skippedSnapshots: [],
    });
    await reopened.close();
  });

  test('a damaged newest snapshot falls back to the older one and the full log', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir);
    await store.add(doc('a'));
    await store.close();
    // A snapshot that claims LSN 5 but is garbage must not shadow the log.
    await writeFile(join(dir, 'snapshot-0000000000000005.jsonl.gz'), Buffer.from('not gzip'));
    const recovered = await IndexStore.open(dir);
    assert.deepEqual([...contents(recovered).keys()], ['a']);
    assert.deepEqual(recovered.recovery.skippedSnapshots, ['snapshot-0000000000000005.jsonl.gz']);
    await recovered.close();
  });

  test('snapshots are taken in the background every N operations', async () => {
    const dir = await tempDir();
    const store = await IndexStore.open(dir, { snapshotEveryOps: 10 });
    for (let i = 0; i < 25; i += 1) await store.add(doc(`b${i}`));
    await store.close();
    const snapshots = (await readdir(dir)).filter((name) => name.startsWith('snapshot-'));
    assert.equal(snapshots.length, 1, 'older snapshots are deleted');
    const reopened = await IndexStore.open(dir);
    assert.equal(reopened.index.docCount, 25);
    assert.ok(reopened.recovery.snapshotLsn >= 10);
    await reopened.close();
  });

  test('a closed store refuses writes', async () => {
    const store = await IndexStore.open(await tempDir());
    await store.close();
    await assert.rejects(
      store.add(doc('late')),
      (error: unknown) => error instanceof IndexStoreError && error.code === 'INDEX_STORE_CLOSED',
    );
  });
});

interface ChildLog {
  acked: Set<string>;
  deleted: Set<string>;
}

/** Run the writer until it has acknowledged `acks` adds, then SIGKILL it. */
async function runWriterAndKill(dir: string, acks: number): Promise<ChildLog> {
  const writer = join(import.meta.dirname, 'fixtures', 'index-writer.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', writer, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const log: ChildLog = { acked: new Set(), deleted: new Set() };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  for await (const line of createInterface({ input: child.stdout })) {
    const [kind, id, outcome] = line.split(' ');
    if (kind === 'ack' && id !== undefined) log.acked.add(id);
    if (kind === 'del' && id !== undefined && outcome === 'gone') log.deleted.add(id);
    if (log.acked.size >= acks) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  clearTimeout(deadline);
  return log;
}

describe('index store under SIGKILL', () => {
  test('every acknowledged write survives repeated kills of a writing process', async () => {
    const dir = await tempDir();
    for (const acks of [100, 250, 150]) {
      const log = await runWriterAndKill(dir, acks);
      assert.ok(log.acked.size >= acks, 'the writer made progress');
      const store = await IndexStore.open(dir);
      for (const id of log.acked) {
        // doc-N-0 may have been deleted by a delete issued but not yet acknowledged.
        if (!id.endsWith('-0')) assert.ok(store.index.has(id), `acknowledged ${id} lost`);
      }
      for (const id of log.deleted)
        assert.equal(store.index.has(id), false, `acknowledged delete of ${id} lost`);
      await store.close();
    }
    const names = await readdir(dir);
    assert.ok(
      names.some((name) => name.startsWith('snapshot-')),
      'the writer took snapshots',
    );
    const snapshot = names.find((name) => name.startsWith('snapshot-')) as string;
    assert.ok((await readFile(join(dir, snapshot))).length > 0);
  });
});
