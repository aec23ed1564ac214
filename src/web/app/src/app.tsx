/**
 * The dashboard's frame: the navigation bar with who is signed in, and the page of the current
 * route, or the sign-in panel while the server wants a token.
 */
import { Fragment, useEffect, type ReactNode } from 'react';
import { ErrorNote, Loading } from './components.js';
import { FileDetailsPage } from './pages/file-details.js';
import { FilesPage } from './pages/files.js';
import { JobDetailsPage } from './pages/job-details.js';
import { JobsPage } from './pages/jobs.js';
import { NodesPage } from './pages/nodes.js';
import { OverviewPage } from './pages/overview.js';
import { SearchPage } from './pages/search.js';
import { useRoute, type Route } from './router.js';
import { SessionControl, SignInPanel, useSession, type Session } from './session.js';

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
  const session = useSession();
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
        <SessionControl session={session} />
      </header>
      <main>
        <h1 className="page-title">{page?.title ?? 'Not found'}</h1>
        <PageOrSignIn session={session}>
          {page ? (
            page.render(route)
          ) : (
            <ErrorNote
              title="No such page"
              message={`Nothing lives at ${route.path}; pick a page above.`}
            />
          )}
        </PageOrSignIn>
      </main>
    </div>
  );
}

/**
 * The page once the session is known and allows it. Keyed by the sign-in, so that a page
 * whose calls were refused starts afresh (and its event streams reconnect) after a sign-in.
 */
function PageOrSignIn(props: { session: Session; children: ReactNode }): ReactNode {
  const { state, epoch } = props.session;
  if (state.kind === 'checking') return <Loading what="the session" />;
  if (state.kind === 'signed-out')
    return <SignInPanel session={props.session} reason={state.reason} />;
  return <Fragment key={epoch}>{props.children}</Fragment>;
}
