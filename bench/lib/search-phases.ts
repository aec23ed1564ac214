/**
 * The measurements of the search benchmark against a running BenchSearchCluster: bulk
 * indexing through `POST /docs`, the ranked runs of every query through `GET /search`, query
 * latency, and the leader's failover after a SIGKILL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CranfieldQuery, Run } from '../search-relevance.js';
import { cpuWindow, type CpuWindowResult } from './search-cpu.js';
import type { BenchDocument, BenchSearchCluster, SearchParams } from './search-cluster.js';

/** A bulk-indexing measurement. */
export interface IndexingResult {
  readonly docs: number;
  readonly batchSize: number;
  readonly inFlight: number;
  readonly seconds: number;
  readonly docsPerS: number;
  /** CPU time the nodes used meanwhile (utime + stime, all nodes). */
  readonly nodeCpuMs: number;
  /** Documents per second of node CPU time: the rate on one core the nodes had to themselves. */
  readonly docsPerCpuS: number;
  /** Average cores busy with other work (not the nodes, not the benchmark) meanwhile. */
  readonly otherCores: number;
}

/**
 * Sends `docs` in batches of `batchSize` through `POST /docs`, `inFlight` batches at a time,
 * each to the next node in turn (any node accepts any document and forwards it to its owners).
 */
export async function bulkIndex(
  cluster: BenchSearchCluster,
  docs: readonly BenchDocument[],
  batchSize: number,
  inFlight: number,
): Promise<IndexingResult> {
  const nodes = cluster.running();
  const batches: BenchDocument[][] = [];
  for (let at = 0; at < docs.length; at += batchSize) batches.push(docs.slice(at, at + batchSize));
  let next = 0;
  let indexed = 0;
  const cpu = cpuWindow(cluster.pids());
  const startedMs = performance.now();
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const at = next++;
      const batch = batches[at] ?? [];
      const stored = await cluster.postDocs(nodes[at % nodes.length] ?? 0, batch);
      indexed += stored;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - startedMs) / 1000;
  const { nodeCpuMs, otherCores } = cpu.end();
  if (indexed !== docs.length) throw new Error(`indexed ${indexed} of ${docs.length} documents`);
  return {
    docs: docs.length,
    batchSize,
    inFlight,
    seconds,
    docsPerS: docs.length / seconds,
    nodeCpuMs,
    docsPerCpuS: docs.length / Math.max(0.001, nodeCpuMs / 1000),
    otherCores,
  };
}

/** The ranked run of every query through the cluster, plus what went wrong. */
export interface ClusterRun {
  readonly run: Run;
  readonly partialAnswers: number;
  readonly seconds: number;
}

/** Runs every query at depth `k` (sequentially, entry nodes in turn). */
export async function clusterRun(
  cluster: BenchSearchCluster,
  queries: readonly CranfieldQuery[],
  k: number,
  params: SearchParams,
): Promise<ClusterRun> {
  const nodes = cluster.running();
  const run: Run = new Map();
  let partialAnswers = 0;
  const startedMs = performance.now();
  for (const [at, query] of queries.entries()) {
    const answer = await cluster.search(nodes[at % nodes.length] ?? 0, query.text, {
      ...params,
      k,
    });
    if (answer.partial) partialAnswers += 1;
    run.set(
      query.id,
      answer.results.map((result) => result.doc_id),
    );
  }
  return { run, partialAnswers, seconds: (performance.now() - startedMs) / 1000 };
}

/** Queries whose first `depth` results differ between two runs (ids and order). */
export function differingQueries(a: Run, b: Run, depth: number): string[] {
  const ids = new Set([...a.keys(), ...b.keys()]);
  return [...ids].filter((id) => {
    const left = (a.get(id) ?? []).slice(0, depth);
    const right = (b.get(id) ?? []).slice(0, depth);
    return left.length !== right.length || left.some((doc, i) => doc !== right[i]);
  });
}

/** Latencies of one sequential pass, client round trip and the node's own `took_ms`. */
export interface LatencyResult {
  readonly queries: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly serverP50Ms: number;
  readonly serverP99Ms: number;
  /** CPU time of all nodes per measured request (utime + stime). */
  readonly nodeCpuMsPerQuery: number;
  /** Average cores busy with other work (not the nodes, not the benchmark) meanwhile. */
  readonly otherCores: number;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? 0;
}

/** The latency figures of measured requests (serverMs empty where the node reports none). */
function summarizeLatency(
  clientMs: readonly number[],
  serverMs: readonly number[],
  cpu: CpuWindowResult,
): LatencyResult {
  return {
    queries: clientMs.length,
    p50Ms: percentile(clientMs, 50),
    p90Ms: percentile(clientMs, 90),
    p99Ms: percentile(clientMs, 99),
    maxMs: Math.max(0, ...clientMs),
    meanMs: clientMs.reduce((sum, ms) => sum + ms, 0) / Math.max(1, clientMs.length),
    serverP50Ms: percentile(serverMs, 50),
    serverP99Ms: percentile(serverMs, 99),
    nodeCpuMsPerQuery: cpu.nodeCpuMs / Math.max(1, clientMs.length),
    otherCores: cpu.otherCores,
  };
}

