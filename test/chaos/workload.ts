/**
 * The chaos workload: three drivers that run while faults are injected — DFS uploads and
 * downloads with checksums (the DFS client library), indexing and searches (the search client,
 * through the registry), word-count jobs (the MapReduce master's HTTP API). Each records what the
 * cluster acknowledged; failed operations are expected during faults and only counted.
 */
import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '../../src/core/http-client.js';
import { SeededRandom } from '../../src/core/random.js';
import { DfsClient } from '../../src/dfs/index.js';
import type { JobView } from '../../src/mapreduce/index.js';
import { SearchClient, type SearchDocument } from '../../src/search/index.js';
import { generateText } from '../helpers/mapreduce-cluster.js';
import { wordCounts } from './invariants.pure.js';

/** The operation kinds counted in the summary. */
export type OperationKind =
  'dfs-put' | 'dfs-get' | 'search-index' | 'search-query' | 'job-submit' | 'job-run';

/** A job whose submission the master acknowledged. */
export interface AcknowledgedJob {
  readonly output: string;
  state: string;
  /** The workload saw the master report `succeeded`. */
  reportedSuccess: boolean;
}

/** What the run did and what the cluster acknowledged. */
export class Ledger {
  readonly operations = new Map<OperationKind, { ok: number; failed: number }>();
  /** Acknowledged files: path -> SHA-256 of the bytes uploaded. */
  readonly files = new Map<string, string>();
  /** Acknowledged documents: doc id -> its unique term. */
  readonly documents = new Map<string, string>();
  readonly jobs = new Map<string, AcknowledgedJob>();
  /** Downloads during the run that succeeded with other bytes than uploaded. */
  readonly corruptReads: { path: string; expected: string; actual: string }[] = [];
  /** Searches during the run that named an acknowledged document more than once. */
  readonly duplicateHits: string[] = [];
  /** The first and the last error of each kind, to explain failed counts. */
  readonly firstErrors = new Map<OperationKind, string>();
  readonly lastErrors = new Map<OperationKind, string>();

  record(kind: OperationKind, ok: boolean, error?: unknown): void {
    const counts = this.operations.get(kind) ?? { ok: 0, failed: 0 };
    if (ok) counts.ok += 1;
    else counts.failed += 1;
    this.operations.set(kind, counts);
    if (ok) return;
    if (!this.firstErrors.has(kind)) this.firstErrors.set(kind, errorText(error));
    this.lastErrors.set(kind, errorText(error));
  }
}

/** The input of every word-count job and the counts its output must hold. */
export const WORDCOUNT_INPUT = '/chaos/input/words.txt';

export interface WorkloadContext {
  readonly seed: number;
  readonly ledger: Ledger;
  readonly registryUrl: string;
  readonly metaUrl: string;
  readonly masterUrl: string;
  /** A directory for the local copies of uploads. */
  readonly scratchDir: string;
  /** Set when the fault window ends. */
  readonly stopped: () => boolean;
}

/** The HTTP client of every driver: short timeouts, and no breaker that would blind it for 60 s. */
export function workloadHttp(): HttpClient {
  return new HttpClient({ timeoutMs: 10_000, maxRetries: 2, breaker: { failureThreshold: 1e9 } });
}

/** The text the word-count jobs read, and its counts. */
export function wordcountInput(seed: number): { text: string; counts: Map<string, number> } {
  const text = generateText(60_000, seed);
  return { text, counts: wordCounts(text) };
}

/** A term no other document holds and the analyzer keeps as is: consonants, no s or y. */
export function uniqueTerm(seed: number, n: number): string {
  const letters = 'bcdfghjkmnpqrtvwxz';
  let value = (seed >>> 0) * 100_003 + n;
  let term = '';
  do {
    term += letters[value % letters.length];
    value = Math.floor(value / letters.length);
  } while (value > 0);
  return `zq${term}`;
}

/** Uploads new files and downloads acknowledged ones, checking their SHA-256. */
export async function runDfsWorkload(context: WorkloadContext): Promise<void> {
  const random = new SeededRandom(context.seed + 1);
  const http = workloadHttp();
  const dfs = new DfsClient({ metaUrl: context.metaUrl, http });
  try {
    for (let n = 0; !context.stopped(); n += 1) {
      const paths = [...context.ledger.files.keys()];
      if (paths.length === 0 || random.next() < 0.5) await uploadOne(context, dfs, random, n);
      else await downloadOne(context, dfs, paths[random.int(paths.length)] ?? '');
      await sleep(100 + random.int(200));
    }
  } finally {
    await dfs.close();
    await http.close();
  }
}

async function uploadOne(
  context: WorkloadContext,
  dfs: DfsClient,
  random: SeededRandom,
  n: number,
): Promise<void> {
  const bytes = Buffer.alloc(1 + random.int(200_000));
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = random.int(256);
  const local = join(context.scratchDir, `upload-${n}.bin`);
  const remote = `/chaos/files/f-${n}.bin`;
  writeFileSync(local, bytes);
  try {
    await dfs.putFile(local, remote, { chunkSize: 64 * 1024 });
    context.ledger.files.set(remote, sha256(bytes));
    context.ledger.record('dfs-put', true);
  } catch (error) {
    context.ledger.record('dfs-put', false, error);
  } finally {
    rmSync(local, { force: true });
  }
}

