/**
 * One job, live: its state, progress per phase and per task, counters, the scheduler's retry
 * figures, its output, its dead-lettered tasks (with Recover), and a Cancel button.
 */
import { useState, type ReactNode } from 'react';
import type {
  FaultToleranceView,
  JobDetails,
  WireJob,
  WirePhase,
  WireTask,
} from '../../../api-types.js';
import { messageOf, sendJson, usePolling } from '../api.js';
import { Async, ConfirmDialog, ErrorNote, Panel, ProgressBar } from '../components.js';
import { formatAge, formatCount, formatTime, readableError } from '../format.js';
import { href, type Route } from '../router.js';
import { DeadLetterTable, MASTER_DOWN } from './fault-tolerance.js';

const FINISHED = new Set(['succeeded', 'cancelled']);

export function JobDetailsPage(props: { route: Route }): ReactNode {
  const id = props.route.params.get('id');
  const details = usePolling<JobDetails>(id ? `/api/jobs/${encodeURIComponent(id)}` : null, 2_000);
  const ft = usePolling<FaultToleranceView>('/api/mapreduce/fault-tolerance', 3_000);
  if (!id) return <ErrorNote title="No job chosen" message="Open a job from the Jobs page." />;
  const refresh = (): void => {
    details.refresh();
    ft.refresh();
  };
  return (
    <div className="grid">
      <Panel
        title={`Job ${id}`}
        wide
        testId="job-details"
        actions={<a href={href('/jobs')}>← all jobs</a>}
      >
        <Async data={details.data} error={details.error} what={id} errorTitle={MASTER_DOWN}>
          {(data) => <JobSummary job={data.job} onChanged={refresh} />}
        </Async>
      </Panel>
      <Panel title="Counters" testId="job-counters">
        <Async data={details.data} error={details.error} what="counters" errorTitle={MASTER_DOWN}>
          {(data) => <Counters values={data.job.counters} />}
        </Async>
      </Panel>
      <Panel title="Attempts and retries" testId="job-stats">
        <Async data={details.data} error={details.error} what="figures" errorTitle={MASTER_DOWN}>
          {(data) => <Counters values={data.job.stats} />}
        </Async>
      </Panel>
      <Panel title="Dead-lettered tasks of this job" wide testId="job-dlq">
        <Async
          data={ft.data}
          error={ft.error}
          what="the dead-letter queue"
          errorTitle={MASTER_DOWN}
        >
          {(data) => (
            <DeadLetterTable
              entries={data.dead_letters.entries.filter((entry) => entry.job_id === id)}
              onRecovered={refresh}
              emptyText="No task of this job is in the dead-letter queue."
            />
          )}
        </Async>
      </Panel>
      <Panel title="Tasks" wide testId="job-tasks">
        <Async data={details.data} error={details.error} what="tasks" errorTitle={MASTER_DOWN}>
          {(data) => <TaskTable tasks={data.tasks} />}
        </Async>
      </Panel>
    </div>
  );
}

/** A job state as a coloured word. */
export function JobStateBadge(props: { state: string }): ReactNode {
  return (
    <span className={`badge badge-job-${props.state}`} data-testid="job-state">
      {props.state}
    </span>
  );
}

/** A phase's bar is green once all its tasks are done, red while its job has failed. */
export function phaseState(job: WireJob, phase: WirePhase): string {
  if (phase.total > 0 && phase.done === phase.total) return 'succeeded';
  return job.state === 'failed' ? 'failed' : job.state;
}

