/**
 * Overview: nodes by role with their health and heartbeat age, DFS storage and file figures,
 * jobs running, search figures, and charts of the last minutes of request rate, latency and
 * throughput. Each part shows a message in its place when its service does not answer.
 */
import { useMemo, type ReactNode } from 'react';
import type {
  DfsStats,
  JobsSummary,
  MetricsPoint,
  MetricsView,
  NodesSnapshot,
  Overview,
  SearchSummary,
  WireServer,
} from '../../../api-types.js';
import { useNow, usePolling } from '../api.js';
import { Async, ErrorNote, Panel, Stat, StatusBadge, StorageBar } from '../components.js';
import { formatAge, formatBytes, formatCount, formatLatency, formatRatio } from '../format.js';
import { LineChart, type Series } from '../line-chart.js';
import { href } from '../router.js';
import { JobTable } from './jobs.js';

export function OverviewPage(): ReactNode {
  const overview = usePolling<Overview>('/api/overview', 3_000);
  const metrics = usePolling<MetricsView>('/api/metrics', 3_000);
  return (
    <div className="grid">
      <Panel title="Nodes by role" testId="overview-nodes" wide>
        <Async data={overview.data} error={overview.error} what="the node table">
          {(data) => (
            <NodesByRole snapshot={data.nodes} receivedAtMs={overview.updatedAtMs ?? Date.now()} />
          )}
        </Async>
      </Panel>
      <Panel title="Storage" testId="overview-storage">
        <Async data={overview.data} error={overview.error} what="storage figures">
          {(data) =>
            data.dfs.ok ? (
              <StorageBar
                usedBytes={data.dfs.data.stats.used_bytes}
                totalBytes={data.dfs.data.stats.used_bytes + data.dfs.data.stats.free_bytes}
              />
            ) : (
              <ErrorNote title="DFS master not available" message={data.dfs.error} />
            )
          }
        </Async>
      </Panel>
      <Panel title="Files" testId="overview-files">
        <Async data={overview.data} error={overview.error} what="file figures">
          {(data) =>
            data.dfs.ok ? (
              <FileFigures stats={data.dfs.data.stats} />
            ) : (
              <ErrorNote title="DFS master not available" message={data.dfs.error} />
            )
          }
        </Async>
      </Panel>
      <Panel title="Jobs" testId="overview-jobs" actions={<a href={href('/jobs')}>all jobs</a>}>
        <Async data={overview.data} error={overview.error} what="job figures">
          {(data) =>
            data.jobs.ok ? (
              <JobFigures jobs={data.jobs.data} />
            ) : (
              <ErrorNote title="MapReduce master not available" message={data.jobs.error} />
            )
          }
        </Async>
      </Panel>
      <Panel title="Search" testId="overview-search" actions={<a href={href('/search')}>search</a>}>
        <Async data={overview.data} error={overview.error} what="search figures">
          {(data) =>
            data.search.ok ? (
              <SearchFigures search={data.search.data} />
            ) : (
              <ErrorNote title="Search not available" message={data.search.error} />
            )
          }
        </Async>
      </Panel>
      <Charts metrics={metrics.data} error={metrics.error} />
    </div>
  );
}

function JobFigures(props: { jobs: JobsSummary }): ReactNode {
  const { jobs } = props;
  return (
    <>
      <div className="stats">
        <Stat label="jobs running" value={formatCount(jobs.running)} testId="stat-jobs-running" />
        <Stat label="jobs queued" value={formatCount(jobs.queued)} />
      </div>
      {jobs.recent.length > 0 ? (
        <JobTable jobs={jobs.recent} compact />
      ) : (
        <p className="muted">No job has been submitted yet.</p>
      )}
    </>
  );
}

function SearchFigures(props: { search: SearchSummary }): ReactNode {
  const { search } = props;
  return (
    <>
      <div className="stats">
        <Stat
          label="documents"
          value={search.documents === null ? '—' : formatCount(search.documents)}
          testId="stat-search-docs"
        />
        <Stat label="terms" value={search.terms === null ? '—' : formatCount(search.terms)} />
        <Stat label="live nodes" value={formatCount(search.nodes_live)} />
        <Stat
          label="leader"
          value={search.leader_id === null ? 'none' : `node ${search.leader_id}`}
          warn={search.leader_id === null}
          testId="stat-search-leader"
        />
      </div>
      {search.balancer_error ? (
        <p className="stale">Balancer figures not available: {search.balancer_error}</p>
      ) : null}
    </>
  );
}

