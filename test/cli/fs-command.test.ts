/**
 * `tessera fs` against a real cluster (dfs-architecture.md, "Cliente" and "Flujo de Escritura /
 * Flujo de Lectura"): a file put in chunks comes back byte-identical, to a file or to stdout;
 * listings show size, chunk count and live/factor replication; stat shows every chunk with
 * its replicas and their state; mv and rm change the namespace; every --json output parses.
 * An expected failure is one line on stderr naming what went wrong and what to do next, with
 * exit code 1 and no stack trace. `put --index` without search nodes stores a text file and
 * warns how to index it later; a binary file is stored, not indexed, exit code 2
 * (test/cli/fs-index.test.ts covers --index with a search cluster).
 * Progress: a bar with bytes, MB/s and ETA on a terminal, otherwise one summary line.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  describeFailure,
  remotePathFor,
  replicationOf,
  type FailureContext,
} from '../../src/cli/fs-command.js';
import { formatBytes, formatDuration, formatRate, startProgress } from '../../src/cli/progress.js';
import { HttpStatusError, PeerUnavailableError } from '../../src/core/errors-http-client.js';
import { HttpClient } from '../../src/core/http-client.js';
import type { FileMetadata, FileSummary } from '../../src/dfs/index.js';
import { startTessera, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { runCli, type CliResult } from '../helpers/cli.js';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

function assertOk(result: CliResult, what: string): string {
  assert.equal(result.code, 0, `${what} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** An expected failure: the exit code, one line on stderr, no stack trace. */
