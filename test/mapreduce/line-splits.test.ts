// Rule checked (Hadoop's LineRecordReader rule, issue 5 "line records that cross a chunk border
// read exactly once"): there is one split per chunk; a split skips its first partial line unless
// it starts at offset 0 and reads past its end to finish its last line, so the records of all
// splits, in order, are exactly the file's lines — `text.split('\n')` without the empty string
// after a final newline, `\r` before `\n` removed — each once, whatever the chunk boundaries,
// for lines longer than a chunk, and with or without a final newline.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SeededRandom } from '../../src/core/random.js';
import {
  computeSplits,
  splitOwnsLine,
  splitReadPlan,
  type InputSplit,
} from '../../src/mapreduce/common/splits.js';
import {
  LineTooLongError,
  SplitLineReader,
  type LineReaderOptions,
  type ReadRange,
} from '../../src/mapreduce/worker/line-reader.js';

/** `readRange` over a buffer, yielding pieces of random sizes; logs every request. */
function bufferSource(data: Buffer, seed = 1, requests: [number, number][] = []): ReadRange {
  const random = new SeededRandom(seed);
  return async function* (start, end) {
    requests.push([start, end]);
    let at = start;
    const stop = Math.min(end, data.length);
    while (at < stop) {
      const size = 1 + random.int(Math.max(1, Math.min(64, stop - at)));
      yield data.subarray(at, at + size);
      at += size;
    }
  };
}

function splitsAt(size: number, cuts: readonly number[]): InputSplit[] {
  const bounds = [
    0,
    ...[...new Set(cuts)].filter((c) => c > 0 && c < size).sort((a, b) => a - b),
    size,
  ];
  const chunks = bounds.slice(1).map((end, i) => ({ size: end - bounds[i]!, replicas: [] }));
  return computeSplits([{ path: '/in.txt', size, chunks }]);
}

async function readAll(
  data: Buffer,
  split: InputSplit,
  seed = 1,
  options: LineReaderOptions = {},
): Promise<string[]> {
  const records: string[] = [];
  for await (const batch of new SplitLineReader(
    split,
    bufferSource(data, seed),
    options,
  ).batches()) {
    records.push(...batch);
  }
  return records;
}

async function recordsOfAllSplits(
  text: string,
  cuts: readonly number[],
  seed = 1,
): Promise<string[][]> {
  const data = Buffer.from(text, 'utf8');
  const options = { firstIncrementBytes: 1 + (seed % 5), maxIncrementBytes: 16 };
  const result: string[][] = [];
  for (const split of splitsAt(data.length, cuts))
    result.push(await readAll(data, split, seed, options));
  return result;
}

/** The model: the file's lines. */
function linesOf(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines.map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

describe('splits from DFS metadata', () => {
  test('one split per non-empty chunk with its offsets and its active replica hosts', () => {
    const replica = (url: string, state = 'active') => ({ url, state });
    const splits = computeSplits([
      {
        path: '/a',
        size: 250,
        chunks: [
          {
            size: 100,
            replicas: [replica('http://DN-1:9201'), replica('http://dn-2:9202', 'dead')],
          },
          { size: 0, replicas: [] },
          {
            size: 150,
            replicas: [
              replica('http://dn-2:9202'),
              replica('http://dn-2:9203'),
              replica('nonsense'),
            ],
          },
        ],
      },
      {
        path: '/b',
        file_id: 'file-b',
        size: 10,
        chunks: [{ size: 10, checksum: 'c0', replicas: [replica('http://127.0.0.1:9201')] }],
      },
    ]);
    assert.deepEqual(splits, [
      { path: '/a', chunkIndex: 0, start: 0, end: 100, fileSize: 250, hosts: ['dn-1'] },
      { path: '/a', chunkIndex: 2, start: 100, end: 250, fileSize: 250, hosts: ['dn-2'] },
      {
        path: '/b',
        chunkIndex: 0,
        start: 0,
        end: 10,
        fileSize: 10,
        hosts: ['127.0.0.1'],
        checksum: 'c0',
        fileId: 'file-b',
      },
    ]);
  });

  test('the read plan backs up one byte and skips unless the split starts at 0', () => {
    assert.deepEqual(splitReadPlan({ start: 0, end: 64, fileSize: 100 }), {
      readStart: 0,
      skipFirstLine: false,
      end: 64,
      stopAfterNewlineAt: 63,
      fileSize: 100,
    });
    assert.deepEqual(splitReadPlan({ start: 64, end: 100, fileSize: 100 }), {
      readStart: 63,
      skipFirstLine: true,
      end: 100,
      stopAfterNewlineAt: 99,
      fileSize: 100,
    });
    assert.throws(() => splitReadPlan({ start: 10, end: 10, fileSize: 20 }), RangeError);
    assert.throws(() => splitReadPlan({ start: 0, end: 30, fileSize: 20 }), RangeError);
  });

  test('a line belongs to the split holding its first byte', () => {
    assert.ok(splitOwnsLine({ start: 10, end: 20 }, 10));
    assert.ok(splitOwnsLine({ start: 10, end: 20 }, 19));
    assert.ok(!splitOwnsLine({ start: 10, end: 20 }, 20));
  });
});

describe('line reader', () => {
  const cases: { name: string; text: string; cuts: number[]; expected: string[][] }[] = [
    {
      name: 'a line starting exactly at the border belongs to the next split',
      text: 'ab\ncd\nef',
      cuts: [3],
      expected: [['ab'], ['cd', 'ef']],
    },
    {
      name: 'a border right after a newline',
      text: 'ab\ncd\n',
      cuts: [2],
      expected: [['ab'], ['cd']],
    },
    {
      name: 'a line crossing the border is read by the first split',
      text: 'abcd\nef\n',
      cuts: [2],
      expected: [['abcd'], ['ef']],
    },
    {
      name: 'a line longer than a chunk: the middle splits read nothing',
      text: 'x\nlooooooong\ny',
      cuts: [4, 6, 8],
      expected: [['x', 'looooooong'], [], [], ['y']],
    },
    { name: 'no final newline', text: 'a\nb', cuts: [], expected: [['a', 'b']] },
    {
      name: 'empty lines are records',
      text: '\n\na\n\n',
      cuts: [1, 2],
      expected: [[''], [''], ['a', '']],
    },
    { name: 'CRLF line ends', text: 'a\r\nb\r\nc\r', cuts: [3], expected: [['a'], ['b', 'c']] },
    {
      name: 'a border inside a multi-byte character',
      text: 'ñandú\n日本\n',
      cuts: [1, 10],
      expected: [['ñandú'], ['日本'], []],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      assert.deepEqual(await recordsOfAllSplits(c.text, c.cuts), c.expected);
      assert.deepEqual(c.expected.flat(), linesOf(c.text));
    });
  }

  test('reads past the end in growing, bounded increments, and no further than needed', async () => {
    const text = `${'a'.repeat(100)}${'b'.repeat(200)}\n${'c\n'.repeat(1000)}`;
    const data = Buffer.from(text);
    const requests: [number, number][] = [];
    const reader = new SplitLineReader(
      { start: 0, end: 50, fileSize: data.length },
      bufferSource(data, 3, requests),
      {
        firstIncrementBytes: 16,
        maxIncrementBytes: 64,
      },
    );
    const records: string[] = [];
    for await (const batch of reader.batches()) records.push(...batch);
    assert.deepEqual(records, ['a'.repeat(100) + 'b'.repeat(200)]);
    const sizes = requests.map(([s, e]) => e - s);
    assert.deepEqual(sizes, [50, 16, 32, 64, 64, 64, 64]);
    assert.equal(reader.records, 1);
    assert.ok(reader.bytesRead <= 50 + 16 + 32 + 64 * 4);
  });

  test('a split that skips never reads past its end', async () => {
    const data = Buffer.from(`${'a'.repeat(100)}\nb\n`);
    const requests: [number, number][] = [];
    const reader = new SplitLineReader(
      { start: 10, end: 20, fileSize: data.length },
      bufferSource(data, 1, requests),
    );
    for await (const batch of reader.batches()) assert.deepEqual(batch, []);
    assert.deepEqual(requests, [[9, 20]]);
  });

  test('a line longer than maxLineBytes fails with LineTooLongError', async () => {
    const data = Buffer.from(`ok\n${'z'.repeat(5000)}\n`);
    const split = {
      path: '/x',
      chunkIndex: 0,
      start: 0,
      end: data.length,
      fileSize: data.length,
      hosts: [],
    };
    await assert.rejects(readAll(data, split, 1, { maxLineBytes: 1000 }), LineTooLongError);
  });
});