async function downloadOne(context: WorkloadContext, dfs: DfsClient, path: string): Promise<void> {
  try {
    const actual = sha256(await dfs.getBuffer(path));
    const expected = context.ledger.files.get(path) ?? '';
    if (actual !== expected) context.ledger.corruptReads.push({ path, expected, actual });
    context.ledger.record('dfs-get', true);
  } catch (error) {
    context.ledger.record('dfs-get', false, error);
  }
}

/** Indexes small batches of documents and searches for acknowledged ones. */
export async function runSearchWorkload(context: WorkloadContext): Promise<void> {
  const random = new SeededRandom(context.seed + 2);
  const search = new SearchClient({ registryUrl: context.registryUrl, timeoutMs: 10_000 });
  let next = 0;
  try {
    while (!context.stopped()) {
      const ids = [...context.ledger.documents.keys()];
      if (ids.length === 0 || random.next() < 0.5) {
        const batch = Array.from({ length: 1 + random.int(4) }, () =>
          chaosDocument(context, next++),
        );
        await indexBatch(context, search, batch);
      } else await queryOne(context, search, ids[random.int(ids.length)] ?? '');
      await sleep(100 + random.int(200));
    }
  } finally {
    await search.close();
  }
}

function chaosDocument(context: WorkloadContext, n: number): SearchDocument {
  const term = uniqueTerm(context.seed, n);
  return {
    doc_id: `chaos-doc-${n}`,
    content: `${term} is the chaos document number ${n}; replicated, indexed and searched under faults.`,
    metadata: { term },
  };
}

async function indexBatch(
  context: WorkloadContext,
  search: SearchClient,
  batch: readonly SearchDocument[],
): Promise<void> {
  try {
    await search.index(batch);
    for (const doc of batch) context.ledger.documents.set(doc.doc_id, termOf(doc));
    context.ledger.record('search-index', true);
  } catch (error) {
    context.ledger.record('search-index', false, error);
  }
}

async function queryOne(context: WorkloadContext, search: SearchClient, docId: string) {
  const term = context.ledger.documents.get(docId) ?? '';
  try {
    const answer = await search.search(term, { feedback: false });
    const hits = answer.results.filter((result) => result.doc_id === docId).length;
    if (hits > 1) context.ledger.duplicateHits.push(`${docId} x${hits} for "${term}"`);
    context.ledger.record('search-query', true);
  } catch (error) {
    context.ledger.record('search-query', false, error);
  }
}

function termOf(doc: SearchDocument): string {
  return String(doc.metadata?.['term']);
}

/** Submits word-count jobs one after the other and follows each to its end. */
export async function runMapReduceWorkload(context: WorkloadContext): Promise<void> {
  const http = workloadHttp();
  try {
    for (let n = 0; !context.stopped(); n += 1) {
      const output = `/chaos/out/job-${n}`;
      const jobId = await submitJob(context, http, output);
      if (jobId !== undefined) await followJob(context, http, jobId);
      else await sleep(500);
    }
  } finally {
    await http.close();
  }
}

async function submitJob(
  context: WorkloadContext,
  http: HttpClient,
  output: string,
): Promise<string | undefined> {
  try {
    const spec = { builtin: 'wordcount', input: [WORDCOUNT_INPUT], output, reducers: 2 };
    const job = await http.postJson<JobView>(`${context.masterUrl}/jobs`, spec);
    context.ledger.jobs.set(job.id, { output, state: job.state, reportedSuccess: false });
    context.ledger.record('job-submit', true);
    return job.id;
  } catch (error) {
    context.ledger.record('job-submit', false, error);
    return undefined;
  }
}

/** Polls a job until it finishes or the fault window ends (convergence follows it further). */
async function followJob(context: WorkloadContext, http: HttpClient, jobId: string) {
  const job = context.ledger.jobs.get(jobId);
  while (job !== undefined && !context.stopped()) {
    const view = await jobView(http, context.masterUrl, jobId);
    if (view !== undefined) job.state = view.state;
    if (isFinished(job.state)) {
      job.reportedSuccess = job.state === 'succeeded';
      const why = view?.error ? `: ${view.error}` : '';
      context.ledger.record('job-run', job.reportedSuccess, `job ${jobId} ${job.state}${why}`);
      return;
    }
    await sleep(250);
  }
}

/** The job as the master shows it, or undefined when the master does not answer. */
async function jobView(
  http: HttpClient,
  masterUrl: string,
  jobId: string,
): Promise<JobView | undefined> {
  try {
    return await http.getJson<JobView>(`${masterUrl}/jobs/${jobId}`);
  } catch {
    return undefined;
  }
}

/** The job's state, or undefined when the master does not answer. */
export async function jobState(
  http: HttpClient,
  masterUrl: string,
  jobId: string,
): Promise<string | undefined> {
  return (await jobView(http, masterUrl, jobId))?.state;
}

export function isFinished(state: string): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]!.slice(0, 200) : String(error);
}
