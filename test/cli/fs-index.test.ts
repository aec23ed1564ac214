/**
 * `tessera fs put --index` (issue 4, "Commands": "indexes a text file's content under its DFS
 * path, so that files in the DFS can be found by their content"), against real processes: a
 * DFS (registry, master, datanode) and a search cluster registered in the same registry. A text
 * file put with --index is found by `tessera search query` under its DFS path, with metadata
 * {path, size, source: 'dfs'}; a binary file is stored but not indexed (exit code 2); `fs rm`
 * removes the search document too; with the search nodes down, put and rm still succeed and
 * warn with the command that finishes the job later (`tessera fs index`, `tessera search
 * delete`), and those commands work once the nodes are back.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpStatusError } from '../../src/core/errors-http-client.js';
import { HttpClient } from '../../src/core/http-client.js';
import { startTessera, tempDir, waitFor, type RunningProcess } from '../helpers/processes.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { SearchCluster, type SearchAnswer } from '../helpers/search-cluster.js';

function assertOk(result: CliResult, what: string): string {
  assert.equal(result.code, 0, `${what} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

describe('tessera fs put --index with a search cluster in the same registry', () => {
  const dir = tempDir('fs-index');
  const http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 10_000,
    breaker: { failureThreshold: 1e9 },
  });
  const processes: RunningProcess[] = [];
  let registry: RunningProcess;
  let meta: RunningProcess;
  let search: SearchCluster;
  const local = (name: string): string => join(dir.path, name);
  const fs = (...args: string[]): Promise<CliResult> =>
    runCli(['fs', ...args, '--registry', registry.url]);
  const storedDoc = (docId: string): Promise<unknown> =>
    http.getJson(`${search.url(0)}/doc/${encodeURIComponent(docId)}`);

  before(async () => {
    writeFileSync(local('a.txt'), 'The zeppelin floated over the harbour at dawn.\n');
    writeFileSync(local('b.txt'), 'A note about a gramophone in the attic.\n');
    writeFileSync(local('c.txt'), 'A quixotic plan, written while the search nodes were down.\n');
    writeFileSync(local('blob.bin'), Buffer.from([0x7a, 0x65, 0x70, 0x00, 0x01, 0x02]));
    // A long heartbeat timeout: killed search nodes stay listed, so "down" means unreachable.
    registry = await startTessera([
      'registry',
      '--port', '0',
      '--in-memory',
      '--heartbeat-timeout', '60',
    ]); // prettier-ignore
    processes.push(registry);
    search = new SearchCluster({ nodes: 2, registryUrl: registry.url });
    const [startedMeta] = await Promise.all([
      startTessera([
        'meta',
        '--port', '0',
        '--data-dir', join(dir.path, 'meta'),
        '--registry', registry.url,
        '--heartbeat-interval', '0.2',
      ]), // prettier-ignore
      search.start(),
    ]);
    meta = startedMeta;
    processes.push(meta);
    processes.push(
      await startTessera([
        'datanode',
        '--port', '0',
        '--data-dir', join(dir.path, 'datanode'),
        '--registry', registry.url,
        '--meta', meta.url,
        '--heartbeat-interval', '0.2',
      ]), // prettier-ignore
    );
    await waitFor('an active datanode', async () => {
      const { nodes } = await http.getJson<{ nodes: { state: string }[] }>(
        `${meta.url}/api/v1/nodes`,
      );
      return nodes.some((node) => node.state === 'active');
    });
  });

  after(async () => {
    await search.stop();
    await Promise.all(processes.map((process) => process.kill('SIGKILL')));
    await http.close();
    dir.cleanup();
  });

  test('put --index: search finds the file by a word of its content, under its DFS path', async () => {
    const [put, other, binary] = await Promise.all([
      fs('put', local('a.txt'), '/docs/', '--index', '--replication', '1', '--json'),
      fs('put', local('b.txt'), '/docs/b.txt', '--index', '--replication', '1'),
      fs('put', local('blob.bin'), '/docs/blob.bin', '--index', '--replication', '1'),
    ]);
    const stored = JSON.parse(assertOk(put, 'put --index --json')) as {
      path: string;
      indexed: boolean;
    };
    assert.equal(stored.path, '/docs/a.txt');
    assert.equal(stored.indexed, true);
    assert.match(assertOk(other, 'put --index'), /\/docs\/b\.txt: .*; indexed for search\n$/);
    assert.equal(binary.code, 2, binary.stderr);
    assert.match(
      binary.stderr,
      /^tessera fs put: stored \/docs\/blob\.bin, but did not index it: it is binary/m,
    );
    await http.getJson(`${meta.url}/api/v1/files/docs/blob.bin`); // stored all the same
    await assert.rejects(storedDoc('/docs/blob.bin'), /404/);

    const found = await runCli([
      'search',
      'query',
      'zeppelin',
      '--registry',
      registry.url,
      '--json',
    ]);
    const answer = JSON.parse(assertOk(found, 'search query')) as SearchAnswer;
    assert.deepEqual(
      answer.results.map((result) => result.doc_id),
      ['/docs/a.txt'],
    );
    assert.deepEqual(answer.results[0]?.metadata, { path: '/docs/a.txt', size: 47, source: 'dfs' });
    assert.match(answer.results[0]?.snippet ?? '', /<mark>zeppelin<\/mark>/);
  });

  test('rm deletes the search document too', async () => {
    const removed = await fs('rm', '/docs/a.txt');
    assert.equal(assertOk(removed, 'rm'), 'deleted /docs/a.txt and its search document\n');
    await assert.rejects(storedDoc('/docs/a.txt'), /404/);
    const answer = await search.search(0, 'zeppelin', { feedback: false });
    assert.equal(answer.total, 0);
  });

  test('search nodes down: put and rm succeed and warn; fs index and search delete finish later', async () => {
    await Promise.all(search.running().map((index) => search.kill(index)));
    const [put, removed] = await Promise.all([
      fs('put', local('c.txt'), '/docs/c.txt', '--index', '--replication', '1'),
      fs('rm', '/docs/b.txt'),
    ]);
    assert.equal(put.code, 0, put.stderr);
    assert.match(
      put.stderr,
      /^tessera fs put: stored \/docs\/c\.txt, but could not index it for search \(.+\); start the search nodes .*then run `tessera fs index \/docs\/c\.txt`$/m,
    );
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'deleted /docs/b.txt\n');
    assert.match(removed.stderr, /run `tessera search delete \/docs\/b\.txt`\n$/);

    await Promise.all([search.startNode(0), search.startNode(1)]);
    await search.waitForLeader();
    const [indexed, deleted] = await Promise.all([
      fs('index', '/docs/c.txt'),
      runCli(['search', 'delete', '/docs/b.txt', '--registry', registry.url]),
    ]);
    assert.equal(assertOk(indexed, 'fs index'), 'indexed /docs/c.txt for search (59 B)\n');
    assert.equal(assertOk(deleted, 'search delete'), 'deleted /docs/b.txt\n');
    const answer = await search.search(1, 'quixotic', { feedback: false });
    assert.deepEqual(
      answer.results.map((result) => result.doc_id),
      ['/docs/c.txt'],
    );
    await assert.rejects(storedDoc('/docs/b.txt'), (error: unknown) => {
      assert.ok(error instanceof HttpStatusError && error.status === 404);
      return true;
    });
  });
});