/**
 * `warmupPasses` unmeasured passes over the queries, then `passes` measured ones, k = 10.
 * Query i goes to entry node (i + `entryShift`) mod N, so a shift sends every query to a
 * coordinator that has not run it before (whose caches hold only what other queries left).
 */
export async function measureLatency(
  cluster: BenchSearchCluster,
  queries: readonly CranfieldQuery[],
  params: SearchParams,
  warmupPasses: number,
  passes: number,
  entryShift = 0,
): Promise<LatencyResult> {
  const nodes = cluster.running();
  const clientMs: number[] = [];
  const serverMs: number[] = [];
  const pids = cluster.pids();
  let cpu = cpuWindow(pids);
  for (let pass = 0; pass < warmupPasses + passes; pass += 1) {
    if (pass === warmupPasses) cpu = cpuWindow(pids);
    for (const [at, query] of queries.entries()) {
      const startedMs = performance.now();
      const entry = nodes[(at + entryShift) % nodes.length] ?? 0;
      const answer = await cluster.search(entry, query.text, { ...params, k: 10 });
      if (pass < warmupPasses) continue;
      clientMs.push(performance.now() - startedMs);
      serverMs.push(answer.took_ms);
    }
  }
  return summarizeLatency(clientMs, serverMs, cpu.end());
}

/** `GET /status` round trips after as many warm-up ones: the floor under any request to a node. */
export async function measureStatusLatency(
  cluster: BenchSearchCluster,
  count: number,
): Promise<LatencyResult> {
  const nodes = cluster.running();
  const pids = cluster.pids();
  const times: number[] = [];
  let cpu = cpuWindow(pids);
  for (let at = 0; at < count * 2; at += 1) {
    if (at === count) cpu = cpuWindow(pids);
    const startedMs = performance.now();
    await cluster.status(nodes[at % nodes.length] ?? 0);
    if (at >= count) times.push(performance.now() - startedMs);
  }
  return summarizeLatency(times, [], cpu.end());
}

/**
 * Searches right after a one-document write (`POST /docs` of a fresh document, then the next
 * query, k = 10), `samples` times: what the first query after a change of the index costs.
 */
export async function measureAfterWrite(
  cluster: BenchSearchCluster,
  queries: readonly CranfieldQuery[],
  params: SearchParams,
  samples: number,
): Promise<LatencyResult> {
  const nodes = cluster.running();
  const clientMs: number[] = [];
  const serverMs: number[] = [];
  const cpu = cpuWindow(cluster.pids());
  for (let at = 0; at < samples; at += 1) {
    const entry = nodes[at % nodes.length] ?? 0;
    const content = `written between queries ${at}: ${queries[at % queries.length]?.text ?? ''}`;
    await cluster.postDocs(entry, [{ doc_id: `bench-write-${at}`, content, metadata: {} }]);
    const startedMs = performance.now();
    const answer = await cluster.search(entry, queries[at % queries.length]?.text ?? 'flow', {
      ...params,
      k: 10,
    });
    clientMs.push(performance.now() - startedMs);
    serverMs.push(answer.took_ms);
  }
  return summarizeLatency(clientMs, serverMs, cpu.end());
}

/** What happened after the leader was SIGKILLed. */
export interface FailoverResult {
  readonly oldLeader: number;
  readonly newLeader: number | undefined;
  /** Kill -> first survivor that names a new leader in `GET /status`. */
  readonly firstNewLeaderMs: number | undefined;
  /** Kill -> every survivor names the same new leader and sees every survivor live. */
  readonly leaderAgreedMs: number | undefined;
  /** Kill -> first search answer that is complete and equals the answer before the kill. */
  readonly searchesCorrectAgainMs: number | undefined;
  /** Searches sent in the window, and how they went. */
  readonly searches: number;
  readonly failedSearches: number;
  readonly partialSearches: number;
  readonly wrongSearches: number;
  /** Longest stretch without a successful answer, from the kill on. */
  readonly longestGapMs: number;
  readonly slowestSearchMs: number;
  /** When (after the kill) the slowest search was sent. */
  readonly slowestSearchSentMs: number;
  /** Documents the survivors re-replicated (copies the dead node held) during the window. */
  readonly reReplicatedDocs: number;
}

interface Probe {
  readonly atMs: number;
  readonly doneMs: number;
  readonly ok: boolean;
  readonly partial: boolean;
  readonly equal: boolean;
}

