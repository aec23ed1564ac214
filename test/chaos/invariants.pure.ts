/**
 * The chaos suite's invariant checker, kept apart from the code under test and from the code
 * that observes the cluster (as tigerbeetle's state checker is): it takes what was acknowledged
 * during the run and what the cluster showed after convergence, and answers the violations.
 *
 * The invariants (issue 7, "Chaos"):
 * - every acknowledged file downloads byte-identical (same SHA-256 as the bytes uploaded);
 * - every acknowledged document is found exactly once by a search for its unique term;
 * - every job that reported success has the correct output (word count of its input);
 * - no acknowledged job is left unfinished once every process is back;
 * - every chunk is back at its replication factor;
 * - one search leader that every node agrees on, and it is one of them;
 * - no process left dead, and none exited without being killed.
 *
 * Pure: no I/O, clock or randomness.
 */

/** An acknowledged file and what its download after convergence gave. */
export interface FileObservation {
  readonly path: string;
  readonly expectedSha256: string;
  /** SHA-256 of the downloaded bytes, or the download's error. */
  readonly downloaded: { readonly sha256: string } | { readonly error: string };
}

/** An acknowledged document and the doc ids a search for its unique term answered. */
export interface DocumentObservation {
  readonly docId: string;
  readonly term: string;
  readonly resultDocIds: readonly string[] | { readonly error: string };
}

/** A job whose submission was acknowledged, its last state and (if it succeeded) its output. */
export interface JobObservation {
  readonly jobId: string;
  /** The state the master last reported (`succeeded`, `failed`, `running`, ...). */
  readonly state: string;
  /** Whether the workload saw it succeed during the run (an acknowledged success). */
  readonly reportedSuccess: boolean;
  /** Word counts the output must hold. */
  readonly expectedCounts: ReadonlyMap<string, number>;
  /** The concatenated part files, when read (only for succeeded jobs). */
  readonly output: string | { readonly error: string } | undefined;
}

/** A file as the DFS master lists it after convergence. */
export interface ReplicationObservation {
  readonly path: string;
  readonly replicationFactor: number;
  readonly minLiveReplicas: number;
}

/** What one running search node says about the leader. */
export interface LeaderObservation {
  readonly nodeId: number;
  readonly leaderId: number | null | { readonly error: string };
}

/** One supervised process at the end of the run. */
export interface ProcessObservation {
  readonly name: string;
  readonly running: boolean;
  readonly healthy: boolean;
  /** Exits the supervisor did not cause (crashes), with their code or signal. */
  readonly unexpectedExits: readonly string[];
}

export interface Observations {
  readonly files: readonly FileObservation[];
  /** Files whose replication could not be listed (the listing's error), if it failed. */
  readonly replication: readonly ReplicationObservation[] | { readonly error: string };
  readonly documents: readonly DocumentObservation[];
  readonly jobs: readonly JobObservation[];
  readonly leaders: readonly LeaderObservation[];
  readonly processes: readonly ProcessObservation[];
}

export type InvariantName =
  | 'file-identical'
  | 'document-once'
  | 'job-output'
  | 'job-finished'
  | 'replication'
  | 'one-leader'
  | 'process-alive';

export interface Violation {
  readonly invariant: InvariantName;
  readonly detail: string;
}

/** Every violation in the observations; an empty list means every invariant holds. */
export function checkInvariants(observations: Observations): Violation[] {
  return [
    ...checkFiles(observations.files),
    ...checkDocuments(observations.documents),
    ...checkJobs(observations.jobs),
    ...checkReplication(observations.replication),
    ...checkLeader(observations.leaders),
    ...checkProcesses(observations.processes),
  ];
}

function checkFiles(files: readonly FileObservation[]): Violation[] {
  return files.flatMap((file): Violation[] => {
    if ('error' in file.downloaded)
      return [
        violation('file-identical', `${file.path}: download failed: ${file.downloaded.error}`),
      ];
    if (file.downloaded.sha256 === file.expectedSha256) return [];
    return [
      violation(
        'file-identical',
        `${file.path}: downloaded SHA-256 ${file.downloaded.sha256}, uploaded ${file.expectedSha256}`,
      ),
    ];
  });
}

function checkDocuments(documents: readonly DocumentObservation[]): Violation[] {
  return documents.flatMap((doc): Violation[] => {
    if ('error' in doc.resultDocIds) {
      const error = doc.resultDocIds.error;
      return [violation('document-once', `${doc.docId}: search "${doc.term}" failed: ${error}`)];
    }
    const hits = doc.resultDocIds.filter((id) => id === doc.docId).length;
    if (hits === 1) return [];
    return [violation('document-once', `${doc.docId}: found ${hits} times for "${doc.term}"`)];
  });
}

