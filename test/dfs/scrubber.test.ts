// Rule (dfs-architecture.md, "Verificación de Integridad": scrubbing "verifica todos los chunks
// almacenados para detectar corrupción silenciosa"; issue 3): a background scrubber verifies
// every chunk at a configurable rate and reports corrupt ones in the next heartbeat.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as pause } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { ChunkStore } from '../../src/dfs/datanode/chunk-store.js';
import { realSleep, Scrubber, TokenBucket, type Sleep } from '../../src/dfs/datanode/scrubber.js';
import type { ChunkId } from '../../src/dfs/meta/types.js';

const KiB = 1024;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-scrubber-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A sleep that moves the manual clock instead of waiting, recording each wait. */
function fakeSleep(clock: ManualClock, waits: number[] = []): Sleep {
  return async (ms) => {
    waits.push(ms);
    clock.advance(ms);
  };
}

async function storeWith(
  count: number,
  bytes: number,
): Promise<{ store: ChunkStore; ids: ChunkId[] }> {
  const store = await ChunkStore.open(await mkdtemp(join(root, 'dn-')));
  const ids: ChunkId[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID() as ChunkId;
    await store.writeChunk(id, Readable.from([randomBytes(bytes)]));
    ids.push(id);
  }
  return { store, ids: ids.sort() };
}

/** Polls `condition` until it holds; fails after a real-time deadline. */
async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) assert.fail('condition not reached before the deadline');
    await pause(1);
  }
}

async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, offset);
  one[0] = (one[0] ?? 0) ^ 0x80;
  await fh.write(one, 0, 1, offset);
  await fh.close();
}

describe('TokenBucket', () => {
  test('takes within the burst return at once; beyond it, waits for the debt at the rate', async () => {
    const clock = new ManualClock(0);
    const waits: number[] = [];
    const bucket = new TokenBucket(1000, 500, clock, fakeSleep(clock, waits));
    await bucket.take(500);
    assert.deepEqual(waits, []);
    await bucket.take(2000);
    assert.deepEqual(waits, [2000]);
    clock.advance(10_000); // idle time refills only up to the burst
    await bucket.take(500);
    await bucket.take(100);
    assert.deepEqual(waits, [2000, 100]);
  });

  test('rejects a rate that is not positive', () => {
    const clock = new ManualClock(0);
    assert.throws(() => new TokenBucket(0, 1, clock, fakeSleep(clock)), RangeError);
  });
});

describe('Scrubber', () => {
  test('one flipped byte: the pass reports that chunk, and only it', async () => {
    const { store, ids } = await storeWith(5, 100 * KiB);
    const victim = ids[2] as ChunkId;
    await flipByte(store.chunkPath(victim), 70 * KiB);
    const clock = new ManualClock(0);
    const found: ChunkId[] = [];
    const scrubber = new Scrubber(store, {
      rateBytesPerSecond: 10 * 1024 * KiB,
      clock,
      sleep: fakeSleep(clock),
      onCorrupt: (id) => found.push(id),
    });
    const report = await scrubber.scrubOnce();
    assert.deepEqual(report.corrupt, [victim]);
    assert.equal(report.checked, 5);
    assert.deepEqual(found, [victim]);
    assert.deepEqual(scrubber.pendingCorrupt(), [victim]);
    assert.deepEqual(scrubber.stats(), {
      passes: 1,
      chunksChecked: 5,
      bytesChecked: report.bytes,
      corruptFound: 1,
    });
  });

  test('reports stay pending until acknowledged, and are dropped once the chunk is rewritten', async () => {
    const { store, ids } = await storeWith(2, 10 * KiB);
    const [bad, readPathBad] = ids as [ChunkId, ChunkId];
    await flipByte(store.chunkPath(bad), 5);
    const clock = new ManualClock(0);
    const scrubber = new Scrubber(store, {
      rateBytesPerSecond: 1e9,
      clock,
      sleep: fakeSleep(clock),
    });
    scrubber.report(readPathBad); // as the datanode does when a read fails
    await scrubber.scrubOnce();
    // readPathBad verifies ok now (it was never really corrupt here): its report is dropped.
    assert.deepEqual(scrubber.pendingCorrupt(), [bad]);
    scrubber.acknowledge([bad]);
    assert.deepEqual(scrubber.pendingCorrupt(), []);
    await scrubber.scrubOnce();
    assert.deepEqual(scrubber.pendingCorrupt(), [bad]);
    await store.writeChunk(bad, Readable.from([randomBytes(10 * KiB)]));
    await scrubber.scrubOnce();
    assert.deepEqual(scrubber.pendingCorrupt(), []);
  });

  test('the rate limit holds: 2 MiB at 512 KiB/s takes (2 MiB - burst) / rate on the clock', async () => {
    const { store } = await storeWith(8, 256 * KiB);
    const clock = new ManualClock(1_000_000);
    const rate = 512 * KiB;
    const burst = 64 * KiB;
    const scrubber = new Scrubber(store, {
      rateBytesPerSecond: rate,
      burstBytes: burst,
      clock,
      sleep: fakeSleep(clock),
    });
    const report = await scrubber.scrubOnce();
    assert.equal(report.bytes, 8 * 256 * KiB);
    const expectedMs = ((report.bytes - burst) / rate) * 1000;
    assert.ok(
      Math.abs(report.durationMs - expectedMs) <= 10,
      `${report.durationMs} ms, expected ${expectedMs}`,
    );
  });

  test('a chunk deleted during the pass is neither corrupt nor counted', async () => {
    const { store, ids } = await storeWith(2, KiB);
    const ghost = randomUUID() as ChunkId;
    const racing = {
      listChunks: async () => [...(await store.listChunks()), { chunkId: ghost, size: 1 }],
      verifyChunk: store.verifyChunk.bind(store),
    };
    const clock = new ManualClock(0);
    const scrubber = new Scrubber(racing, {
      rateBytesPerSecond: 1e9,
      clock,
      sleep: fakeSleep(clock),
    });
    const report = await scrubber.scrubOnce();
    assert.equal(report.checked, ids.length);
    assert.deepEqual(report.corrupt, []);
  });

  test('the background loop runs passes until stopped, and survives a failing pass', async () => {
    const { store } = await storeWith(1, KiB);
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    let calls = 0;
    const flaky = {
      listChunks: async () => {
        calls += 1;
        if (calls === 2) throw new Error('disk went away');
        return store.listChunks();
      },
      verifyChunk: store.verifyChunk.bind(store),
    };
    const scrubber = new Scrubber(flaky, {
      rateBytesPerSecond: 1e9,
      passIntervalMs: 60_000,
      clock,
      sleep: fakeSleep(clock),
      onError: (e) => errors.push(e),
    });
    scrubber.start();
    await waitFor(() => scrubber.stats().passes >= 3);
    await scrubber.stop();
    assert.ok(scrubber.stats().passes >= 3);
    assert.equal(errors.length, 1);
    assert.ok(clock.nowMs() >= 3 * 60_000, 'passes are passIntervalMs apart');
  });

  test('stop() interrupts a real interval sleep at once', async () => {
    const { store } = await storeWith(1, KiB);
    const clock = new ManualClock(0);
    const scrubber = new Scrubber(store, {
      rateBytesPerSecond: 1e9,
      passIntervalMs: 3_600_000,
      clock,
      sleep: realSleep,
    });
    scrubber.start();
    await waitFor(() => scrubber.stats().passes >= 1);
    const started = performance.now();
    await scrubber.stop();
    assert.ok(performance.now() - started < 1000);
    assert.equal(scrubber.stats().passes, 1);
  });
});
