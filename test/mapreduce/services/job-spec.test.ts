// Rule (issue 5, "Interfaces"; DESIGN.md rule 6): a job spec is validated before anything runs —
// exactly one kind of job, absolute DFS paths, a usable grep pattern, no streaming combiner — and
// the pieces a job is made of behave as documented: globs, the sort's range partition, the
// built-in functions, the failure categories of the seed, and the gRPC messages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { HttpStatusError, PeerUnavailableError } from '../../../src/core/errors-http-client.js';
import { builtinJob } from '../../../src/mapreduce/builtin/index.js';
import { parseDocument } from '../../../src/mapreduce/builtin/invertedindex.js';
import { rangePartition } from '../../../src/mapreduce/builtin/sort.js';
import { specFromMessage } from '../../../src/mapreduce/grpc/master-server.js';
import { mapReduceProto } from '../../../src/mapreduce/grpc/proto.js';
import {
  globPrefix,
  globToRegExp,
  isHiddenPath,
  parseJobSpec,
} from '../../../src/mapreduce/master/job-spec.js';
import type { Assignment } from '../../../src/mapreduce/grpc/messages.js';
import { LineTooLongError } from '../../../src/mapreduce/worker/line-reader.js';
import { ShuffleFetchError } from '../../../src/mapreduce/worker/shuffle.js';
import { compareKeys } from '../../../src/mapreduce/worker/spill.js';
import { failureReport } from '../../../src/mapreduce/worker/task-loop.js';
import { UserCodeError } from '../../../src/mapreduce/worker/user-code.js';