/**
 * SIGKILLs the leader, then polls every survivor's `GET /status` and sends searches of
 * `probeQuery` to the survivors in turn, until the survivors agree on a new leader and a
 * further `settleMs` has passed (or `timeoutMs`).
 */
export async function measureFailover(
  cluster: BenchSearchCluster,
  probeQuery: string,
  options: { settleMs: number; timeoutMs: number },
): Promise<FailoverResult> {
  const oldLeader = await cluster.waitForLeader(cluster.running(), 30_000);
  const reference = (await cluster.search(oldLeader, probeQuery)).results.map((r) => r.doc_id);
  const survivors = cluster.running().filter((id) => id !== oldLeader);
  const copiedBefore = await copiedByRepair(cluster, survivors);
  const killedMs = performance.now();
  // The SIGKILL goes out synchronously; waiting for the exit runs alongside the probes.
  const killed = cluster.kill(oldLeader);
  const since = (): number => performance.now() - killedMs;
  let firstNewLeaderMs: number | undefined;
  let leaderAgreedMs: number | undefined;
  let newLeader: number | undefined;
  const done = (): boolean =>
    since() > options.timeoutMs ||
    (leaderAgreedMs !== undefined && since() > leaderAgreedMs + options.settleMs);

  const watchLeader = async (): Promise<void> => {
    while (!done()) {
      const statuses = await Promise.all(
        survivors.map((id) => cluster.status(id, 2_000).catch(() => undefined)),
      );
      const named = statuses.map((status) => status?.leader_id);
      if (
        firstNewLeaderMs === undefined &&
        named.some((id) => typeof id === 'number' && id !== oldLeader)
      )
        firstNewLeaderMs = since();
      if (leaderAgreedMs === undefined) {
        const agreed = await cluster.agreedLeader(survivors);
        if (agreed !== undefined) {
          leaderAgreedMs = since();
          newLeader = agreed;
        }
      }
      await sleep(20);
    }
  };
  const probes: Probe[] = [];
  const probeSearches = async (): Promise<void> => {
    for (let at = 0; !done(); at += 1) {
      const atMs = since();
      try {
        const answer = await cluster.search(
          survivors[at % survivors.length] ?? 0,
          probeQuery,
          {},
          10_000,
        );
        const ids = answer.results.map((r) => r.doc_id);
        const equal = ids.length === reference.length && ids.every((id, i) => id === reference[i]);
        probes.push({ atMs, doneMs: since(), ok: true, partial: answer.partial, equal });
      } catch {
        probes.push({ atMs, doneMs: since(), ok: false, partial: false, equal: false });
        await sleep(10);
      }
    }
  };
  await Promise.all([killed, watchLeader(), probeSearches()]);
  const reReplicatedDocs = (await copiedByRepair(cluster, survivors)) - copiedBefore;
  return {
    ...summarizeFailover(oldLeader, newLeader, firstNewLeaderMs, leaderAgreedMs, probes),
    reReplicatedDocs,
  };
}

/** Documents the given nodes' repair loops have copied so far. */
async function copiedByRepair(
  cluster: BenchSearchCluster,
  nodes: readonly number[],
): Promise<number> {
  const statuses = await Promise.all(nodes.map((id) => cluster.status(id).catch(() => undefined)));
  return statuses.reduce((sum, status) => sum + (status?.repair?.copied ?? 0), 0);
}

function summarizeFailover(
  oldLeader: number,
  newLeader: number | undefined,
  firstNewLeaderMs: number | undefined,
  leaderAgreedMs: number | undefined,
  probes: readonly Probe[],
): Omit<FailoverResult, 'reReplicatedDocs'> {
  const correct = probes.find((probe) => probe.ok && !probe.partial && probe.equal);
  const slowest = [...probes].sort((a, b) => b.doneMs - b.atMs - (a.doneMs - a.atMs))[0];
  let longestGapMs = 0;
  let lastOkMs = 0;
  for (const probe of probes) {
    if (!probe.ok) continue;
    longestGapMs = Math.max(longestGapMs, probe.doneMs - lastOkMs);
    lastOkMs = probe.doneMs;
  }
  return {
    oldLeader,
    newLeader,
    firstNewLeaderMs,
    leaderAgreedMs,
    searchesCorrectAgainMs: correct?.doneMs,
    searches: probes.length,
    failedSearches: probes.filter((probe) => !probe.ok).length,
    partialSearches: probes.filter((probe) => probe.ok && probe.partial).length,
    wrongSearches: probes.filter((probe) => probe.ok && !probe.partial && !probe.equal).length,
    longestGapMs,
    slowestSearchMs: slowest === undefined ? 0 : slowest.doneMs - slowest.atMs,
    slowestSearchSentMs: slowest?.atMs ?? 0,
  };
}
