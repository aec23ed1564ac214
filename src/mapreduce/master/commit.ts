/**
 * The output commit of a job (Hadoop's FileOutputCommitter, "algorithm 1"): reduce attempts
 * write to `OUT/_temporary/<attempt>/part-r-NNNNN`; once every reduce task has an accepted
 * output, the master renames each accepted file to `OUT/part-r-NNNNN`, then writes
 * `OUT/_SUCCESS`, then deletes `OUT/_temporary`. The job reads `succeeded` only after
 * `_SUCCESS` exists, and `OUT` holds no part file before the renames, so from the user's view
 * the output appears whole or not at all. Every step is idempotent: a master restarted in the
 * middle runs the commit again from the start.
 */
import { HttpStatusError } from '../../core/errors-http-client.js';
import type { DfsClient } from '../../dfs/index.js';
import type { JobRow } from './store.js';
import { partName } from './views.js';

/** The temporary directory of a job's reduce attempts. */
export function temporaryDir(output: string): string {
  return `${output}/_temporary`;
}

/** Where a reduce attempt writes its output. */
export function attemptOutputPath(output: string, attemptId: string, index: number): string {
  return `${temporaryDir(output)}/${attemptId}/${partName(index)}`;
}

/** Commits a job whose reduce tasks all succeeded. Throws on DFS trouble (retry later). */
export async function commitJobOutput(dfs: DfsClient, job: JobRow): Promise<void> {
  const output = job.spec.output;
  for (const task of job.schedule.reduces) {
    const source = task.output?.location;
    if (source === undefined) throw new Error(`${task.id} has no accepted output`);
    const target = `${output}/${partName(task.index)}`;
    try {
      await dfs.rename(source, target, true);
    } catch (error) {
      // Renamed already by a commit that a restart interrupted: the target is there.
      if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
      await dfs.stat(target);
    }
  }
  await dfs.putBuffer('', `${output}/_SUCCESS`, { overwrite: true });
  await deleteTree(dfs, `${temporaryDir(output)}/`);
}

/** Deletes every file under a prefix (best effort for files that vanish meanwhile). */
export async function deleteTree(dfs: DfsClient, prefix: string): Promise<void> {
  for (;;) {
    const page = await dfs.list({ prefix, limit: 1000 });
    if (page.files.length === 0) return;
    for (const file of page.files) {
      try {
        await dfs.delete(file.path);
      } catch (error) {
        if (!(error instanceof HttpStatusError && error.status === 404)) throw error;
      }
    }
  }
}