function assertFailure(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `expected exit ${code}, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

/** A stream that records what is written; `isTTY` makes cli-progress draw on it. */
class RecordingStream extends Writable {
  text = '';
  columns = 120;
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(piece: Buffer, _encoding: string, done: () => void): void {
    this.text += piece.toString();
    done();
  }
}

describe('progress and messages (in process)', () => {
  test('sizes, rates and durations read the way people expect', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024 ** 2 - 1), '1.0 MiB');
    assert.equal(formatBytes(1024), '1.0 KiB');
    assert.equal(formatBytes(3 * 1024 ** 2), '3.0 MiB');
    assert.equal(formatBytes(1.5 * 1024 ** 3), '1.5 GiB');
    assert.equal(formatRate(10e6, 1000), '10.0 MB/s');
    assert.equal(formatRate(250e6, 1000), '250 MB/s');
    assert.equal(formatRate(5, 0), '- MB/s');
    assert.equal(formatDuration(410), '0.41 s');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(125_000), '2m05s');
    const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: Number.MAX_SAFE_INTEGER }), (bytes) => {
        const shown = formatBytes(bytes);
        const match = /^(\d+\.\d) (KiB|MiB|GiB|TiB|PiB)$/.exec(shown);
        assert.ok(match, shown);
        const value = Number(match[1]);
        const unitBytes = 1024 ** (units.indexOf(match[2] ?? '') + 1);
        assert.ok(value >= 1 && value < 1024, `${bytes} shown as ${shown}`);
        assert.ok(
          Math.abs(value * unitBytes - bytes) <= 0.05 * unitBytes,
          `${bytes} shown as ${shown}`,
        );
      }),
      { numRuns: 500 },
    );
  });

  test('without a terminal: no bar, exactly one summary line, once', () => {
    const stream = new RecordingStream(false);
    let nowMs = 1_000;
    const progress = startProgress({
      verb: 'uploaded',
      totalBytes: 2_000_000,
      interactive: false,
      stream: stream as unknown as NodeJS.WriteStream,
      nowMs: () => nowMs,
    });
    progress.add(1_000_000);
    progress.add(1_000_000);
    nowMs += 2_000;
    assert.equal(progress.finish(), 'uploaded 1.9 MiB in 2.00 s (1.0 MB/s)');
    progress.finish();
    progress.abort();
    assert.equal(stream.text, 'uploaded 1.9 MiB in 2.00 s (1.0 MB/s)\n');
  });

  test('on a terminal: a bar with bytes, MB/s and ETA, and no extra summary line', () => {
    const stream = new RecordingStream(true);
    let nowMs = 0;
    const progress = startProgress({
      verb: 'downloaded',
      totalBytes: 1024 * 1024,
      interactive: true,
      stream: stream as unknown as NodeJS.WriteStream,
      nowMs: () => nowMs,
    });
    nowMs = 2_000;
    progress.add(1024 * 1024);
    progress.finish();
    assert.match(stream.text, /\[=+\] 100% \| 1\.0 MiB \/ 1\.0 MiB \| 0\.5 MB\/s \| ETA /);
    assert.doesNotMatch(stream.text, /downloaded/);
  });

  test('each expected failure names what went wrong and the next step', () => {
    const meta = 'http://127.0.0.1:9100';
    const request = (peer: string) => ({ peer, method: 'GET', url: `${peer}/x`, attempts: 1 });
    const answer = (status: number, code: string, detail: string) =>
      new HttpStatusError(request(meta), status, { status, code, detail });
    const context = (
      command: FailureContext['command'],
      extra: Partial<FailureContext> = {},
    ): FailureContext => ({
      command,
      registryUrl: 'http://127.0.0.1:9000',
      metaUrl: meta,
      path: '/data/a.txt',
      ...extra,
    });
    const errno = (code: string, path: string) =>
      Object.assign(new Error(`${code}: ${path}`), { code, path });
    const cases: [unknown, FailureContext, RegExp][] = [
      [
        answer(404, 'NOT_FOUND', 'no file at /data/a.txt'),
        context('stat'),
        /^no such file \/data\/a\.txt in the DFS; list files with `tessera fs ls`$/,
      ],
      [
        answer(409, 'LEASE_HELD', 'held by c1'),
        context('put'),
        /being written by another client .*lease expires/,
      ],
      [
        answer(409, 'CONFLICT', '/data/a.txt exists'),
        context('put'),
        /^\/data\/a\.txt already exists; pass --overwrite/,
      ],
      [
        answer(409, 'CONFLICT', '/b exists'),
        context('mv', { to: '/b' }),
        /^\/b already exists; pass --overwrite/,
      ],
      [
        answer(503, 'UNAVAILABLE', 'no live datanode'),
        context('put'),
        /no live datanode; check the datanodes with `tessera nodes --role datanode`/,
      ],
      [
        answer(400, 'BAD_REQUEST', 'invalid path'),
        context('put'),
        /refused the request: invalid path/,
      ],
      [
        new PeerUnavailableError(request(meta)),
        context('ls'),
        /^cannot reach the DFS metadata master at http:\/\/127\.0\.0\.1:9100; .*--meta URL$/,
      ],
      [
        new PeerUnavailableError(request('http://127.0.0.1:9201')),
        context('get'),
        /^cannot reach http:\/\/127\.0\.0\.1:9201 .*tessera nodes --role datanode/,
      ],
      [errno('ENOENT', '/tmp/in.bin'), context('put'), /^no such local file \/tmp\/in\.bin$/],
      [
        errno('ENOENT', '/no/dir/out.bin.tessera-part'),
        context('get'),
        /^cannot write \/no\/dir\/out\.bin: its directory does not exist$/,
      ],
      [
        new Error('chunk 0 reached 1 of 2 required replicas'),
        context('put'),
        /^chunk 0 reached 1 of 2/,
      ],
      [
        new Error('chunk c1: no replica could serve it'),
        context('get'),
        /^chunk c1: no replica could serve it; see its replicas with `tessera fs stat \/data\/a\.txt`$/,
      ],
    ];
    for (const [error, where, expected] of cases)
      assert.match(describeFailure(error, where), expected);
  });

  test('remote paths: absolute, and a trailing / keeps the local name', () => {
    assert.equal(remotePathFor('/data/', 'in.txt'), '/data/in.txt');
    assert.equal(remotePathFor('data/x.txt', 'in.txt'), '/data/x.txt');
    const replica = (state: 'active' | 'dead') =>
      ({ state }) as FileMetadata['chunks'][number]['replicas'][number];
    const file = (states: ('active' | 'dead')[][]) =>
      ({
        replication_factor: 3,
        chunks: states.map((chunk) => ({ replicas: chunk.map(replica) })),
      }) as FileMetadata;
    assert.equal(
      replicationOf(
        file([
          ['active', 'active', 'active'],
          ['active', 'dead', 'active'],
        ]),
      ),
      '2/3',
    );
    assert.equal(replicationOf(file([])), '3/3');
  });
});

describe('tessera fs against a real cluster', () => {
  const dir = tempDir('fs-cli');
  const http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 5_000,
    breaker: { failureThreshold: 1e9 },
  });
  const processes: RunningProcess[] = [];
  const content = randomBytes(3 * 1024 * 1024 + 12_345);
  const bigLocal = join(dir.path, 'big.bin');
  let registry: RunningProcess;
  let meta: RunningProcess;
  let fs: (...args: string[]) => Promise<CliResult>;

  before(async () => {
    writeFileSync(bigLocal, content);
    writeFileSync(join(dir.path, 'one.txt'), 'x');
    registry = await startTessera(['registry', '--port', '0', '--in-memory']);
    processes.push(registry);
    meta = await startTessera([
      'meta',
      '--port', '0',
      '--data-dir', join(dir.path, 'meta'),
      '--registry', registry.url,
      '--heartbeat-interval', '0.2',
    ]); // prettier-ignore
    processes.push(meta);
    const datanodes = await Promise.all(
      [1, 2, 3].map(
        (index) =>
        startTessera([
          'datanode',
          '--port', '0',
          '--data-dir', join(dir.path, `datanode-${index}`),
          '--registry', registry.url,
          '--meta', meta.url,
          '--heartbeat-interval', '0.2',
        ]), // prettier-ignore
      ),
    );
    processes.push(...datanodes);
    await waitFor('three active datanodes', async () => {
      const { nodes } = await http.getJson<{ nodes: { state: string }[] }>(
        `${meta.url}/api/v1/nodes`,
      );
      return nodes.filter((node) => node.state === 'active').length === 3;
    });
    fs = (...args) => runCli(['fs', ...args, '--registry', registry.url]);
  });

  after(async () => {
    await Promise.all(processes.map((process) => process.kill('SIGKILL')));
    await http.close();
    dir.cleanup();
  });

  test('put splits into chunks and reports; --index, a missing file and a down registry fail clearly', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const [big, one, indexed, indexedText, noRegistry] = await Promise.all([
      fs('put', bigLocal, '/data/big.bin', '--chunk-size', '1MiB'),
      fs('put', join(dir.path, 'one.txt'), '/data/sub/', '--json', '--replication', '2'),
      fs('put', bigLocal, '/indexed/big.bin', '--index'),
      fs('put', join(dir.path, 'one.txt'), '/indexed/one.txt', '--index'),
      runCli(['fs', 'ls', '--registry', down]),
    ]);
    const human = assertOk(big, 'put');
    assert.match(human, /\/data\/big\.bin: 3\.0 MiB, 4 chunks of 1\.0 MiB, replicas 3\/3/);
    assert.match(
      big.stderr,
      /^uploaded 3\.0 MiB in [\d.]+ s \([\d.]+ MB\/s\)\n$/,
      'one summary line',
    );
    const json = JSON.parse(assertOk(one, 'put --json')) as FileMetadata;
    assert.equal(json.path, '/data/sub/one.txt', 'REMOTE ending in / keeps the local name');
    assert.equal(json.size, 1);
    assert.equal(json.replication_factor, 2);
    assert.equal(json.chunks[0]?.replicas.length, 2);
    assert.equal(indexed.code, 2, indexed.stderr);
    assert.match(
      indexed.stderr,
      /^tessera fs put: stored \/indexed\/big\.bin, but did not index it: it is binary \(a NUL byte in its first 8 KiB\)/m,
    );
    assert.equal(indexedText.code, 0, indexedText.stderr);
    assert.match(
      indexedText.stderr,
      /^tessera fs put: stored \/indexed\/one\.txt, but could not index it for search \(no active search-node server is registered.*\); start the search nodes .*`tessera fs index \/indexed\/one\.txt`$/m,
    );
    await http.getJson(`${meta.url}/api/v1/files/indexed/big.bin`); // stored all the same
    assertFailure(
      noRegistry,
      1,
      new RegExp(`cannot reach the registry at ${down}; start the cluster with \`npm start\``),
    );
  });

  test('ls, stat and get show the file and bring it back byte-identical', async () => {
    const out = join(dir.path, 'out.bin');
    const [ls, lsDir, stat, statJson, get, toStdout] = await Promise.all([
      fs('ls'),
      fs('ls', '/data/'),
      fs('stat', '/data/big.bin'),
      fs('stat', '/data/big.bin', '--json'),
      fs('get', '/data/big.bin', out),
      fs('get', '/data/big.bin', '-'),
    ]);
    const table = assertOk(ls, 'ls').split('\n');
    assert.match(table[0] ?? '', /^PATH\s+SIZE\s+CHUNKS\s+REPLICATION\s+MODIFIED$/);
    assert.ok(
      table.some((line) => /^\/data\/big\.bin\s+3\.0 MiB\s+4\s+3\/3\s+\d{4}-\d\d-\d\d /.test(line)),
      table.join('\n'),
    );
    assert.ok(
      table.some((line) => /^\/data\/sub\/one\.txt\s+1 B\s+1\s+2\/2/.test(line)),
      table.join('\n'),
    );
    const rows = assertOk(lsDir, 'ls /data/').trimEnd().split('\n').slice(1);
    assert.deepEqual(
      rows.map((row) => row.split(/\s+/)[0]),
      ['/data/sub/', '/data/big.bin'],
      'directories first',
    );
    const statText = assertOk(stat, 'stat');
    assert.match(statText, /size\s+3\.0 MiB \(3158073 bytes\)/);
    assert.equal(
      statText.match(/\sactive$/gm)?.length,
      12,
      'four chunks, three active replicas each',
    );
    const metadata = JSON.parse(assertOk(statJson, 'stat --json')) as FileMetadata;
    assert.deepEqual(
      metadata.chunks.map((chunk) => chunk.size),
      [1048576, 1048576, 1048576, 12345],
    );
    for (const chunk of metadata.chunks) {
      assert.match(chunk.checksum, /^[0-9a-f]{64}$/);
      assert.ok(statText.includes(chunk.chunk_id), 'each chunk id is shown');
      assert.deepEqual(
        chunk.replicas.map((replica) => replica.state),
        ['active', 'active', 'active'],
      );
    }
    assert.match(assertOk(get, 'get'), /SHA-256 verified/);
    assert.ok(readFileSync(out).equals(content), 'get writes the same bytes');
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.ok(toStdout.stdoutBytes.equals(content), 'get - writes the same bytes to stdout');
    assert.match(toStdout.stderr, /^downloaded 3\.0 MiB in /);
  });

  test('mv and rm change the namespace; an existing or missing path answers a clear error', async () => {
    const [mv, again] = await Promise.all([
      fs('mv', '/data/big.bin', '/archive/', '--json'),
      fs('put', join(dir.path, 'one.txt'), '/data/sub/one.txt'),
    ]);
    const moved = JSON.parse(assertOk(mv, 'mv --json')) as FileMetadata;
    assert.equal(moved.path, '/archive/big.bin');
    assert.equal(moved.chunks.length, 4);
    assertFailure(
      again,
      1,
      /^tessera fs put: \/data\/sub\/one\.txt already exists; pass --overwrite/,
    );
    const [oldStat, removed, listing] = await Promise.all([
      fs('stat', '/data/big.bin'),
      fs('rm', '/archive/big.bin'),
      fs('ls', '/data', '--json'),
    ]);
    assertFailure(
      oldStat,
      1,
      /^tessera fs stat: no such file \/data\/big\.bin in the DFS; list files with `tessera fs ls`$/,
    );
    assert.equal(assertOk(removed, 'rm'), 'deleted /archive/big.bin\n');
    await assert.rejects(http.getJson(`${meta.url}/api/v1/files/archive/big.bin`), /404/);
    const { files } = JSON.parse(assertOk(listing, 'ls --json')) as { files: FileSummary[] };
    assert.deepEqual(
      files.map((file) => file.path),
      ['/data/sub/one.txt'],
    );
  });
});
