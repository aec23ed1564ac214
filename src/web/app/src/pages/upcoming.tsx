/**
 * Pages whose services have not landed yet (Search: issue 4, Jobs: issue 5): a clear note of
 * what will be here, and which servers of those roles the registry already lists.
 */
import type { ReactNode } from 'react';
import type { NodesSnapshot } from '../../../api-types.js';
import { usePolling } from '../api.js';
import { Async, ErrorNote, Panel, StatusBadge } from '../components.js';

export interface UpcomingPage {
  readonly title: string;
  readonly issue: number;
  readonly roles: readonly string[];
  readonly features: readonly string[];
}

export const SEARCH_PAGE: UpcomingPage = {
  title: 'Search',
  issue: 4,
  roles: ['search-node'],
  features: [
    'a query box with ranked results and highlighted snippets',
    'which nodes answered and how long each took',
    'the hypercube drawn with live and dead nodes and the current leader',
    "the balancer's statistics",
  ],
};

export const JOBS_PAGE: UpcomingPage = {
  title: 'Jobs',
  issue: 5,
  roles: ['mapreduce-master', 'mapreduce-worker'],
  features: [
    'submit a word count of a chosen file, or a custom job',
    'live progress per phase and per task, with counters',
    'circuit-breaker state per worker and retries',
    'the dead-letter queue with a Recover button',
  ],
};

export function UpcomingPageView(props: { page: UpcomingPage }): ReactNode {
  const nodes = usePolling<NodesSnapshot>('/api/nodes', 5_000);
  const { page } = props;
  return (
    <div className="grid">
      <Panel title={page.title} wide testId={`upcoming-${page.title.toLowerCase()}`}>
        <div className="upcoming">
          <p className="upcoming-lead">
            The {page.title} page arrives with issue {page.issue}.
          </p>
          <p>It will show:</p>
          <ul>
            {page.features.map((feature) => (
              <li key={feature}>{feature}</li>
            ))}
          </ul>
        </div>
      </Panel>
      <Panel title={`Registered ${page.roles.join(' / ')} servers`} wide>
        <Async data={nodes.data} error={nodes.error} what="the registry's table">
          {(snapshot) => {
            if (!snapshot.servers.ok)
              return <ErrorNote title="Registry not available" message={snapshot.servers.error} />;
            const servers = snapshot.servers.data.servers.filter((server) =>
              page.roles.includes(server.role),
            );
            if (servers.length === 0) return <p className="muted">None yet.</p>;
            return (
              <ul className="plain">
                {servers.map((server) => (
                  <li key={server.server_id}>
                    <StatusBadge status={server.status} />{' '}
                    <span className="mono">{server.server_id}</span> {server.url}
                  </li>
                ))}
              </ul>
            );
          }}
        </Async>
      </Panel>
    </div>
  );
}