const textArb = fc
  .array(fc.constantFrom('a', 'b', ' ', '\n', '\n', '\r', 'é', '日', '😀'), { maxLength: 300 })
  .map((chars) => chars.join(''));

test('property: all splits together read every line exactly once, in order', async () => {
  await fc.assert(
    fc.asyncProperty(
      textArb,
      fc.array(fc.nat(1200), { maxLength: 12 }),
      fc.nat(1000),
      async (text, cuts, seed) => {
        const size = Buffer.byteLength(text);
        const perSplit = await recordsOfAllSplits(
          text,
          cuts.map((c) => c % (size + 1)),
          seed,
        );
        assert.deepEqual(perSplit.flat(), linesOf(text));
      },
    ),
    { numRuns: 400 },
  );
});

test('property: long lines and tiny chunks', async () => {
  const longLines = fc
    .array(fc.tuple(fc.constantFrom('x', 'ü'), fc.integer({ min: 0, max: 80 })), { maxLength: 12 })
    .map((parts) => parts.map(([c, n]) => c.repeat(n)).join('\n'));
  await fc.assert(
    fc.asyncProperty(
      longLines,
      fc.boolean(),
      fc.integer({ min: 1, max: 9 }),
      async (body, trailing, chunk) => {
        const text = trailing ? `${body}\n` : body;
        const size = Buffer.byteLength(text);
        const cuts = Array.from({ length: Math.ceil(size / chunk) }, (_, i) => i * chunk);
        assert.deepEqual((await recordsOfAllSplits(text, cuts, chunk)).flat(), linesOf(text));
      },
    ),
    { numRuns: 200 },
  );
});

test('property: regions() yields the records of batches() as bytes of whole lines', async () => {
  await fc.assert(
    fc.asyncProperty(
      textArb,
      fc.array(fc.nat(1200), { maxLength: 12 }),
      fc.nat(1000),
      async (text, cuts, seed) => {
        const data = Buffer.from(text, 'utf8');
        const options = { firstIncrementBytes: 1 + (seed % 5), maxIncrementBytes: 16 };
        for (const split of splitsAt(
          data.length,
          cuts.map((c) => c % (data.length + 1)),
        )) {
          const reader = new SplitLineReader(split, bufferSource(data, seed), options);
          const regions: Buffer[] = [];
          for await (const region of reader.regions()) regions.push(region);
          const records = await readAll(data, split, seed, options);
          const joined = Buffer.concat(regions).toString('utf8');
          assert.deepEqual(linesOf(joined), records);
          assert.equal(reader.records, records.length);
          assert.ok(regions.slice(0, -1).every((region) => region.at(-1) === 0x0a));
        }
      },
    ),
    { numRuns: 300 },
  );
});
