// Rules (issue 4, "Tests", real processes): a 4-node cluster ranks exactly as one index holding
// every document (same top 10, same order, same scores, for hundreds of queries on a generated
// Zipf-vocabulary corpus), with every document on k = 2 nodes; SIGKILL a node and every document
// is still found, once; SIGKILL the leader and a new one is elected within a few heartbeat
// intervals while searches keep answering; two holders down make answers partial; restart every
// node and all documents are back (durable index). Any node answers any request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { searchIndex, type InvertedIndex } from '../../../src/search/index/index.js';
import { TESSERA_BIN, startTessera, waitFor } from '../../helpers/processes.js';
import { SearchCluster, type SearchAnswer } from '../../helpers/search-cluster.js';
import { makeCorpus, referenceIndex } from './corpus.js';

const MARKER = 'corpusmark';
const corpus = makeCorpus(2024, 2_000, 250, { marker: MARKER });
const single: InvertedIndex = referenceIndex(corpus.docs);
const cluster = new SearchCluster({ nodes: 4 });

before(async () => {
  await cluster.start();
});

after(async () => {
  await cluster.stop();
});

/** Runs a `tessera` client command to its end. */
async function tessera(args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [TESSERA_BIN, ...args], {
    env: { ...process.env, TESSERA_FROM_SOURCE: '1' },
    timeout: 60_000,
  });
  return stdout;
}

/** Every document the cluster finds for the marker word (which every document holds). */
async function everything(node: number): Promise<{ ids: string[]; partial: boolean }> {
  const ids: string[] = [];
  let partial = false;
  for (let offset = 0; offset < corpus.docs.length + 1000; offset += 1000) {
    const page = await cluster.search(node, MARKER, { k: 1000, offset, feedback: false });
    ids.push(...page.results.map((result) => result.doc_id));
    partial ||= page.partial;
    if (page.results.length < 1000) break;
  }
  return { ids, partial };
}

async function assertAllFound(node: number): Promise<void> {
  const { ids, partial } = await everything(node);
  assert.equal(new Set(ids).size, ids.length, 'no document twice');
  assert.equal(ids.length, corpus.docs.length, 'every document found');
  assert.equal(partial, false);
}

/**
 * Runs `queries` on the running nodes in turn (4 at a time) and compares with one index, with
 * the default pipeline (BM25 + proximity + RM3) or without RM3 (`feedback: false`).
 */