function FileFigures(props: { stats: DfsStats }): ReactNode {
  const { stats } = props;
  return (
    <div className="stats">
      <Stat label="files" value={formatCount(stats.files)} testId="stat-files" />
      <Stat label="chunks" value={formatCount(stats.chunks)} testId="stat-chunks" />
      <Stat label="avg replication" value={formatRatio(stats.avg_replication)} />
      <Stat
        label="under-replicated chunks"
        value={formatCount(stats.under_replicated_chunks)}
        warn={stats.under_replicated_chunks > 0}
      />
      <Stat label="data stored" value={formatBytes(stats.bytes)} />
      <Stat
        label="datanodes up / down"
        value={`${stats.nodes_active} / ${stats.nodes_dead}`}
        warn={stats.nodes_dead > 0}
      />
    </div>
  );
}

function NodesByRole(props: { snapshot: NodesSnapshot; receivedAtMs: number }): ReactNode {
  const now = useNow();
  const { servers } = props.snapshot;
  if (!servers.ok) return <ErrorNote title="Registry not available" message={servers.error} />;
  const byRole = new Map<string, WireServer[]>();
  for (const server of servers.data.servers)
    byRole.set(server.role, [...(byRole.get(server.role) ?? []), server]);
  if (byRole.size === 0) return <p className="muted">No server is registered yet.</p>;
  // Ages are measured on the server's clock, then grow with the browser's.
  const serverNowMs = props.snapshot.fetched_at_ms + (now - props.receivedAtMs);
  return (
    <div className="roles">
      {[...byRole]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([role, members]) => {
          const active = members.filter((member) => member.status === 'active').length;
          return (
            <div className="role-card" key={role} data-testid={`role-${role}`}>
              <div className="role-head">
                <a href={href('/nodes', { role })}>{role}</a>
                <span className={active === members.length ? 'ok' : 'warn'}>
                  {active}/{members.length} active
                </span>
              </div>
              <ul className="role-members">
                {members.map((member) => (
                  <li key={member.server_id}>
                    <StatusBadge status={member.status} />
                    <span className="mono ellipsis" title={member.url}>
                      {member.server_id}
                    </span>
                    <span className="muted">
                      ♥ {formatAge(serverNowMs - member.last_heartbeat * 1000)} ago
                    </span>
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
    </div>
  );
}

const rate = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
const bytesPerSecond = (value: number): string => `${formatBytes(value)}/s`;

function Charts(props: { metrics: MetricsView | undefined; error: string | undefined }): ReactNode {
  const now = props.metrics?.last_sample_at_ms ?? Date.now();
  const roles = useMemo(
    () => Object.entries(props.metrics?.roles ?? {}).filter(([role]) => role !== 'all'),
    [props.metrics],
  );
  const pick = (value: (point: MetricsPoint) => number | null): Series[] =>
    roles.map(([role, points]) => ({
      label: role,
      points: points.map((point) => ({ tMs: point.t_ms, value: value(point) })),
    }));
  const all = props.metrics?.roles['all'] ?? [];
  const throughput: Series[] = [
    {
      label: 'written',
      points: all.map((point) => ({ tMs: point.t_ms, value: point.written_bytes_per_s })),
    },
    {
      label: 'read',
      points: all.map((point) => ({ tMs: point.t_ms, value: point.read_bytes_per_s })),
    },
  ];
  const windowMs = props.metrics?.window_ms ?? 600_000;
  const body = (chart: (metrics: MetricsView) => ReactNode): ReactNode => (
    <Async data={props.metrics} error={props.error} what="metrics">
      {(metrics) =>
        metrics.last_sample_at_ms === null ? (
          <p className="muted">The first samples arrive in a few seconds.</p>
        ) : (
          chart(metrics)
        )
      }
    </Async>
  );
  return (
    <>
      <Panel title="Requests per second" testId="chart-rate">
        {body(() => (
          <LineChart
            label="requests per second by role"
            series={pick((p) => p.requests_per_s)}
            nowMs={now}
            windowMs={windowMs}
            formatValue={rate}
          />
        ))}
      </Panel>
      <Panel title="Latency (p95)" testId="chart-latency">
        {body(() => (
          <LineChart
            label="95th percentile latency by role"
            series={pick((p) => p.p95_latency_ms)}
            nowMs={now}
            windowMs={windowMs}
            formatValue={formatLatency}
          />
        ))}
      </Panel>
      <Panel title="DFS throughput" testId="chart-throughput">
        {body(() => (
          <LineChart
            label="datanode bytes per second"
            series={throughput}
            nowMs={now}
            windowMs={windowMs}
            formatValue={bytesPerSecond}
          />
        ))}
      </Panel>
      {props.metrics && props.metrics.scrape_errors.length > 0 ? (
        <Panel title="Services not measured" testId="scrape-errors">
          <ul className="plain">
            {props.metrics.scrape_errors.map((failure) => (
              <li key={failure.server_id}>
                <ErrorNote title={`${failure.role} ${failure.server_id}`} message={failure.error} />
              </li>
            ))}
          </ul>
        </Panel>
      ) : null}
    </>
  );
}
