// Rule checked (issue 5, "Map output is partitioned by key hash into R partitions"): the
// partition of a key is FNV-1a (32 bit) of its UTF-8 bytes mod R — the published FNV-1a test
// vectors hold, non-ASCII keys hash their UTF-8 encoding, and keys spread evenly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fnv1a32, partitionOf } from '../../src/mapreduce/worker/partition.js';

/** Reference FNV-1a over the bytes Node's own UTF-8 encoder produces. */
function reference(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

test('FNV-1a 32 test vectors', () => {
  const vectors: [string, number][] = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ];
  for (const [key, hash] of vectors) assert.equal(fnv1a32(key), hash, JSON.stringify(key));
});

test('hashes the UTF-8 encoding, including astral characters and lone surrogates', () => {
  for (const key of ['ñandú', '日本語', '😀 emoji', 'a\uD800b', '\uDC00', 'x\uD83D']) {
    assert.equal(fnv1a32(key), reference(key), JSON.stringify(key));
  }
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (key) => fnv1a32(key) === reference(key)));
});

test('partitions are in range and spread evenly', () => {
  const counts = new Array<number>(7).fill(0);
  for (let i = 0; i < 70_000; i++) {
    const p = partitionOf(`word${i}`, 7);
    assert.ok(p >= 0 && p < 7);
    counts[p]! += 1;
  }
  for (const count of counts)
    assert.ok(Math.abs(count - 10_000) < 500, `uneven: ${counts.join(',')}`);
});

test('R must be a positive integer', () => {
  assert.throws(() => partitionOf('k', 0), RangeError);
  assert.throws(() => partitionOf('k', 1.5), RangeError);
  assert.equal(partitionOf('anything', 1), 0);
});
