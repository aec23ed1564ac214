/**
 * Balancer snapshots (distrisearch-balancer.md, "balancer_snapshots.py": save_snapshot,
 * load_snapshot, list_snapshots; compressed): a saved snapshot loaded into a fresh balancer gives
 * the same balancer; a torn or damaged file is rejected and the previous snapshot is used; the
 * newest N are kept; periodic saves happen only when something changed.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../../src/core/clock.js';
import { NotFoundError } from '../../../src/core/errors.js';
import {
  BalancerSnapshotStore,
  DataBalancer,
  SnapshotCorruptError,
  startPeriodicSnapshots,
} from '../../../src/search/balancer/index.js';
import { tempDir, waitFor } from '../../helpers/processes.js';

const dirs: { cleanup: () => void }[] = [];
after(() => dirs.forEach((dir) => dir.cleanup()));

function freshStore(keep?: number): { store: BalancerSnapshotStore; clock: ManualClock } {
  const dir = tempDir('balancer-snap');
  dirs.push(dir);
  const clock = new ManualClock(1_700_000_000_000);
  const store = new BalancerSnapshotStore({
    dataDir: dir.path,
    clock,
    ...(keep === undefined ? {} : { keep }),
  });
  return { store, clock };
}

function sampleBalancer(nodes: number, termsPerNode: number): DataBalancer {
  const balancer = new DataBalancer({ nodeId: 3 });
  for (let node = 0; node < nodes; node++) {
    balancer.heartbeat(
      node,
      `http://127.0.0.1:${9301 + node}`,
      { docCount: 100 + node, termCount: termsPerNode, totalLength: 5000 + node },
      1000,
    );
    const added: Record<string, number> = {};
    for (let t = 0; t < termsPerNode; t++) added[`term${(t * 7 + node) % 997}`] = (t % 5) + 1;
    balancer.updateNodeIndex({ nodeId: node, seq: 10 + node, added, full: true }, 1000);
  }
  balancer.updateNodeIndex({ nodeId: 40, seq: 2, added: { orphan: 1 } }, 1000); // never registered
  return balancer;
}

describe('BalancerSnapshotStore', () => {
  test('save then load into a fresh balancer gives an equal balancer', async () => {
    const { store } = freshStore();
    const original = sampleBalancer(4, 300);
    const info = await store.save(original, 'backup_latest');
    assert.equal(info.name, 'backup_latest');
    assert.ok(info.bytes > 0);
    const restored = new DataBalancer({ nodeId: 3 });
    restored.restore(await store.load('backup_latest'), 1000);
    // Equal in everything but `full_report`: a restored entry always asks for a FULL report,
    // since the snapshot may be older than the node's last updates.
    const withoutFull = (balancer: DataBalancer) => {
      const snapshot = balancer.toSnapshot(1000);
      return { ...snapshot, nodes: snapshot.nodes.map(({ full_report: _, ...node }) => node) };
    };
    assert.deepEqual(withoutFull(restored), withoutFull(original));
    assert.ok(restored.toSnapshot(1000).nodes.every((node) => !node.full_report));
    assert.deepEqual(
      restored.locate(['term1', 'term50', 'orphan'], 1000),
      original.locate(['term1', 'term50', 'orphan'], 1000),
    );
    assert.deepEqual(restored.getStats(1000).doc_count, original.getStats(1000).doc_count);
  });

  test('the file is gzip-compressed JSON in <dataDir>/balancer-snapshots/', async () => {
    const { store } = freshStore();
    await store.save(sampleBalancer(2, 2000));
    const [file] = await readdir(store.dir);
    assert.ok(store.dir.endsWith('balancer-snapshots'));
    assert.match(file ?? '', /^\d{15}-auto-\d+\.json\.gz$/);
    const bytes = await readFile(join(store.dir, file ?? ''));
    const json = gunzipSync(bytes).toString('utf8');
    assert.equal((JSON.parse(json) as { format: string }).format, 'tessera-balancer-snapshot');
    assert.ok(bytes.length * 3 < json.length, `compressed ${bytes.length} of ${json.length}`);
  });

  test('a truncated newest snapshot is rejected and the previous one is used', async () => {
    const { store, clock } = freshStore();
    const older = sampleBalancer(2, 50);
    await store.save(older, 'older');
    clock.advance(60_000);
    const newer = sampleBalancer(3, 50);
    const saved = await store.save(newer, 'newer');
    await truncate(
      join(store.dir, (await readdir(store.dir)).sort().at(-1) ?? ''),
      saved.bytes - 10,
    );

    await assert.rejects(store.load('newer'), SnapshotCorruptError);
    const latest = await store.loadLatest();
    assert.equal(latest?.info.name, 'older');
    assert.equal(latest?.skipped.length, 1);
    assert.equal(latest?.skipped[0]?.name, 'newer');
    const leader = new DataBalancer({ nodeId: 3 });
    const result = await store.restoreLatest(leader);
    assert.deepEqual(result?.restored, [0, 1, 40]);
    assert.deepEqual(leader.toSnapshot(0).nodes.length, older.toSnapshot(0).nodes.length);
  });

  test('a file that is gzip but not a snapshot is rejected as well', async () => {
    const { store } = freshStore();
    await store.save(sampleBalancer(1, 5), 'good');
    const [file] = await readdir(store.dir);
    const { gzipSync } = await import('node:zlib');
    await writeFile(join(store.dir, file ?? ''), gzipSync('{"format":"something else"}'));
    await assert.rejects(store.load('good'), /not a balancer snapshot/);
    assert.equal(await store.loadLatest(), undefined);
    await assert.rejects(store.load('missing'), NotFoundError);
  });

  test('keeps the newest N, replaces a name saved again, and lists newest first', async () => {
    const { store, clock } = freshStore(3);
    const balancer = sampleBalancer(1, 5);
    for (const name of ['a', 'b', 'c', 'd', 'b']) {
      await store.save(balancer, name);
      clock.advance(1000);
    }
    const list = await store.list();
    assert.deepEqual(
      list.map((info) => info.name),
      ['b', 'd', 'c'],
    );
    assert.ok(list.every((info) => info.bytes > 0 && !Number.isNaN(Date.parse(info.created_at))));
    assert.equal((await readdir(store.dir)).length, 3, 'no temporary file left behind');
  });

  test('saves made in the same millisecond stay ordered', async () => {
    const { store } = freshStore();
    const balancer = sampleBalancer(1, 5);
    const infos = await Promise.all([
      store.save(balancer),
      store.save(balancer),
      store.save(balancer),
    ]);
    const times = infos.map((info) => info.created_at_ms);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    assert.equal(new Set(times).size, 3);
    assert.equal((await store.list()).length, 3);
  });

  test('a bad name is refused; an empty data dir lists nothing', async () => {
    const { store } = freshStore();
    await assert.rejects(store.save(new DataBalancer(), '../escape'), /snapshot name/);
    assert.deepEqual(await store.list(), []);
    assert.equal(await store.loadLatest(), undefined);
  });
});

describe('startPeriodicSnapshots', () => {
  test('saves on a tick only when the balancer changed, and only while leading', async () => {
    const { store } = freshStore();
    let balancer: DataBalancer | undefined;
    const periodic = startPeriodicSnapshots({
      store,
      getBalancer: () => balancer,
      intervalMs: 3_600_000, // the test drives ticks itself
    });
    try {
      assert.equal(await periodic.tick(), undefined, 'not leading: nothing saved');
      balancer = sampleBalancer(1, 5);
      assert.ok(await periodic.tick());
      assert.equal(await periodic.tick(), undefined, 'unchanged: nothing saved');
      balancer.updateNodeIndex({ nodeId: 0, seq: 99, added: { fresh: 1 } }, 2000);
      assert.ok(await periodic.tick());
      assert.equal((await store.list()).length, 2);
    } finally {
      await periodic.stop();
    }
  });

  test('the timer saves by itself and stops', async () => {
    const { store } = freshStore();
    const balancer = sampleBalancer(1, 5);
    const saved: string[] = [];
    const periodic = startPeriodicSnapshots({
      store,
      getBalancer: () => balancer,
      intervalMs: 10,
      onSaved: (info) => saved.push(info.name),
    });
    await waitFor('a periodic snapshot', () => saved.length > 0, { timeoutMs: 10_000 });
    await periodic.stop();
    assert.equal(saved.length, 1, 'unchanged balancer: one snapshot, not one per tick');
    assert.equal((await store.list()).length, 1);
  });
});
