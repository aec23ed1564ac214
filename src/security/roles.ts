/**
 * Which role a request needs (issue 7, "roles admin / writer / reader"). Pure.
 *
 * The rule, in order:
 * 1. the route's own `config.access.role`, when it declares one;
 * 2. the table of service-to-service and administrative routes below (role admin: only the
 *    services, whose tokens carry role admin, and operators may call them), and the few
 *    read-only routes that use POST;
 * 3. otherwise by method: GET, HEAD and OPTIONS need `reader`, every other method `writer`.
 */
import type { Role, RouteAccess } from '../core/security-context.js';

export { ROLES, roleAtLeast, type Role, type Principal } from '../core/security-context.js';

/** What a request needs: a role, or nothing (`public`). */
export type RequiredAccess = Role | 'public';

/**
 * Routes whose default by method is wrong, keyed `METHOD /route/pattern` (Fastify's pattern).
 * Admin routes are those of the cluster's own plumbing: registration, heartbeats, removal of
 * servers, datanode chunk maintenance, search peer traffic and the MapReduce shuffle.
 */
export const ROUTE_ROLES: Readonly<Record<string, RequiredAccess>> = {
  // registry
  'POST /register': 'admin',
  'POST /heartbeat': 'admin',
  'DELETE /servers/:server_id': 'admin',
  // DFS
  'POST /api/v1/nodes/heartbeat': 'admin',
  'DELETE /api/v1/chunks/:chunk_id': 'admin',
  'POST /api/v1/chunks/:chunk_id/replicate': 'admin',
  // search: peer-to-peer traffic and the balancer's bookkeeping
  'POST /election': 'admin',
  'POST /join': 'admin',
  'POST /departures/forget': 'admin',
  'POST /update_index': 'admin',
  'POST /balancer/heartbeat': 'admin',
  'GET /balancer/snapshots': 'admin',
  'POST /balancer/snapshots': 'admin',
  // search: a query sent with POST only reads
  'POST /search': 'reader',
  // MapReduce: map output is served to reducers only
  'GET /shuffle/:job_id/:map_task_id/:partition': 'admin',
};

/** Route prefixes whose every route is service-to-service (role admin). */
export const ADMIN_ROUTE_PREFIXES: readonly string[] = ['/internal/'];

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The access a request to `route` with `method` needs; see the module comment. */
export function requiredAccess(
  method: string,
  route: string | undefined,
  access: RouteAccess = {},
): RequiredAccess {
  if (access.role !== undefined) return access.role;
  if (route !== undefined) {
    const listed = ROUTE_ROLES[`${method} ${route}`] ?? headFallback(method, route);
    if (listed !== undefined) return listed;
    if (ADMIN_ROUTE_PREFIXES.some((prefix) => route.startsWith(prefix))) return 'admin';
  }
  return READ_METHODS.has(method) ? 'reader' : 'writer';
}

/** A HEAD route Fastify derives from a GET route needs what the GET needs. */
function headFallback(method: string, route: string): RequiredAccess | undefined {
  return method === 'HEAD' ? ROUTE_ROLES[`GET ${route}`] : undefined;
}

/** Parses a role name (CLI, token claims); undefined when it is not one. */
export function parseRole(value: unknown): Role | undefined {
  return value === 'reader' || value === 'writer' || value === 'admin' ? value : undefined;
}