describe('job specs', () => {
  test('a builtin job gets its defaults', () => {
    const spec = parseJobSpec({ builtin: 'wordcount', input: '/in/a.txt', output: '/out' });
    assert.deepEqual(spec, {
      name: 'wordcount',
      input: ['/in/a.txt'],
      output: '/out',
      reducers: 1,
      strategy: null,
      builtin: 'wordcount',
      args: {},
      mapper: null,
      reducer: null,
      combiner: null,
    });
  });

  const refused: [string, unknown, RegExp][] = [
    ['not an object', 'wordcount', /invalid job spec/],
    ['no kind of job', { input: ['/a'], output: '/o' }, /builtin .* or a mapper/],
    [
      'builtin and mapper',
      {
        builtin: 'sort',
        mapper: { kind: 'command', command: ['cat'] },
        input: ['/a'],
        output: '/o',
      },
      /takes no mapper/,
    ],
    [
      'command combiner',
      {
        mapper: { kind: 'command', command: ['cat'] },
        combiner: { kind: 'command', command: ['cat'] },
        input: ['/a'],
        output: '/o',
      },
      /combiner must be a js module/,
    ],
    ['grep without pattern', { builtin: 'grep', input: ['/a'], output: '/o' }, /args.pattern/],
    [
      'bad regex',
      { builtin: 'grep', args: { pattern: '[' }, input: ['/a'], output: '/o' },
      /not a valid regular expression/,
    ],
    [
      'input inside the output',
      { builtin: 'sort', input: ['/o/x'], output: '/o' },
      /inside the output/,
    ],
    [
      'output with a glob',
      { builtin: 'sort', input: ['/a'], output: '/o/*' },
      /invalid job spec at \/output/,
    ],
    [
      'unknown field',
      { builtin: 'sort', input: ['/a'], output: '/o', mappers: 2 },
      /invalid job spec/,
    ],
    [
      'too many reducers',
      { builtin: 'sort', input: ['/a'], output: '/o', reducers: 5000 },
      /invalid job spec at \/reducers/,
    ],
  ];
  for (const [name, input, message] of refused) {
    test(`refuses ${name} with a 400`, () => {
      assert.throws(
        () => parseJobSpec(input),
        (error: Error & { status?: number }) => {
          assert.equal(error.status, 400);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  test('globs match within a segment, ** across segments; hidden paths are skipped', () => {
    assert.ok(globToRegExp('/logs/*.txt').test('/logs/a.txt'));
    assert.ok(!globToRegExp('/logs/*.txt').test('/logs/day/a.txt'));
    assert.ok(globToRegExp('/logs/**/*.txt').test('/logs/day/hour/a.txt'));
    assert.ok(globToRegExp('/logs/a?.txt').test('/logs/ab.txt'));
    assert.ok(!globToRegExp('/logs/a.txt').test('/logs/aXtxt'));
    assert.equal(globPrefix('/logs/day-*/a.txt'), '/logs/');
    assert.ok(
      isHiddenPath('out/_temporary/x') && isHiddenPath('.hidden') && !isHiddenPath('a/b.txt'),
    );
  });

  test('the gRPC JobSpec message maps to the JSON spec (empty means absent)', () => {
    mapReduceProto(); // the .proto parses
    const spec = specFromMessage({
      name: '',
      input: ['/a'],
      output: '/o',
      reducers: 0,
      strategy: 'round_robin',
      builtin: '',
      args: {},
      mapper: { kind: 'command', source: '', command: ['cat'] },
      reducer: null,
      combiner: { kind: '', source: '', command: [] },
    });
    assert.deepEqual(spec, {
      input: ['/a'],
      output: '/o',
      strategy: 'round_robin',
      mapper: { kind: 'command', command: ['cat'] },
    });
  });
});

describe('built-in jobs', () => {
  const run = async (name: 'wordcount' | 'sort', lines: string[]) => {
    const job = builtinJob(name, {});
    const emitted: [string, string | undefined][] = [];
    for (const line of lines) await job.map?.('/f', line, (k, v) => emitted.push([k, v]));
    return emitted;
  };

  test('wordcount: the byte mapper and the per-line mapper agree once combined', async () => {
    const lines = ["Don't stop, DON'T", 'naïve x-ray', ''];
    const perLine = new Map<string, number>();
    for (const [k, v] of await run('wordcount', lines))
      perLine.set(k, (perLine.get(k) ?? 0) + Number(v));
    const batched = new Map<string, number>();
    const job = builtinJob('wordcount', {});
    const emit = (k: string, v?: string) => batched.set(k, (batched.get(k) ?? 0) + Number(v));
    for (const line of lines) job.mapBytes?.('/f', Buffer.from(`${line}\n`), emit);
    job.mapEnd?.(emit);
    assert.deepEqual(batched, perLine);
    assert.deepEqual(
      new Map([...perLine].sort()),
      new Map([
        ['don', 2],
        ['ray', 1],
        ['na', 1],
        ['stop', 1],
        ['t', 2],
        ['ve', 1],
        ['x', 1],
      ]),
    );
  });

  test('sort: range partitions are ordered and cover every key', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string(), { maxLength: 6 }),
        fc.string(),
        fc.string(),
        (raw, a, b) => {
          const boundaries = [...raw].sort(compareKeys);
          const [low, high] = compareKeys(a, b) <= 0 ? [a, b] : [b, a];
          const p = rangePartition(boundaries, low);
          assert.ok(p >= 0 && p <= boundaries.length);
          assert.ok(p <= rangePartition(boundaries, high));
        },
      ),
    );
  });

  test('invertedindex: JSON lines, tab-separated lines and plain lines are documents', () => {
    assert.deepEqual(parseDocument('/p', '{"doc_id":"d","content":"c"}'), {
      docId: 'd',
      content: 'c',
    });
    assert.deepEqual(parseDocument('/p', 'd2\tsome text'), { docId: 'd2', content: 'some text' });
    assert.deepEqual(parseDocument('/p', '{not json'), { docId: '/p', content: '{not json' });
  });
});

describe('failure reports', () => {
  const assignment = { attempt_id: 'j-m-000000.1' } as Assignment;
  test('carry the seed categories and the failing record', () => {
    const request = { peer: 'http://x', method: 'GET', url: 'http://x/a', attempts: 1 };
    const cases: [unknown, string, Partial<ReturnType<typeof failureReport>>][] = [
      [
        new UserCodeError('map threw', 'bad line'),
        'user-code',
        { record: 'bad line', has_record: true },
      ],
      [new LineTooLongError(10, 64), 'bad-input', {}],
      [new HttpStatusError(request, 404, undefined), 'bad-input', {}],
      [new PeerUnavailableError(request), 'unreachable', {}],
      [
        new ShuffleFetchError('j-m-000003', 'gone'),
        'unreachable',
        { lost_map_task_id: 'j-m-000003' },
      ],
      [new TypeError('oops'), 'crash', {}],
    ];
    for (const [error, reason, extra] of cases) {
      const report = failureReport('w', assignment, error);
      assert.equal(report.reason, reason, String(error));
      assert.equal(report.succeeded, false);
      for (const [key, value] of Object.entries(extra))
        assert.equal(report[key as keyof typeof report], value);
    }
  });
});
