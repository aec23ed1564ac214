// Rule checked (issue 5, "Map output is partitioned by key hash into R partitions, sorted and
// spilled to the worker's disk"; Hadoop's sort/spill/merge): with a tiny memory limit the map
// output becomes many sorted runs, merged in several passes of at most `mergeFactor`, and the
// result — per partition, keys in code point (UTF-8 byte) order, each key's values in emit order
// — equals an in-memory sort; a combiner folds each key; intermediate files are removed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/core/random.js';
import { partitionOf } from '../../src/mapreduce/worker/partition.js';
import {
  compareKeys,
  MapOutputBuffer,
  mergeGroups,
  RunReader,
  RunWriter,
  type KeyGroup,
  type MapOutputIndex,
  type RunSegment,
} from '../../src/mapreduce/worker/spill.js';

let root = '';
let dirCount = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-spill-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = (): string => join(root, `d${dirCount++}`);

function randomRecords(count: number, seed: number): [string, string][] {
  const random = new SeededRandom(seed);
  const alphabet = ['a', 'b', 'c', 'é', 'z', '日', '😀', '\uE000', ' ', '\t', '\n'];
  const word = (): string =>
    Array.from({ length: 1 + random.int(4) }, () => alphabet[random.int(alphabet.length)]).join('');
  return Array.from({ length: count }, (_, i) => [word(), `v${i}`]);
}

/** The model: per partition, keys sorted, each key's values in emit order. */
function model(records: [string, string][], partitions: number): KeyGroup[][] {
  const result = Array.from({ length: partitions }, () => new Map<string, string[]>());
  for (const [key, value] of records) {
    const group = result[partitionOf(key, partitions)]!;
    group.set(key, [...(group.get(key) ?? []), value]);
  }
  return result.map((groups) =>
    [...groups.keys()].sort(compareKeys).map((key) => ({ key, values: groups.get(key)! })),
  );
}

async function collect(groups: AsyncIterable<KeyGroup>): Promise<KeyGroup[]> {
  const out: KeyGroup[] = [];
  for await (const group of groups) out.push(group);
  return out;
}

async function partitionsOf(index: MapOutputIndex): Promise<KeyGroup[][]> {
  return Promise.all(
    index.partitions.map((p) =>
      collect(mergeGroups([{ path: index.path, offset: p.offset, length: p.length }])),
    ),
  );
}

async function writeRun(path: string, pairs: [string, string][]): Promise<RunSegment> {
  const writer = await RunWriter.create(path, 64);
  for (const [key, value] of pairs) {
    writer.append(key, value);
    if (writer.needsDrain) await writer.drain();
  }
  await writer.close();
  return { path, offset: 0, length: writer.bytes };
}

describe('key order', () => {
  test('compareKeys is UTF-8 byte order', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        const bytes = Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        return Math.sign(compareKeys(a, b)) === bytes;
      }),
    );
    assert.ok(compareKeys('\uE000', '😀') < 0, 'U+E000 sorts before U+1F600, unlike "<"');
    assert.ok('\uE000' > '😀');
  });
});

