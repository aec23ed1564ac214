/**
 * The MapReduce fault-tolerance panels (poneglyph-reduce.md): workers with their health, the
 * circuit breaker of each worker, retries and success rate, and the dead-letter queue with a
 * Recover button per task.
 */
import { useState, type ReactNode } from 'react';
import type {
  FaultToleranceView,
  WireBreaker,
  WireDeadLetter,
  WireWorker,
} from '../../../api-types.js';
import { messageOf, sendJson, type Polled } from '../api.js';
import { Async, ErrorNote, Panel, Stat, StatusBadge } from '../components.js';
import { formatAge, formatCount, readableError } from '../format.js';
import { href } from '../router.js';

/** The title of what a panel shows when the master does not answer. */
export const MASTER_DOWN = 'MapReduce master not available';

/** Workers, breakers, retries and the dead-letter queue, from one polled answer. */
export function FaultTolerancePanels(props: { view: Polled<FaultToleranceView> }): ReactNode {
  const { view } = props;
  const body = (render: (data: FaultToleranceView) => ReactNode): ReactNode => (
    <Async data={view.data} error={view.error} what="the master's figures" errorTitle={MASTER_DOWN}>
      {render}
    </Async>
  );
  return (
    <>
      <Panel title="Workers" wide testId="mr-workers">
        {body((data) => (
          <WorkerTable workers={data.workers} />
        ))}
      </Panel>
      <Panel title="Circuit breakers" testId="mr-breakers">
        {body((data) => (
          <BreakerTable breakers={data.breakers} />
        ))}
      </Panel>
      <Panel title="Retries and success" testId="mr-retries">
        {body((data) => (
          <RetryFigures view={data} />
        ))}
      </Panel>
      <Panel title="Dead-letter queue" wide testId="mr-dlq">
        {body((data) => (
          <DeadLetterTable entries={data.dead_letters.entries} onRecovered={view.refresh} />
        ))}
      </Panel>
    </>
  );
}

const byWorker = (a: { worker_id: string }, b: { worker_id: string }): number =>
  a.worker_id.localeCompare(b.worker_id);

