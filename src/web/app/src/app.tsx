/** The dashboard's frame: the navigation bar and the page of the current route. */
import { useEffect, type ReactNode } from 'react';
import { ErrorNote } from './components.js';
import { FileDetailsPage } from './pages/file-details.js';
import { FilesPage } from './pages/files.js';
import { JobDetailsPage } from './pages/job-details.js';
import { JobsPage } from './pages/jobs.js';
import { NodesPage } from './pages/nodes.js';
import { OverviewPage } from './pages/overview.js';
import { SearchPage } from './pages/search.js';
import { useRoute, type Route } from './router.js';

interface PageSpec {
  readonly path: string;
  readonly title: string;
  readonly render: (route: Route) => ReactNode;
  /** Sub-pages that light up this tab. */
  readonly prefix?: string;
}

/** Every page, in the order of the navigation bar. */
export const PAGES: readonly PageSpec[] = [
  { path: '/overview', title: 'Overview', render: () => <OverviewPage /> },
  {
    path: '/files',
    title: 'Files',
    prefix: '/files',
    render: (route) =>
      route.path === '/files/detail' ? (
        <FileDetailsPage route={route} />
      ) : (
        <FilesPage route={route} />
      ),
  },
  { path: '/nodes', title: 'Nodes', render: (route) => <NodesPage route={route} /> },
  { path: '/search', title: 'Search', render: (route) => <SearchPage route={route} /> },
  {
    path: '/jobs',
    title: 'Jobs',
    prefix: '/jobs',
    render: (route) =>
      route.path === '/jobs/detail' ? <JobDetailsPage route={route} /> : <JobsPage />,
  },
];

export function App(): ReactNode {
  const route = useRoute();
  const page = PAGES.find(
    (spec) =>
      route.path === spec.path || (spec.prefix !== undefined && route.path.startsWith(spec.prefix)),
  );
  useEffect(() => {
    document.title = `${page?.title ?? 'Not found'} · Tessera`;
  }, [page]);
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/overview">
          Tessera
        </a>
        <nav className="tabs" aria-label="Pages">
          {PAGES.map((spec) => (
            <a
              key={spec.path}
              href={`#${spec.path}`}
              className={spec === page ? 'tab current' : 'tab'}
              aria-current={spec === page ? 'page' : undefined}
            >
              {spec.title}
            </a>
          ))}
        </nav>
      </header>
      <main>
        <h1 className="page-title">{page?.title ?? 'Not found'}</h1>
        {page ? (
          page.render(route)
        ) : (
          <ErrorNote
            title="No such page"
            message={`Nothing lives at ${route.path}; pick a page above.`}
          />
        )}
      </main>
    </div>
  );
}
