/**
 * After the fault window: the convergence phase (every process running again, then bounded
 * waits for datanodes, jobs, re-replication and one search leader) and the observations the
 * invariant checker judges. Waits end at a deadline; what has not converged by then is observed
 * as it is, and the checker reports it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpClient } from '../../src/core/http-client.js';
import { DfsClient, type FileSummary } from '../../src/dfs/index.js';
import { SearchClient } from '../../src/search/index.js';
import { waitFor } from '../helpers/processes.js';
import type { ChaosCluster } from './cluster.js';
import type {
  DocumentObservation,
  FileObservation,
  JobObservation,
  LeaderObservation,
  Observations,
  ProcessObservation,
  ReplicationObservation,
} from './invariants.pure.js';
import { targetName } from './schedule.pure.js';
import { errorText, isFinished, jobState, sha256, workloadHttp, type Ledger } from './workload.js';

/** Reads of the final observations are retried this often (a read can meet a reconnect). */
const READ_ATTEMPTS = 3;

export interface ConvergenceOptions {
  /** Budget of each bounded wait (default 60 s). */
  readonly waitMs: number;
  /** The counts every word-count job's output must hold. */
  readonly expectedCounts: ReadonlyMap<string, number>;
}

/** Brings the cluster back and waits, each wait bounded, for it to settle; notes what timed out. */
export async function converge(
  cluster: ChaosCluster,
  ledger: Ledger,
  options: ConvergenceOptions,
): Promise<string[]> {
  const notes: string[] = [];
  for (const target of cluster.targets())
    if (!cluster.isRunning(target) && !(await cluster.restart(target)))
      notes.push(`could not restart ${targetName(target)}`);
  const http = workloadHttp();
  const waits: [string, () => Promise<unknown>][] = [
    ['datanodes', () => cluster.mapreduce.dfs.waitForDatanodes(cluster.shape.datanodes)],
    ['jobs', () => waitForJobs(http, cluster.masterUrl, ledger, options.waitMs)],
    ['replication', () => waitForReplication(http, cluster.metaUrl, options.waitMs)],
    ['search leader', () => cluster.search.waitForLeader(options.waitMs)],
  ];
  try {
    for (const [name, wait] of waits) {
      try {
        await wait();
      } catch (error) {
        notes.push(`${name}: ${errorText(error)}`);
      }
    }
  } finally {
    await http.close();
  }
  return notes;
}

async function waitForJobs(http: HttpClient, masterUrl: string, ledger: Ledger, waitMs: number) {
  await waitFor(
    'every acknowledged job to finish',
    async () => {
      for (const [jobId, job] of ledger.jobs) {
        if (isFinished(job.state)) continue;
        job.state = (await jobState(http, masterUrl, jobId)) ?? job.state;
        if (!isFinished(job.state)) return false;
      }
      return true;
    },
    { timeoutMs: waitMs, intervalMs: 250 },
  );
}

async function waitForReplication(http: HttpClient, metaUrl: string, waitMs: number) {
  await waitFor(
    'every chunk at its replication factor',
    async () => (await listAll(http, metaUrl)).every((f) => !f.under_replicated),
    { timeoutMs: waitMs, intervalMs: 300 },
  );
}

/** Every file the master lists (pages followed, bounded). */
async function listAll(http: HttpClient, metaUrl: string): Promise<FileSummary[]> {
  const dfs = new DfsClient({ metaUrl, http });
  const files: FileSummary[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const answer = await dfs.list({ limit: 1000, ...(after === undefined ? {} : { after }) });
    files.push(...answer.files);
    if (answer.next_after === null) return files;
    after = answer.next_after;
  }
  throw new Error('the listing did not end within 1000 pages');
}

/** What the cluster shows after convergence, for the invariant checker. */
export async function observe(
  cluster: ChaosCluster,
  ledger: Ledger,
  options: ConvergenceOptions,
): Promise<Observations> {
  const http = workloadHttp();
  const dfs = new DfsClient({ metaUrl: cluster.metaUrl, http });
  const search = new SearchClient({ registryUrl: cluster.registryUrl, timeoutMs: 10_000 });
  try {
    return {
      files: await observeFiles(dfs, ledger),
      replication: await observeReplication(http, cluster.metaUrl),
      documents: await observeDocuments(search, ledger),
      jobs: await observeJobs(http, dfs, cluster.masterUrl, ledger, options.expectedCounts),
      leaders: await observeLeaders(cluster),
      processes: await observeProcesses(cluster, http),
    };
  } finally {
    await search.close();
    await dfs.close();
    await http.close();
  }
}

