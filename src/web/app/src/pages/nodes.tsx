/**
 * Nodes: the registry's table, live (server-sent events fed by the registry's blocking
 * queries), filtered by role and status; below it, the datanodes as the DFS master sees them.
 */
import type { ReactNode } from 'react';
import type { DatanodesView, NodesSnapshot, WireServer } from '../../../api-types.js';
import { useEventStream, useNow, usePolling } from '../api.js';
import { Async, ErrorNote, Loading, Panel, StatusBadge, StorageBar } from '../components.js';
import { formatAge, formatCount } from '../format.js';
import { navigate, type Route } from '../router.js';

export function NodesPage(props: { route: Route }): ReactNode {
  const stream = useEventStream<NodesSnapshot>('/api/nodes/events', 'nodes');
  const role = props.route.params.get('role') ?? '';
  const status = props.route.params.get('status') ?? '';
  const setFilter = (next: { role?: string; status?: string }): void =>
    navigate('/nodes', { role, status, ...next });
  return (
    <div className="grid">
      <Panel
        title="Registry"
        wide
        testId="nodes-table"
        actions={<LiveBadge connected={stream.connected} />}
      >
        {stream.data ? (
          <RegistryTable
            snapshot={stream.data}
            receivedAtMs={stream.receivedAtMs ?? Date.now()}
            role={role}
            status={status}
            onFilter={setFilter}
          />
        ) : stream.connected ? (
          <Loading what="the registry's table" />
        ) : (
          <ErrorNote message="Connecting to the dashboard server's live stream…" />
        )}
      </Panel>
      <Datanodes />
    </div>
  );
}

function LiveBadge(props: { connected: boolean }): ReactNode {
  return (
    <span className={props.connected ? 'live on' : 'live'} data-testid="live-badge">
      {props.connected ? '● live' : '○ reconnecting'}
    </span>
  );
}

function RegistryTable(props: {
  snapshot: NodesSnapshot;
  receivedAtMs: number;
  role: string;
  status: string;
  onFilter: (next: { role?: string; status?: string }) => void;
}): ReactNode {
  const now = useNow();
  const { servers } = props.snapshot;
  if (!servers.ok) return <ErrorNote title="Registry not available" message={servers.error} />;
  const roles = [...new Set(servers.data.servers.map((server) => server.role))].sort();
  const shown = servers.data.servers.filter(
    (server) =>
      (!props.role || server.role === props.role) &&
      (!props.status || server.status === props.status),
  );
  const serverNowMs = props.snapshot.fetched_at_ms + (now - props.receivedAtMs);
  return (
    <>
      <div className="filters">
        <label>
          Role{' '}
          <select
            value={props.role}
            onChange={(event) => props.onFilter({ role: event.target.value })}
            data-testid="filter-role"
          >
            <option value="">every role</option>
            {roles.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{' '}
          <select
            value={props.status}
            onChange={(event) => props.onFilter({ status: event.target.value })}
            data-testid="filter-status"
          >
            <option value="">any status</option>
            <option value="active">active</option>
            <option value="inactive">inactive</option>
          </select>
        </label>
        <span className="muted">
          {shown.length} of {servers.data.servers.length} servers · index {servers.data.index}
        </span>
      </div>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Server</th>
              <th>Role</th>
              <th>Status</th>
              <th>URL</th>
              <th>Last heartbeat</th>
              <th>Registered</th>
              <th>Recoveries</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((server) => (
              <ServerRow key={server.server_id} server={server} serverNowMs={serverNowMs} />
            ))}
          </tbody>
        </table>
      </div>
      {shown.length === 0 ? <p className="muted">No server matches these filters.</p> : null}
    </>
  );
}

function ServerRow(props: { server: WireServer; serverNowMs: number }): ReactNode {
  const { server } = props;
  return (
    <tr
      data-testid={`server-${server.server_id}`}
      data-status={server.status}
      data-url={server.url}
    >
      <td className="mono">{server.server_id}</td>
      <td>{server.role}</td>
      <td>
        <StatusBadge status={server.status} />
      </td>
      <td className="mono">
        <a href={`${server.url}/health`} target="_blank" rel="noreferrer">
          {server.url}
        </a>
      </td>
      <td>{formatAge(props.serverNowMs - server.last_heartbeat * 1000)} ago</td>
      <td>{formatAge(props.serverNowMs - server.registered_at * 1000)} ago</td>
      <td>{server.recoveries}</td>
    </tr>
  );
}

function Datanodes(): ReactNode {
  const view = usePolling<DatanodesView>('/api/dfs/nodes', 3_000);
  return (
    <Panel title="Datanodes (as the DFS master sees them)" wide testId="datanodes">
      <Async data={view.data} error={view.error} what="datanodes">
        {(data) =>
          data.ok ? (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Node</th>
                    <th>State</th>
                    <th>Storage</th>
                    <th>Chunks</th>
                    <th>Rack</th>
                    <th>Last heartbeat</th>
                  </tr>
                </thead>
                <tbody>
                  {data.data.datanodes.map((node) => (
                    <tr key={node.node_id} data-testid={`datanode-${node.node_id}`}>
                      <td className="mono">{node.node_id}</td>
                      <td>
                        <StatusBadge status={node.state} />
                      </td>
                      <td className="storage-cell">
                        <StorageBar
                          usedBytes={node.total_space - node.free_space}
                          totalBytes={node.total_space}
                        />
                      </td>
                      <td>{formatCount(node.chunk_count)}</td>
                      <td>{node.rack ?? '—'}</td>
                      <td>{formatAge(Date.now() - Date.parse(node.last_heartbeat))} ago</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <ErrorNote title="DFS master not available" message={data.error} />
          )
        }
      </Async>
    </Panel>
  );
}
