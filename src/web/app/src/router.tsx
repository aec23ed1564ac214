/**
 * Hash routing (`#/files?dir=/data`): every page has a link of its own and the server needs no
 * fallback route, since the fragment never reaches it.
 */
import { useEffect, useState } from 'react';

export interface Route {
  /** `/overview`, `/files`, `/files/detail`, `/nodes`, ... */
  readonly path: string;
  readonly params: URLSearchParams;
}

function readRoute(): Route {
  const hash = window.location.hash.replace(/^#/, '') || '/overview';
  const [path = '/overview', query = ''] = hash.split('?', 2);
  return { path, params: new URLSearchParams(query) };
}

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const onChange = (): void => setRoute(readRoute());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The `href` of a route. */
export function href(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

/** Goes to a route (a new history entry). */
export function navigate(path: string, params: Record<string, string | undefined> = {}): void {
  window.location.hash = href(path, params);
}
