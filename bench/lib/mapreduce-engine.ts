/**
 * The engine side of the MapReduce benchmark: upload the corpus to the DFS, run the builtin
 * word count (submit -> `succeeded`, polled every 100 ms), read its output back, and the same
 * run with one worker SIGKILLed in the middle of the map phase.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DfsClient } from '../../src/dfs/index.js';
import type { BenchMapReduceCluster } from './mapreduce-cluster-process.js';
import { getJson, postJson } from './mapreduce-cluster-process.js';

/** What `GET /jobs/{id}` answers, the parts the benchmark reads. */
interface JobAnswer {
  readonly id: string;
  readonly state: string;
  readonly error: string | null;
  readonly duration_ms: number | null;
  readonly counters: Record<string, number>;
  readonly stats: Record<string, number>;
  readonly progress: { readonly map: { readonly done: number; readonly total: number } };
}

interface TaskAnswer {
  readonly task_id: string;
  readonly phase: string;
  readonly state: string;
  readonly worker_id: string | null;
  readonly progress: number;
}

/** One engine run. */
export interface EngineRun {
  /** Submit (POST /jobs) to the first `succeeded` seen. */
  readonly seconds: number;
  /** The master's own figure (started -> finished, after the output commit). */
  readonly jobDurationS: number;
  readonly mapTasks: number;
  readonly counters: Record<string, number>;
  readonly stats: Record<string, number>;
}

/** Uploads the corpus (replication 3, the DFS default); answers the seconds. */
export async function uploadCorpus(
  cluster: BenchMapReduceCluster,
  local: string,
  remote: string,
  chunkSizeBytes: number,
): Promise<number> {
  const client = new DfsClient({ metaUrl: cluster.dfs.meta.url });
  try {
    const started = performance.now();
    await client.putFile(local, remote, { overwrite: true, chunkSize: chunkSizeBytes });
    return (performance.now() - started) / 1000;
  } finally {
    await client.close();
  }
}

/**
 * Runs the builtin word count; `duringMaps` (if given) runs once some map attempt has done a
 * third of its split, with the id of that attempt's worker, while the job goes on.
 */
export async function runWordCount(
  cluster: BenchMapReduceCluster,
  input: string,
  output: string,
  reducers: number,
  duringMaps?: (workerId: string) => Promise<void>,
): Promise<EngineRun> {
  const started = performance.now();
  const created = await postJson<JobAnswer>(`${cluster.master.url}/jobs`, {
    builtin: 'wordcount',
    input: [input],
    output,
    reducers,
  });
  if (duringMaps) {
    await duringMaps(await waitForMapProgress(cluster, created.id, 1 / 3));
  }
  const done = await waitForJob(cluster, created.id, 1_800_000);
  const seconds = (performance.now() - started) / 1000;
  if (done.state !== 'succeeded') throw new Error(`job ${done.id} ${done.state}: ${done.error}`);
  return {
    seconds,
    jobDurationS: (done.duration_ms ?? 0) / 1000,
    mapTasks: done.progress.map.total,
    counters: done.counters,
    stats: done.stats,
  };
}

async function waitForJob(
  cluster: BenchMapReduceCluster,
  id: string,
  timeoutMs: number,
): Promise<JobAnswer> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const job = await getJson<JobAnswer>(`${cluster.master.url}/jobs/${id}`);
    if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
    await sleep(100);
  }
  throw new Error(`job ${id} did not finish in ${timeoutMs / 1000} s`);
}

/** Waits until a map attempt reports `fraction` of its split done; answers its worker's id. */
async function waitForMapProgress(
  cluster: BenchMapReduceCluster,
  jobId: string,
  fraction: number,
): Promise<string> {
  const deadline = performance.now() + 600_000;
  while (performance.now() < deadline) {
    const { tasks } = await getJson<{ tasks: TaskAnswer[] }>(
      `${cluster.master.url}/jobs/${jobId}/tasks`,
    );
    const running = tasks.find(
      (task) =>
        task.phase === 'map' &&
        task.state === 'running' &&
        task.worker_id !== null &&
        task.progress >= fraction,
    );
    if (running?.worker_id) return running.worker_id;
    if (tasks.every((task) => task.phase !== 'map' || task.state === 'succeeded')) {
      throw new Error(`the map phase ended before a map attempt was a third into its split`);
    }
    await sleep(50);
  }
  throw new Error(`no map attempt got ${fraction} of its split done in time`);
}

/** The word counts of a committed word-count output (`word<TAB>count` part files). */
export async function readOutputCounts(
  cluster: BenchMapReduceCluster,
  output: string,
): Promise<Map<string, number>> {
  const client = new DfsClient({ metaUrl: cluster.dfs.meta.url });
  try {
    const { files } = await client.list({ prefix: `${output}/` });
    const counts = new Map<string, number>();
    for (const file of files.filter((f) => /\/part-r-\d{5}$/.test(f.path))) {
      for (const line of (await client.getBuffer(file.path)).toString('utf8').split('\n')) {
        if (line === '') continue;
        const tab = line.indexOf('\t');
        counts.set(line.slice(0, tab), Number(line.slice(tab + 1)));
      }
    }
    return counts;
  } finally {
    await client.close();
  }
}
