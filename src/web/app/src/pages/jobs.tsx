/**
 * Jobs: submit a job, the list of jobs with their progress, and the fault-tolerance panels
 * (workers, circuit breakers, retries, the dead-letter queue with Recover). Each part polls the
 * MapReduce master through the dashboard server and shows a message in its place when the
 * master does not answer.
 */
import type { ReactNode } from 'react';
import type { FaultToleranceView, JobList, WireJob } from '../../../api-types.js';
import { usePolling } from '../api.js';
import { Async, Panel, ProgressBar } from '../components.js';
import { formatAge, formatTime } from '../format.js';
import { href, navigate } from '../router.js';
import { FaultTolerancePanels, MASTER_DOWN } from './fault-tolerance.js';
import { JobStateBadge, phaseState } from './job-details.js';
import { JobSubmitForm } from './job-submit.js';

export function JobsPage(): ReactNode {
  const jobs = usePolling<JobList>('/api/jobs?limit=50', 3_000);
  const ft = usePolling<FaultToleranceView>('/api/mapreduce/fault-tolerance', 3_000);
  return (
    <div className="grid">
      <Panel title="Submit a job" wide testId="job-submit-panel">
        <JobSubmitForm onSubmitted={(job) => navigate('/jobs/detail', { id: job.id })} />
      </Panel>
      <Panel title="Jobs" wide testId="job-list">
        <Async data={jobs.data} error={jobs.error} what="jobs" errorTitle={MASTER_DOWN}>
          {(data) => <JobTable jobs={data.jobs} />}
        </Async>
      </Panel>
      <FaultTolerancePanels view={ft} />
    </div>
  );
}

/** Jobs newest first, each with its state and both phases' progress. */
export function JobTable(props: { jobs: readonly WireJob[]; compact?: boolean }): ReactNode {
  if (props.jobs.length === 0) return <p className="muted">No job has been submitted yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>State</th>
            <th>Map</th>
            <th>Reduce</th>
            {props.compact ? null : <th>Submitted</th>}
            {props.compact ? null : <th>Duration</th>}
          </tr>
        </thead>
        <tbody>
          {props.jobs.map((job) => (
            <tr key={job.id} data-testid={`job-${job.id}`} data-state={job.state}>
              <td>
                <a className="mono" href={href('/jobs/detail', { id: job.id })}>
                  {job.id}
                </a>
                <div className="muted small">{job.name}</div>
              </td>
              <td>
                <JobStateBadge state={job.state} />
              </td>
              <td className="progress-cell">
                <ProgressBar
                  fraction={job.progress.map.fraction}
                  label={`${job.progress.map.done}/${job.progress.map.total}`}
                  state={phaseState(job, job.progress.map)}
                />
              </td>
              <td className="progress-cell">
                <ProgressBar
                  fraction={job.progress.reduce.fraction}
                  label={`${job.progress.reduce.done}/${job.progress.reduce.total}`}
                  state={phaseState(job, job.progress.reduce)}
                />
              </td>
              {props.compact ? null : <td>{formatTime(job.created_at)}</td>}
              {props.compact ? null : (
                <td>{job.duration_ms === null ? '—' : formatAge(job.duration_ms)}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