describe('map output buffer', () => {
  test('a tiny memory limit gives many runs, merged in passes, equal to an in-memory sort', async () => {
    const records = randomRecords(3000, 7);
    const dir = freshDir();
    const buffer = new MapOutputBuffer({
      dir,
      partitions: 3,
      memoryLimitBytes: 2048,
      mergeFactor: 3,
      readBufferBytes: 32,
    });
    for (const [key, value] of records) {
      buffer.add(key, value);
      await buffer.maybeSpill();
    }
    const index = await buffer.finish();
    assert.ok(buffer.spills >= 50, `only ${buffer.spills} spills`);
    assert.equal(buffer.recordsIn, 3000);
    assert.deepEqual(await partitionsOf(index), model(records, 3));
    assert.equal(
      index.partitions.reduce((n, p) => n + p.records, 0),
      3000,
    );
    assert.deepEqual((await readdir(dir)).sort(), ['output.run', 'output.run.index.json']);
    assert.deepEqual(JSON.parse(await readFile(`${index.path}.index.json`, 'utf8')), index);
  });

  test('a combiner folds each key at every spill and at the merge', async () => {
    const records = randomRecords(2000, 11).map(([key]): [string, string] => [key, '1']);
    let calls = 0;
    const buffer = new MapOutputBuffer({
      dir: freshDir(),
      partitions: 2,
      memoryLimitBytes: 1024,
      mergeFactor: 4,
      combiner: (_key, values) => {
        calls += 1;
        return [String(values.reduce((sum, v) => sum + Number(v), 0))];
      },
    });
    for (const [key, value] of records) {
      buffer.add(key, value);
      await buffer.maybeSpill();
    }
    const actual = await partitionsOf(await buffer.finish());
    const expected = model(records, 2).map((groups) =>
      groups.map(({ key, values }) => ({ key, values: [String(values.length)] })),
    );
    assert.deepEqual(actual, expected);
    assert.ok(calls > expected.flat().length, 'combined at spills and again at the merge');
  });

  test('a synchronous combiner also folds in memory, so one hot key never spills', async () => {
    const buffer = new MapOutputBuffer({
      dir: freshDir(),
      partitions: 1,
      memoryLimitBytes: 4096,
      combiner: (_key, values) => [String(values.reduce((sum, v) => sum + Number(v), 0))],
    });
    for (let i = 0; i < 100_000; i++) {
      buffer.add('the', '1');
      await buffer.maybeSpill();
    }
    const index = await buffer.finish();
    assert.equal(buffer.spills, 1);
    assert.deepEqual(await partitionsOf(index), [[{ key: 'the', values: ['100000'] }]]);
  });

  test('an asynchronous combiner runs at spills and merges only, with the same result', async () => {
    const records = randomRecords(1500, 5).map(([key]): [string, string] => [key, '2']);
    const buffer = new MapOutputBuffer({
      dir: freshDir(),
      partitions: 2,
      memoryLimitBytes: 1024,
      combiner: async (_key, values) => [String(values.reduce((sum, v) => sum + Number(v), 0))],
    });
    for (const [key, value] of records) {
      buffer.add(key, value);
      await buffer.maybeSpill();
    }
    const expected = model(records, 2).map((groups) =>
      groups.map(({ key, values }) => ({ key, values: [String(2 * values.length)] })),
    );
    assert.deepEqual(await partitionsOf(await buffer.finish()), expected);
  });

  test('one spill becomes the output file as it is', async () => {
    const dir = freshDir();
    const buffer = new MapOutputBuffer({ dir, partitions: 2 });
    for (const [key, value] of [
      ['b', '1'],
      ['a', '2'],
      ['b', '3'],
    ] as const)
      buffer.add(key, value);
    const index = await buffer.finish();
    assert.equal(buffer.spills, 1);
    assert.deepEqual(
      await partitionsOf(index),
      model(
        [
          ['b', '1'],
          ['a', '2'],
          ['b', '3'],
        ],
        2,
      ),
    );
  });

  test('no output at all gives empty partitions', async () => {
    const index = await new MapOutputBuffer({ dir: freshDir(), partitions: 3 }).finish();
    assert.deepEqual(
      index.partitions.map((p) => p.length),
      [0, 0, 0],
    );
  });
});

describe('merge', () => {
  test('k-way merge of many runs in several passes equals a sort, and cleans up', async () => {
    const dir = freshDir();
    const tmp = join(dir, 'tmp');
    await mkdir(dir, { recursive: true });
    const runs: RunSegment[] = [];
    const all: [string, string][] = [];
    for (let r = 0; r < 20; r++) {
      const pairs = randomRecords(50, 100 + r).sort((a, b) => compareKeys(a[0], b[0]));
      all.push(...pairs);
      runs.push(await writeRun(join(dir, `run-${r}.run`), pairs));
    }
    const groups = await collect(
      mergeGroups(runs, { mergeFactor: 2, tmpDir: tmp, readBufferBytes: 16 }),
    );
    const expected = new Map<string, string[]>();
    for (const [key, value] of all) expected.set(key, [...(expected.get(key) ?? []), value]);
    assert.deepEqual(
      groups,
      [...expected.keys()].sort(compareKeys).map((key) => ({ key, values: expected.get(key)! })),
    );
    assert.deepEqual(await readdir(tmp), []);
  });

  test('a merge of more runs than the factor needs a tmpDir', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const runs = await Promise.all(
      [0, 1, 2].map((i) => writeRun(join(dir, `r${i}`), [['k', String(i)]])),
    );
    await assert.rejects(collect(mergeGroups(runs, { mergeFactor: 2 })), /needs a tmpDir/);
  });

  test('records larger than the read buffer', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const big = 'x'.repeat(5000);
    const segment = await writeRun(join(dir, 'big.run'), [
      ['a', big],
      ['b', 'small'],
      ['c', big],
    ]);
    const reader = await RunReader.open(segment, 16);
    const seen: string[] = [];
    while (await reader.next()) seen.push(`${reader.key}:${reader.value.length}`);
    await reader.close();
    assert.deepEqual(seen, ['a:5000', 'b:5', 'c:5000']);
  });

  test('a truncated run file is an error, not a short result', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true });
    const segment = await writeRun(join(dir, 'cut.run'), [
      ['a', 'one'],
      ['b', 'two'],
    ]);
    await truncate(segment.path, segment.length - 2);
    await assert.rejects(collect(mergeGroups([segment])), /shorter than its index|truncated/);
  });
});