function WorkerTable(props: { workers: readonly WireWorker[] }): ReactNode {
  if (props.workers.length === 0) return <p className="muted">No worker has registered yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Worker</th>
            <th>Status</th>
            <th>Running</th>
            <th>Done / failed</th>
            <th>Success rate</th>
            <th>Latency</th>
            <th>Health</th>
            <th>Breaker</th>
          </tr>
        </thead>
        <tbody>
          {[...props.workers].sort(byWorker).map((worker) => (
            <tr key={worker.worker_id} data-testid={`worker-${worker.worker_id}`}>
              <td className="mono nowrap" title={worker.url}>
                {worker.worker_id}
              </td>
              <td>
                <StatusBadge status={worker.status === 'active' ? 'active' : 'dead'} />
              </td>
              <td>
                {worker.running_tasks} / {worker.slots}
              </td>
              <td>
                {formatCount(worker.succeeded)} / {formatCount(worker.failed)}
              </td>
              <td>{(worker.success_rate * 100).toFixed(0)}%</td>
              <td>
                {worker.recent_latency_ms === null ? '—' : formatAge(worker.recent_latency_ms)}
              </td>
              <td title="1 − load average per CPU, as the worker reports it">
                {(worker.health * 100).toFixed(0)}%
              </td>
              <td>
                <BreakerBadge state={worker.breaker} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** CLOSED (calls flow), HALF_OPEN (on trial), OPEN (cut off). */
export function BreakerBadge(props: { state: string }): ReactNode {
  const tone = props.state === 'CLOSED' ? 'active' : props.state === 'OPEN' ? 'dead' : 'inactive';
  return (
    <span className={`badge badge-${tone}`} data-testid="breaker-state">
      {props.state}
    </span>
  );
}

function BreakerTable(props: { breakers: readonly WireBreaker[] }): ReactNode {
  if (props.breakers.length === 0) return <p className="muted">No breaker yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Worker</th>
            <th>State</th>
            <th>Failures in a row</th>
            <th>Retry in</th>
            <th>Opened</th>
          </tr>
        </thead>
        <tbody>
          {[...props.breakers].sort(byWorker).map((breaker) => (
            <tr key={breaker.worker_id} data-testid={`breaker-${breaker.worker_id}`}>
              <td className="mono nowrap">{breaker.worker_id}</td>
              <td>
                <BreakerBadge state={breaker.state} />
              </td>
              <td>{breaker.consecutive_failures}</td>
              <td>{breaker.state === 'OPEN' ? formatAge(breaker.retry_after_ms) : '—'}</td>
              <td>
                {breaker.opens} {breaker.opens === 1 ? 'time' : 'times'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RetryFigures(props: { view: FaultToleranceView }): ReactNode {
  const { tasks, retry_policy: policy, circuit_breakers: breakers } = props.view.stats;
  return (
    <>
      <div className="stats">
        <Stat label="retries" value={formatCount(tasks.retries)} testId="stat-retries" />
        <Stat label="success rate" value={`${(tasks.success_rate * 100).toFixed(1)}%`} />
        <Stat label="tasks per minute" value={tasks.tasks_per_minute.toFixed(1)} />
        <Stat
          label="dead-lettered"
          value={formatCount(tasks.dead_lettered)}
          warn={props.view.dead_letters.total > 0}
        />
        <Stat
          label="breakers open"
          value={`${breakers.open} / ${breakers.total}`}
          warn={breakers.open > 0}
        />
      </div>
      <p className="muted small">
        Up to {policy.max_retries} retries, {policy.base_delay_ms} ms × 2^attempt (at most{' '}
        {formatAge(policy.max_delay_ms)}) ±{(policy.jitter * 100).toFixed(0)}%; a task times out
        after {formatAge(policy.task_timeout_ms)} without progress; failures because the DFS or a
        map output was unreachable use no retries for {formatAge(policy.unreachable_grace_ms)}.
      </p>
    </>
  );
}

/** Dead-lettered tasks, each with its reason, error, failing record and a Recover button. */
export function DeadLetterTable(props: {
  entries: readonly WireDeadLetter[];
  onRecovered: () => void;
  emptyText?: string;
}): ReactNode {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  if (props.entries.length === 0) {
    return <p className="muted">{props.emptyText ?? 'The dead-letter queue is empty.'}</p>;
  }
  const recover = (taskId: string): void => {
    setBusy(taskId);
    setError(undefined);
    const url = `/api/mapreduce/dead-letter-queue/${encodeURIComponent(taskId)}/recover`;
    sendJson('POST', url, {})
      .then(props.onRecovered)
      .catch((failure: unknown) => setError(messageOf(failure)))
      .finally(() => setBusy(null));
  };
  return (
    <>
      {error ? <ErrorNote title="Recover failed" message={error} /> : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Task</th>
              <th>Job</th>
              <th>Reason</th>
              <th>Error</th>
              <th>Attempts</th>
              <th>When</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {props.entries.map((entry) => (
              <tr key={entry.task_id} data-testid="dlq-entry" data-task-id={entry.task_id}>
                <td className="mono nowrap">{entry.task_id}</td>
                <td className="mono nowrap">
                  <a href={href('/jobs/detail', { id: entry.job_id })}>{entry.job_id}</a>
                </td>
                <td>
                  <span className="badge badge-dead">{entry.reason}</span>
                </td>
                <td className="dlq-error">
                  <div>{readableError(entry.error)}</div>
                  {entry.record !== undefined ? (
                    <div className="muted small">
                      record: <span className="mono">{entry.record}</span>
                    </div>
                  ) : null}
                </td>
                <td>{entry.attempts}</td>
                <td>{formatAge(Date.now() - entry.at)} ago</td>
                <td className="actions">
                  <button
                    type="button"
                    className="primary"
                    disabled={busy !== null}
                    onClick={() => recover(entry.task_id)}
                    data-testid="recover"
                  >
                    {busy === entry.task_id ? 'Recovering…' : 'Recover'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