/** Calls `read` up to READ_ATTEMPTS times; answers its value or the last error's text. */
async function retried<T>(read: () => Promise<T>): Promise<T | { error: string }> {
  let last: unknown;
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      last = error;
      await sleep(200 * (attempt + 1));
    }
  }
  return { error: errorText(last) };
}

async function observeFiles(dfs: DfsClient, ledger: Ledger): Promise<FileObservation[]> {
  const files: FileObservation[] = [];
  for (const [path, expectedSha256] of ledger.files) {
    const downloaded = await retried(async () => ({ sha256: sha256(await dfs.getBuffer(path)) }));
    files.push({ path, expectedSha256, downloaded });
  }
  for (const read of ledger.corruptReads)
    files.push({
      path: `${read.path} (read during the run)`,
      expectedSha256: read.expected,
      downloaded: { sha256: read.actual },
    });
  return files;
}

async function observeReplication(
  http: HttpClient,
  metaUrl: string,
): Promise<ReplicationObservation[] | { error: string }> {
  const listed = await retried(() => listAll(http, metaUrl));
  if ('error' in listed) return listed;
  return listed.map((file) => ({
    path: file.path,
    replicationFactor: file.replication_factor,
    minLiveReplicas: file.min_live_replicas,
  }));
}

async function observeDocuments(
  search: SearchClient,
  ledger: Ledger,
): Promise<DocumentObservation[]> {
  const documents: DocumentObservation[] = [];
  for (const [docId, term] of ledger.documents) {
    const resultDocIds = await retried(async () => {
      const answer = await search.search(term, { feedback: false, k: 10 });
      if (answer.partial) throw new Error('partial answer');
      return answer.results.map((result) => result.doc_id);
    });
    documents.push({ docId, term, resultDocIds });
  }
  for (const hit of ledger.duplicateHits)
    documents.push({ docId: hit, term: '(during the run)', resultDocIds: [hit, hit] });
  return documents;
}

async function observeJobs(
  http: HttpClient,
  dfs: DfsClient,
  masterUrl: string,
  ledger: Ledger,
  expectedCounts: ReadonlyMap<string, number>,
): Promise<JobObservation[]> {
  const jobs: JobObservation[] = [];
  for (const [jobId, job] of ledger.jobs) {
    const state = (await jobState(http, masterUrl, jobId)) ?? job.state;
    const succeeded = state === 'succeeded' || job.reportedSuccess;
    const output = succeeded ? await retried(() => readOutput(dfs, job.output)) : undefined;
    jobs.push({ jobId, state, reportedSuccess: job.reportedSuccess, expectedCounts, output });
  }
  return jobs;
}

/** The concatenated part files of a committed output directory. */
async function readOutput(dfs: DfsClient, dir: string): Promise<string> {
  const { files } = await dfs.list({ prefix: `${dir}/`, limit: 1000 });
  const paths = files.map((f) => f.path);
  if (!paths.includes(`${dir}/_SUCCESS`)) throw new Error(`${dir}/_SUCCESS is missing`);
  const parts = paths.filter((p) => /\/part-r-\d{5}$/.test(p)).sort();
  const texts: string[] = [];
  for (const part of parts) texts.push((await dfs.getBuffer(part)).toString('utf8'));
  return texts.join('');
}

async function observeLeaders(cluster: ChaosCluster): Promise<LeaderObservation[]> {
  const leaders: LeaderObservation[] = [];
  for (const nodeId of cluster.search.running()) {
    const status = await retried(() => cluster.search.status(nodeId));
    leaders.push({ nodeId, leaderId: 'error' in status ? status : status.leader_id });
  }
  return leaders;
}

async function observeProcesses(
  cluster: ChaosCluster,
  http: HttpClient,
): Promise<ProcessObservation[]> {
  const processes: ProcessObservation[] = [];
  for (const target of cluster.targets()) {
    const name = targetName(target);
    const running = cluster.isRunning(target);
    const url = cluster.process(target)?.url;
    const healthy =
      running &&
      url !== undefined &&
      (await retried(async () => (await http.getJson(`${url}/health`), true))) === true;
    processes.push({
      name,
      running,
      healthy,
      unexpectedExits: cluster.unexpectedExits.get(name) ?? [],
    });
  }
  return processes;
}