function checkJobs(jobs: readonly JobObservation[]): Violation[] {
  return jobs.flatMap((job): Violation[] => {
    const succeeded = job.reportedSuccess || job.state === 'succeeded';
    if (!succeeded) {
      const finished = job.state === 'failed' || job.state === 'cancelled';
      return finished
        ? []
        : [violation('job-finished', `${job.jobId}: still ${job.state} after convergence`)];
    }
    if (job.state !== 'succeeded')
      return [violation('job-output', `${job.jobId}: reported success, now ${job.state}`)];
    if (job.output === undefined || typeof job.output !== 'string') {
      const error = job.output === undefined ? 'not read' : job.output.error;
      return [violation('job-output', `${job.jobId}: output unreadable: ${error}`)];
    }
    const { counts, duplicates } = parseCounts(job.output);
    if (duplicates.length > 0)
      return [
        violation('job-output', `${job.jobId}: keys written twice: ${duplicates.join(', ')}`),
      ];
    const difference = countsDifference(job.expectedCounts, counts);
    return difference === undefined
      ? []
      : [violation('job-output', `${job.jobId}: wrong output: ${difference}`)];
  });
}

function checkReplication(replication: Observations['replication']): Violation[] {
  if ('error' in replication)
    return [violation('replication', `could not list files: ${replication.error}`)];
  return replication.flatMap((file): Violation[] =>
    file.minLiveReplicas >= file.replicationFactor
      ? []
      : [
          violation(
            'replication',
            `${file.path}: ${file.minLiveReplicas} of ${file.replicationFactor} live replicas`,
          ),
        ],
  );
}

function checkLeader(leaders: readonly LeaderObservation[]): Violation[] {
  if (leaders.length === 0) return [violation('one-leader', 'no search node answered')];
  const said: { nodeId: number; leaderId: number | null }[] = [];
  const failed: string[] = [];
  for (const { nodeId, leaderId } of leaders) {
    if (leaderId !== null && typeof leaderId === 'object')
      failed.push(`node ${nodeId}: ${leaderId.error}`);
    else said.push({ nodeId, leaderId });
  }
  if (failed.length > 0) return [violation('one-leader', `status failed: ${failed.join('; ')}`)];
  const named = new Set(said.map((node) => node.leaderId));
  const [leader] = named;
  if (named.size !== 1 || leader === null || leader === undefined) {
    const seen = said.map((node) => `${node.nodeId}->${node.leaderId ?? 'none'}`).join(', ');
    return [violation('one-leader', `nodes disagree or have no leader: ${seen}`)];
  }
  if (!said.some((node) => node.nodeId === leader))
    return [violation('one-leader', `leader ${leader} is not a running node`)];
  return [];
}

function checkProcesses(processes: readonly ProcessObservation[]): Violation[] {
  return processes.flatMap((process): Violation[] => {
    const found: Violation[] = [];
    if (!process.running) found.push(violation('process-alive', `${process.name} is not running`));
    else if (!process.healthy)
      found.push(violation('process-alive', `${process.name} does not answer /health`));
    for (const exit of process.unexpectedExits)
      found.push(violation('process-alive', `${process.name} exited on its own (${exit})`));
    return found;
  });
}

/** Parses `key<TAB>count` lines (a word count's output); a key on two lines is a duplicate. */
export function parseCounts(text: string): { counts: Map<string, number>; duplicates: string[] } {
  const counts = new Map<string, number>();
  const duplicates: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [key = '', value = ''] = line.split('\t');
    if (counts.has(key)) duplicates.push(key);
    counts.set(key, Number(value));
  }
  return { counts, duplicates };
}

/** Word count as the `wordcount` built-in defines it: lower-cased runs of ASCII letters. */
export function wordCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().split(/[^a-z]+/))
    if (word !== '') counts.set(word, (counts.get(word) ?? 0) + 1);
  return counts;
}

/** The first difference between two count maps, or undefined when they are equal. */
function countsDifference(
  expected: ReadonlyMap<string, number>,
  actual: ReadonlyMap<string, number>,
): string | undefined {
  for (const [key, count] of expected)
    if (actual.get(key) !== count)
      return `"${key}" counted ${actual.get(key) ?? 'never'}, expected ${count}`;
  for (const key of actual.keys()) if (!expected.has(key)) return `unexpected key "${key}"`;
  return undefined;
}

function violation(invariant: InvariantName, detail: string): Violation {
  return { invariant, detail };
}
