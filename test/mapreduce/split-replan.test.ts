// Rule (issue 5, DLQ recovery): a recovered map task reads its input file as it is now, but
// only if the file changed inside that task's own split — its finished siblings read the old
// bytes of theirs. Same layout and checksums elsewhere: re-planned (fresh hosts, sizes); the
// last split may change its length; anything else, or a deleted file: input-changed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeSplits, type SplittableFile } from '../../src/mapreduce/common/splits.js';
import { replanRecoveredSplit } from '../../src/mapreduce/master/split-replan.pure.js';

/** A file of chunks `[size, checksum]`, each on one replica host. */
function file(path: string, chunks: [number, string][], host = 'dn-1'): SplittableFile {
  return {
    path,
    size: chunks.reduce((sum, [size]) => sum + size, 0),
    chunks: chunks.map(([size, checksum]) => ({
      size,
      checksum,
      replicas: [{ url: `http://${host}:9201`, state: 'active' }],
    })),
  };
}

const planned = computeSplits([
  file('/a', [[10, 'x']]),
  file('/b', [
    [100, 'b0'],
    [100, 'b1'],
    [40, 'b2'],
  ]),
]);

describe('replanRecoveredSplit', () => {
  test('same layout, only the recovered chunk changed: re-planned with the hosts of now', () => {
    const now = file(
      '/b',
      [
        [100, 'b0'],
        [100, 'FIXED'],
        [40, 'b2'],
      ],
      'dn-9',
    );
    const outcome = replanRecoveredSplit(planned, 2, now);
    assert.equal(outcome.kind, 'replanned');
    if (outcome.kind !== 'replanned') return;
    assert.deepEqual(outcome.splits[0], planned[0]);
    assert.deepEqual(
      outcome.splits.slice(1).map((s) => [s.start, s.end, s.checksum, s.hosts[0]]),
      [
        [0, 100, 'b0', 'dn-9'],
        [100, 200, 'FIXED', 'dn-9'],
        [200, 240, 'b2', 'dn-9'],
      ],
    );
  });

  test('the last split may change its length; every split of the file gets the new size', () => {
    const now = file('/b', [
      [100, 'b0'],
      [100, 'b1'],
      [55, 'longer'],
    ]);
    const outcome = replanRecoveredSplit(planned, 3, now);
    assert.equal(outcome.kind, 'replanned');
    if (outcome.kind !== 'replanned') return;
    assert.deepEqual(
      outcome.splits.slice(1).map((s) => [s.end, s.fileSize]),
      [
        [100, 255],
        [200, 255],
        [255, 255],
      ],
    );
  });

  const refused: [string, number, SplittableFile | undefined, RegExp][] = [
    ['a deleted file', 2, undefined, /no longer exists/],
    [
      'the recovered split, not the last, with another length',
      2,
      file('/b', [
        [100, 'b0'],
        [90, 'b1'],
        [50, 'b2'],
      ]),
      /split 1 now ends at byte 190/,
    ],
    [
      'another split that changed its length',
      2,
      file('/b', [
        [100, 'b0'],
        [100, 'b1'],
        [30, 'b2'],
      ]),
      /changed since the job was submitted \(240 -> 230 bytes; split 2 now ends at byte 230\)/,
    ],
    [
      'another split whose bytes changed',
      2,
      file('/b', [
        [100, 'OTHER'],
        [100, 'b1'],
        [40, 'b2'],
      ]),
      /the bytes of split 0, already read by its map task, changed/,
    ],
    [
      'a different number of splits',
      3,
      file('/b', [
        [100, 'b0'],
        [100, 'b1'],
        [100, 'b2'],
        [5, 'b3'],
      ]),
      /4 splits now, 3 at submission/,
    ],
  ];
  for (const [name, index, now, detail] of refused) {
    test(`refused: ${name}`, () => {
      const outcome = replanRecoveredSplit(planned, index, now);
      assert.equal(outcome.kind, 'input-changed');
      if (outcome.kind !== 'input-changed') return;
      assert.equal(outcome.path, '/b');
      assert.match(outcome.detail, detail);
    });
  }

  test('splits planned without checksums (jobs stored before them) compare by range only', () => {
    const old = planned.map(({ checksum: _checksum, ...rest }) => rest);
    const now = file('/b', [
      [100, 'changed'],
      [100, 'b1'],
      [40, 'b2'],
    ]);
    assert.equal(replanRecoveredSplit(old, 2, now).kind, 'replanned');
  });
});