async function assertSameRanking(queries: readonly string[], feedback = true): Promise<void> {
  const nodes = cluster.running();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < queries.length) {
      const i = next++;
      const text = queries[i] as string;
      const answer = await cluster.search(nodes[i % nodes.length] as number, text, {
        k: 10,
        feedback,
      });
      const expected = searchIndex(single, text, 10, { feedback }).map(({ doc_id, score }) => ({
        doc_id,
        score,
      }));
      assert.deepEqual(
        answer.results.map(({ doc_id, score }) => ({ doc_id, score })),
        expected,
        `query ${JSON.stringify(text)} on node ${nodes[i % nodes.length]}: partial ${answer.partial}, nodes ${answer.nodes_queried.join(',')}`,
      );
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

async function totalCopies(): Promise<{ copies: number; primaries: number }> {
  const statuses = await Promise.all(cluster.running().map((index) => cluster.status(index)));
  return {
    copies: statuses.reduce((sum, status) => sum + status.doc_count, 0),
    primaries: statuses.reduce((sum, status) => sum + status.primary_doc_count, 0),
  };
}

/** Waits until re-replication has put every document on exactly k = 2 of the running nodes. */
async function waitForTwoCopies(): Promise<void> {
  let last = { copies: 0, primaries: 0 };
  try {
    await waitFor(
      'every document on exactly 2 nodes',
      async () => {
        last = await totalCopies();
        return last.copies === 2 * corpus.docs.length && last.primaries === corpus.docs.length;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } catch (error) {
    const statuses = await Promise.all(cluster.running().map((index) => cluster.status(index)));
    const detail = statuses.map((status) => ({
      node: status.node_id,
      docs: status.doc_count,
      primaries: status.primary_doc_count,
      live: status.live_nodes,
      repair: status.repair,
    }));
    throw new Error(
      `${(error as Error).message}: last ${JSON.stringify(last)}; ${JSON.stringify(detail)}`,
    );
  }
}

describe('a 4-node search cluster (real processes)', () => {
  test('bulk indexing on any node puts every document on 2 nodes', async () => {
    const started = Date.now();
    const [first, second] = [corpus.docs.slice(0, 1000), corpus.docs.slice(1000)];
    const answers = await Promise.all([
      cluster.http.postJson<{ indexed: number; replicated: number }>(`${cluster.url(0)}/docs`, {
        documents: first,
      }),
      cluster.http.postJson<{ indexed: number; replicated: number }>(`${cluster.url(2)}/docs`, {
        documents: second,
      }),
    ]);
    for (const answer of answers)
      assert.deepEqual(
        { ...answer, nodes: undefined },
        { status: 'ok', indexed: 1000, replicated: 1000, nodes: undefined },
      );
    const elapsedS = (Date.now() - started) / 1000;
    process.stdout.write(
      `# bulk indexing: ${corpus.docs.length} documents (k = 2) in ${elapsedS.toFixed(2)} s\n`,
    );
    await waitForTwoCopies();
    const statuses = await Promise.all([0, 1, 2, 3].map((index) => cluster.status(index)));
    for (const status of statuses)
      assert.ok(status.doc_count > 700 && status.doc_count < 1300, `balanced: ${status.doc_count}`);
  });

  test('250 queries on any node: the same top 10 as one index, in the same order, with the same scores', async () => {
    let started = Date.now();
    await assertSameRanking(corpus.queries.slice(0, 100));
    const rm3Ms = (Date.now() - started) / 100;
    started = Date.now();
    await assertSameRanking(corpus.queries.slice(100, 250), false);
    const plainMs = (Date.now() - started) / 150;
    process.stdout.write(
      `# distributed queries, 4 at a time: ${rm3Ms.toFixed(1)} ms per query (RM3), ${plainMs.toFixed(1)} ms (BM25 + proximity)\n`,
    );
    await assertAllFound(1);
    const answer = await cluster.search(3, corpus.queries[5] as string);
    assert.ok(answer.results.some((result) => result.snippet.includes('<mark>')));
    assert.deepEqual(answer.nodes_queried.length > 0, true);
  });

  test('the leader locates terms; a follower forwards locate to it', async () => {
    const leader = await cluster.waitForLeader();
    assert.equal(leader, 3);
    const term = 'corpusmark';
    const located = await waitFor('the balancer to list every node for the marker', async () => {
      const answer = await cluster.http.getJson<{ nodes: number[] }>(
        `${cluster.url(0)}/locate?terms=${term}`,
      );
      return answer.nodes.length === 4 ? answer : undefined;
    });
    assert.deepEqual(located.nodes, [0, 1, 2, 3]);
  });

  test('SIGKILL a non-leader: every document still found, once; the ranking unchanged; copies restored', async () => {
    await cluster.kill(1);
    await assertAllFound(0);
    await assertSameRanking(corpus.queries.slice(0, 30), false);
    await waitForTwoCopies();
    await cluster.startNode(1);
    await cluster.waitForLeader();
    await assertAllFound(1);
    await waitForTwoCopies();
  });

  test('SIGKILL the leader: a new leader within a few heartbeats, and searches keep answering', async () => {
    assert.equal(await cluster.waitForLeader(), 3);
    let searching = true;
    let answered = 0;
    const errors: unknown[] = [];
    const load = (async () => {
      while (searching) {
        try {
          const answer = await cluster.search(
            answered % 3,
            corpus.queries[answered % 50] as string,
          );
          assert.ok(Array.isArray(answer.results));
          answered += 1;
        } catch (error) {
          errors.push(error);
        }
        await sleep(20);
      }
    })();
    const killedAt = Date.now();
    try {
      await cluster.kill(3);
      // Every surviving node follows node 2: the election's part (the registry notices later).
      await waitFor(
        'every node to follow node 2',
        async () => {
          const statuses = await Promise.all(
            cluster.running().map((index) => cluster.status(index)),
          );
          return statuses.every((status) => status.leader_id === 2);
        },
        { timeoutMs: 15_000, intervalMs: 20 },
      );
      const failoverMs = Date.now() - killedAt;
      process.stdout.write(
        `# leader failover: node 2 leads ${failoverMs} ms after SIGKILL of node 3\n`,
      );
      assert.ok(failoverMs < 5_000, `failover took ${failoverMs} ms`);
      assert.equal(await cluster.waitForLeader(15_000), 2);
      // The new leader's balancer is rebuilt from the nodes' FULL reports.
      await waitFor('locate at the new leader', async () => {
        const answer = await cluster.http.getJson<{ nodes: number[] }>(
          `${cluster.url(2)}/locate?terms=${MARKER}`,
        );
        return answer.nodes.length === 3;
      });
    } finally {
      searching = false;
      await load;
    }
    assert.deepEqual(errors, []);
    assert.ok(answered > 0);
    await assertAllFound(0);
    // A node that comes back with a higher id takes over (Bully).
    await cluster.startNode(3);
    assert.equal(await cluster.waitForLeader(), 3);
    await waitForTwoCopies();
  });

  test('two holders down: answers say partial; restart every node: all documents back', async () => {
    await Promise.all([cluster.kill(0), cluster.kill(1)]);
    const answer: SearchAnswer = await cluster.search(2, MARKER, { k: 1000, feedback: false });
    assert.equal(answer.partial, true);
    const { ids } = await everything(3);
    assert.ok(
      ids.length < corpus.docs.length,
      'documents whose two copies were on nodes 0 and 1 are missing',
    );
    // Once nodes 0 and 1 have left every view (the balancer no longer locates them), answers
    // stay partial: the survivors recorded them as departed, and node 2 still knows after a
    // restart (the record is on disk).
    await waitFor(
      'the registry to drop nodes 0 and 1, and nodes 2 and 3 to record them as departed',
      async () => {
        const active = await cluster.http.getJson<{ servers: { url: string }[] }>(
          `${cluster.registryUrl}/servers/active?role=search-node`,
        );
        if (active.servers.length !== 2) return false;
        const statuses = await Promise.all([2, 3].map((index) => cluster.status(index)));
        return statuses.every(
          (s) => s.documents_may_be_missing && s.departed_uncovered.join() === '0,1',
        );
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await cluster.kill(2);
    await cluster.startNode(2);
    const restarted = await cluster.status(2);
    assert.deepEqual(restarted.departed_uncovered, [0, 1], 'the record survives a restart');
    assert.equal((await cluster.search(2, MARKER, { k: 10, feedback: false })).partial, true);
    // An operator who gives up on nodes 0 and 1 forgets them on every node.
    const forgot = await tessera(['search', 'forget', '0', '1', '--registry', cluster.registryUrl]);
    assert.match(forgot, /forgot 0, 1; still departed: none/);
    for (const index of [2, 3]) {
      assert.equal((await cluster.status(index)).documents_may_be_missing, false);
      const answer = await cluster.search(index, MARKER, { k: 10, feedback: false });
      assert.equal(answer.partial, false, `node ${index} answers complete after forget`);
    }
    await Promise.all([cluster.kill(2), cluster.kill(3)]);
    await Promise.all([0, 1, 2, 3].map((index) => cluster.startNode(index)));
    assert.equal(await cluster.waitForLeader(), 3);
    await assertAllFound(2);
    await assertSameRanking(corpus.queries.slice(100, 130), false);
    await assertSameRanking(corpus.queries.slice(0, 10));
    await waitForTwoCopies();
  });

  test('the CLI indexes files, directories and JSON lines, and queries; a new node gets the lowest free id', async () => {
    const input = join(cluster.dir.path, 'input');
    mkdirSync(join(input, 'notes'), { recursive: true });
    writeFileSync(
      join(input, 'notes', 'airship.txt'),
      'The zeppelin airship floated over the harbour.',
    );
    writeFileSync(join(input, 'notes', 'blob.bin'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(
      join(input, 'docs.jsonl'),
      `${JSON.stringify({ doc_id: 'cli-1', content: 'quasar telescope observations', metadata: { by: 'cli' } })}\n` +
        `${JSON.stringify({ doc_id: 'cli-2', content: 'una canción del telescopio', metadata: { lang: 'es' } })}\n`,
    );
    const summary = JSON.parse(
      await tessera([
        'search',
        'index',
        join(input, 'notes'),
        join(input, 'docs.jsonl'),
        '--registry',
        cluster.registryUrl,
        '--json',
      ]),
    ) as { indexed: number; skipped: number };
    assert.deepEqual(
      { indexed: summary.indexed, skipped: summary.skipped },
      { indexed: 3, skipped: 1 },
    );
    const answer = JSON.parse(
      await tessera([
        'search',
        'query',
        'quasar telescope',
        '-k',
        '3',
        '--json',
        '--registry',
        cluster.registryUrl,
      ]),
    ) as SearchAnswer;
    assert.equal(answer.results[0]?.doc_id, 'cli-1');
    assert.deepEqual(answer.results[0]?.metadata, { by: 'cli' });
    const text = await tessera(['search', 'query', 'zeppelin', '--node', cluster.url(1)]);
    assert.match(text, /airship\.txt/);
    assert.match(text, /\*\*zeppelin\*\*/);
    // A node started without --node-id asks the leader and gets the lowest free id, 4.
    const args = cluster
      .nodeArgs(4)
      .filter((_, i, all) => all[i] !== '--node-id' && all[i - 1] !== '--node-id');
    const fifth = await startTessera(args, { timeoutMs: 60_000 });
    cluster.nodes[4] = fifth;
    const status = await cluster.status(4);
    assert.equal(status.node_id, 4);
    assert.equal(status.binary_id, '0100');
    assert.equal(await cluster.waitForLeader(), 4);
  });
});