function JobSummary(props: { job: WireJob; onChanged: () => void }): ReactNode {
  const { job } = props;
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const cancel = (): void => {
    setBusy(true);
    sendJson('DELETE', `/api/jobs/${encodeURIComponent(job.id)}`)
      .then(() => {
        setConfirming(false);
        props.onChanged();
      })
      .catch((failure: unknown) => setError(messageOf(failure)))
      .finally(() => setBusy(false));
  };
  return (
    <div className="job-summary" data-testid="job-summary" data-state={job.state}>
      <div className="job-head">
        <JobStateBadge state={job.state} />
        <strong>{job.name}</strong>
        <span className="muted">phase {job.phase}</span>
        {job.duration_ms !== null ? (
          <span className="muted">{formatAge(job.duration_ms)}</span>
        ) : null}
        {FINISHED.has(job.state) ? null : (
          <button
            type="button"
            className="danger"
            onClick={() => setConfirming(true)}
            data-testid="job-cancel"
          >
            Cancel job
          </button>
        )}
      </div>
      <div className="phases">
        <ProgressBar
          fraction={job.progress.map.fraction}
          label={`map: ${job.progress.map.done} of ${job.progress.map.total} tasks`}
          testId="progress-map"
          state={phaseState(job, job.progress.map)}
        />
        <ProgressBar
          fraction={job.progress.reduce.fraction}
          label={`reduce: ${job.progress.reduce.done} of ${job.progress.reduce.total} tasks`}
          testId="progress-reduce"
          state={phaseState(job, job.progress.reduce)}
        />
      </div>
      {job.error ? <ErrorNote title="Job error" message={readableError(job.error)} /> : null}
      <dl className="facts">
        <dt>Input</dt>
        <dd className="mono">{job.input.join(', ')}</dd>
        <dt>Output</dt>
        <dd className="mono">
          <a href={href('/files', { dir: job.output })}>{job.output}</a>
          {job.output_files.length > 0 ? (
            <ul className="plain output-files" data-testid="output-files">
              {job.output_files.map((path) => (
                <li key={path}>
                  <a href={href('/files/detail', { path })}>{path}</a>
                </li>
              ))}
            </ul>
          ) : null}
        </dd>
        <dt>Reducers</dt>
        <dd>{job.reducers}</dd>
        <dt>Kind</dt>
        <dd>{job.builtin ? `built-in ${job.builtin}` : 'custom'}</dd>
        <dt>Submitted</dt>
        <dd>{formatTime(job.created_at)}</dd>
      </dl>
      {confirming ? (
        <ConfirmDialog
          title="Cancel this job?"
          confirmLabel="Cancel job"
          danger
          busy={busy}
          error={error}
          onConfirm={cancel}
          onCancel={() => setConfirming(false)}
        >
          <p>
            <span className="mono">{job.id}</span> stops: its running tasks are stopped and its
            output is not committed.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}

/** `map_input_records` or `attemptsStarted` -> `map input records`, `attempts started`. */
function humanize(name: string): string {
  return name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replaceAll('_', ' ')
    .toLowerCase();
}

function Counters(props: { values: Record<string, number> }): ReactNode {
  const entries = Object.entries(props.values);
  if (entries.length === 0) return <p className="muted">None yet.</p>;
  return (
    <table className="counters">
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name} data-testid={`counter-${name}`}>
            <th scope="row">{humanize(name)}</th>
            <td>{formatCount(value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TaskTable(props: { tasks: readonly WireTask[] }): ReactNode {
  if (props.tasks.length === 0) return <p className="muted">No task yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Task</th>
            <th>State</th>
            <th>Progress</th>
            <th>Attempts</th>
            <th>Worker</th>
            <th>Input</th>
            <th>Last failure</th>
          </tr>
        </thead>
        <tbody>
          {props.tasks.map((task) => (
            <tr
              key={task.task_id}
              data-testid="task-row"
              data-state={task.state}
              data-phase={task.phase}
            >
              <td className="mono">
                {task.phase} {task.index}
              </td>
              <td>
                <JobStateBadge state={task.state} />
              </td>
              <td className="progress-cell">
                <ProgressBar fraction={task.progress} state={task.state} />
              </td>
              <td>
                {task.attempts}
                {task.failures > 0 ? <span className="warn"> ({task.failures} failed)</span> : null}
              </td>
              <td className="mono">{task.worker_id ?? '—'}</td>
              <td className="mono small">
                {task.split ? `${task.split.path} [${task.split.start}, ${task.split.end})` : '—'}
              </td>
              <td className="small dlq-error">
                {task.last_failure
                  ? `${task.last_failure.reason}: ${readableError(task.last_failure.error)}`
                  : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
