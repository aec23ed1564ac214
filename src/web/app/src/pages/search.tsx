/**
 * Search: a query box with ranked, highlighted results (and which nodes answered, how long it
 * took, whether the answer is partial); the hypercube with live and dead nodes and the leader;
 * the leader's balancer statistics; and every search node's status. The query lives in the
 * URL (`#/search?q=wing&k=10`), so a search has a link of its own.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type {
  SearchClusterView,
  SearchNodeView,
  SearchView,
  WireBalancerStats,
} from '../../../api-types.js';
import { useFetch, usePolling } from '../api.js';
import { Async, ErrorNote, Loading, Panel, Stat, StatusBadge } from '../components.js';
import { formatAge, formatCount } from '../format.js';
import { CubeDrawing } from '../hypercube.js';
import { navigate, type Route } from '../router.js';
import { ResultList, SearchSummaryLine } from '../search-results.js';
import { lossWarning } from '../../../search-loss.pure.js';

const PAGE_SIZES = ['10', '20', '50'];

export function SearchPage(props: { route: Route }): ReactNode {
  const query = props.route.params.get('q') ?? '';
  const k = PAGE_SIZES.includes(props.route.params.get('k') ?? '')
    ? (props.route.params.get('k') ?? '10')
    : '10';
  const url = query.trim()
    ? `/api/search?${new URLSearchParams({ q: query, k }).toString()}`
    : null;
  const answer = useFetch<SearchView>(url);
  const cluster = usePolling<SearchClusterView>('/api/search/cluster', 3_000);
  return (
    <div className="grid">
      <Panel title="Query" wide testId="search-panel">
        <QueryForm
          query={query}
          k={k}
          onSearch={(q, size) =>
            q === query && size === k ? answer.refresh() : navigate('/search', { q, k: size })
          }
        />
        {url === null ? (
          <p className="muted">
            Type words to find; results are ranked with BM25 over the whole cluster.
          </p>
        ) : answer.answeredUrl !== url || answer.loading ? (
          <Loading what="results" />
        ) : answer.error ? (
          <ErrorNote title="Search not available" message={answer.error} />
        ) : answer.data ? (
          <div data-testid="search-results">
            <SearchSummaryLine answer={answer.data} />
            <ResultList results={answer.data.results} />
          </div>
        ) : (
          <Loading what="results" />
        )}
      </Panel>
      <Panel title="Hypercube" testId="search-cube">
        <Async data={cluster.data} error={cluster.error} what="the search cluster">
          {(data) =>
            !data.nodes.ok ? (
              <ErrorNote title="Registry not available" message={data.nodes.error} />
            ) : data.cube === null ? (
              <ErrorNote
                title="No search node"
                message="No search node is registered; start some (tessera up starts four)."
              />
            ) : (
              <CubeDrawing cube={data.cube} />
            )
          }
        </Async>
      </Panel>
      <Panel title="Balancer (on the leader)" testId="search-balancer">
        <Async data={cluster.data} error={cluster.error} what="the balancer">
          {(data) =>
            data.balancer.ok ? (
              <BalancerStats
                stats={data.balancer.data.stats}
                leaderUrl={data.balancer.data.leader_url}
              />
            ) : (
              <ErrorNote title="Balancer not available" message={data.balancer.error} />
            )
          }
        </Async>
      </Panel>
      <Panel title="Search nodes" wide testId="search-nodes">
        <Async data={cluster.data} error={cluster.error} what="the search nodes">
          {(data) =>
            data.nodes.ok ? (
              <NodeTable nodes={data.nodes.data} leaderId={data.cube?.leader_id ?? null} />
            ) : (
              <ErrorNote title="Registry not available" message={data.nodes.error} />
            )
          }
        </Async>
      </Panel>
    </div>
  );
}

function QueryForm(props: {
  query: string;
  k: string;
  onSearch: (query: string, k: string) => void;
}): ReactNode {
  const [text, setText] = useState(props.query);
  const [k, setK] = useState(props.k);
  useEffect(() => setText(props.query), [props.query]);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (text.trim()) props.onSearch(text.trim(), k);
  };
  return (
    <form className="search-form" onSubmit={submit} role="search">
      <input
        type="search"
        value={text}
        onChange={(event) => setText(event.target.value)}
        placeholder="Search the cluster, e.g. heat transfer wing"
        aria-label="Query"
        data-testid="search-input"
        maxLength={1000}
      />
      <label>
        Top{' '}
        <select value={k} onChange={(event) => setK(event.target.value)} aria-label="Results">
          {PAGE_SIZES.map((size) => (
            <option key={size} value={size}>
              {size}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" data-testid="search-button">
        Search
      </button>
    </form>
  );
}

function BalancerStats(props: { stats: WireBalancerStats; leaderUrl: string }): ReactNode {
  const { stats } = props;
  return (
    <>
      <p className="muted small">
        Leader: node {stats.node_id ?? '?'} at <span className="mono">{props.leaderUrl}</span>
      </p>
      <div className="stats">
        <Stat label="documents" value={formatCount(stats.doc_count)} testId="balancer-docs" />
        <Stat label="distinct terms" value={formatCount(stats.total_terms)} />
        <Stat
          label="active nodes"
          value={`${stats.active_nodes} / ${stats.total_nodes}`}
          warn={stats.active_nodes < stats.total_nodes}
        />
        <Stat label="avg doc length" value={stats.avg_doc_length.toFixed(1)} hint="terms" />
        <Stat label="locate cache hits" value={`${(stats.cache.hit_rate * 100).toFixed(0)}%`} />
        <Stat
          label="index updates"
          value={formatCount(stats.updates.applied)}
          hint={`${stats.updates.ignored} ignored (repeats)`}
        />
      </div>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Node</th>
              <th>Status</th>
              <th>Docs</th>
              <th>Terms</th>
              <th>Heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {stats.nodes.map((node) => (
              <tr key={node.node_id}>
                <td>{node.node_id}</td>
                <td>
                  <StatusBadge status={node.status} />
                </td>
                <td>{formatCount(node.doc_count)}</td>
                <td>{formatCount(node.term_count)}</td>
                <td>
                  {node.last_heartbeat_ms === null
                    ? '—'
                    : `${formatAge(Date.now() - node.last_heartbeat_ms)} ago`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function NodeTable(props: {
  nodes: readonly SearchNodeView[];
  leaderId: number | null;
}): ReactNode {
  if (props.nodes.length === 0) return <p className="muted">No search node is registered.</p>;
  const sorted = [...props.nodes].sort((a, b) => (a.node_id ?? 1e9) - (b.node_id ?? 1e9));
  const warning = lossWarning(
    props.nodes.flatMap((node) => (node.status.ok ? [node.status.data] : [])),
  );
  return (
    <div className="table-wrap">
      {warning === null ? null : (
        <div className="error-note" role="alert" data-testid="search-loss-warning">
          <strong>Documents may be missing</strong>
          <span>{warning}</span>
        </div>
      )}
      <table>
        <thead>
          <tr>
            <th>Node</th>
            <th>Binary</th>
            <th>State</th>
            <th>Role</th>
            <th>Docs</th>
            <th>Terms</th>
            <th>Neighbours alive</th>
            <th>URL</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((node) => (
            <NodeRow key={node.server_id} node={node} leaderId={props.leaderId} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NodeRow(props: { node: SearchNodeView; leaderId: number | null }): ReactNode {
  const { node } = props;
  const status = node.status.ok ? node.status.data : null;
  return (
    <tr data-testid="search-node-row" data-state={status ? 'live' : 'dead'}>
      <td>{node.node_id ?? '—'}</td>
      <td className="mono">{status?.binary_id ?? '—'}</td>
      <td>
        <StatusBadge
          status={status ? 'active' : node.registry_status === 'active' ? 'dead' : 'inactive'}
        />
      </td>
      <td>
        {status ? (
          status.is_leader ? (
            '★ leader'
          ) : (
            `follower of ${status.leader_id ?? '?'}`
          )
        ) : node.status.ok ? (
          ''
        ) : (
          <span className="muted small">{node.status.error}</span>
        )}
      </td>
      <td>{status ? formatCount(status.doc_count) : '—'}</td>
      <td>{status ? formatCount(status.term_count) : '—'}</td>
      <td className="mono">
        {status
          ? status.neighbors
              .filter((neighbor) => neighbor.alive)
              .map((neighbor) => neighbor.binary_id)
              .join(' ') || 'none'
          : '—'}
      </td>
      <td className="mono small">{node.url}</td>
    </tr>
  );
}
