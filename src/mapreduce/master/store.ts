/**
 * The master's state store (the seed's DynamoDB state store, as SQLite; DESIGN.md rule 7):
 * jobs with their spec, splits and schedule (tasks, attempts, per-task counters, retry
 * figures), the dead-letter queue, and small settings. Writes go through group commit, so a
 * burst of scheduler steps costs one fsync; the master answers a client, acknowledges a worker's
 * result or hands out a task only after the write that records it is durable.
 *
 * A job's schedule is one JSON document (the scheduler's state is plain JSON by design): a job
 * has at most a few thousand tasks, and a whole-row write keeps a restart trivially consistent.
 */
import { openDatabase, GroupCommitter, type SqliteDatabase } from '../../core/sqlite.js';
import type { InputSplit } from '../common/splits.js';
import type { JobState } from './events.js';
import type { JobSpec } from './job-spec.js';
import type { DeadLetterEntry, JobSchedule } from './scheduler.js';

const MIGRATIONS = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     state TEXT NOT NULL,
     spec_json TEXT NOT NULL,
     splits_json TEXT NOT NULL,
     schedule_json TEXT NOT NULL,
     created_at_ms INTEGER NOT NULL,
     started_at_ms INTEGER,
     finished_at_ms INTEGER,
     error TEXT,
     committed INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX jobs_by_state ON jobs(state);
   CREATE TABLE dead_letters (
     task_id TEXT PRIMARY KEY,
     job_id TEXT NOT NULL,
     at_ms INTEGER NOT NULL,
     entry_json TEXT NOT NULL
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

/** One job as stored. */
export interface JobRow {
  readonly id: string;
  readonly seq: number;
  state: JobState;
  readonly spec: JobSpec;
  /** Planned at submission; a recovered map task's file is planned again (split-replan.pure.ts). */
  splits: readonly InputSplit[];
  schedule: JobSchedule;
  readonly createdAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  error: string | null;
  /** Whether the output commit (renames + `_SUCCESS`) finished. */
  committed: boolean;
}

interface RawJob {
  id: string;
  seq: number;
  state: string;
  spec_json: string;
  splits_json: string;
  schedule_json: string;
  created_at_ms: number;
  started_at_ms: number | null;
  finished_at_ms: number | null;
  error: string | null;
  committed: number;
}

/** SQLite persistence of the master. */
export class MasterStore {
  private readonly db: SqliteDatabase;
  private readonly committer: GroupCommitter;
  /** The write statements, prepared once (a job's row is rewritten on every state change). */
  private readonly statements;

  constructor(path: string) {
    this.db = openDatabase(path, MIGRATIONS);
    this.committer = new GroupCommitter(this.db);
    this.statements = {
      saveJob: this.db.prepare(
        `INSERT OR REPLACE INTO jobs (id, seq, state, spec_json, splits_json, schedule_json,
           created_at_ms, started_at_ms, finished_at_ms, error, committed)
         VALUES (@id, @seq, @state, @spec_json, @splits_json, @schedule_json,
           @created_at_ms, @started_at_ms, @finished_at_ms, @error, @committed)`,
      ),
      removeDeadLetter: this.db.prepare('DELETE FROM dead_letters WHERE task_id = ?'),
      saveDeadLetter: this.db.prepare(
        'INSERT OR REPLACE INTO dead_letters (task_id, job_id, at_ms, entry_json) VALUES (?, ?, ?, ?)',
      ),
      saveSetting: this.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)'),
    };
  }

  /** Every job, oldest first. */
  loadJobs(): JobRow[] {
    const rows = this.db.prepare('SELECT * FROM jobs ORDER BY seq').all() as RawJob[];
    return rows.map((row) => ({
      id: row.id,
      seq: row.seq,
      state: row.state as JobState,
      spec: JSON.parse(row.spec_json) as JobSpec,
      splits: JSON.parse(row.splits_json) as InputSplit[],
      schedule: JSON.parse(row.schedule_json) as JobSchedule,
      createdAtMs: row.created_at_ms,
      startedAtMs: row.started_at_ms,
      finishedAtMs: row.finished_at_ms,
      error: row.error,
      committed: row.committed === 1,
    }));
  }

  /** The dead-letter entries, oldest first. */
  loadDeadLetters(): DeadLetterEntry[] {
    const rows = this.db
      .prepare('SELECT entry_json FROM dead_letters ORDER BY at_ms, rowid')
      .all() as { entry_json: string }[];
    return rows.map((row) => JSON.parse(row.entry_json) as DeadLetterEntry);
  }

  setting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  /** Writes a job's whole row (insert or replace); resolves once durable. */
  saveJob(job: JobRow): Promise<void> {
    const values = {
      id: job.id,
      seq: job.seq,
      state: job.state,
      spec_json: JSON.stringify(job.spec),
      splits_json: JSON.stringify(job.splits),
      schedule_json: JSON.stringify(job.schedule),
      created_at_ms: job.createdAtMs,
      started_at_ms: job.startedAtMs,
      finished_at_ms: job.finishedAtMs,
      error: job.error,
      committed: job.committed ? 1 : 0,
    };
    return this.committer.commit(() => void this.statements.saveJob.run(values));
  }

  /** Adds or replaces dead-letter entries and removes others, in one durable write. */
  writeDeadLetters(added: readonly DeadLetterEntry[], removed: readonly string[]): Promise<void> {
    const { removeDeadLetter, saveDeadLetter } = this.statements;
    return this.committer.commit(() => {
      for (const taskId of removed) removeDeadLetter.run(taskId);
      for (const entry of added) {
        saveDeadLetter.run(entry.task_id, entry.job_id, entry.at, JSON.stringify(entry));
      }
    });
  }

  saveSetting(key: string, value: string): Promise<void> {
    return this.committer.commit(() => void this.statements.saveSetting.run(key, value));
  }

  close(): void {
    this.committer.close();
    this.db.close();
  }
}
