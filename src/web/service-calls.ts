import { UnavailableError } from '../core/errors.js';
import {
  CircuitOpenError,
  classifyTransportError,
  HttpStatusError,
  PeerTimeoutError,
  PeerUnavailableError,
} from '../core/errors-http-client.js';
import type { DiscoveryClient, ServerRecord } from '../registry/index.js';
import type { AnsweredBy } from './api-types.js';
import { passPeerError } from './peer-errors.js';

/** A role whose servers are interchangeable for a call, and how a person names it. */
export interface RoleSpec {
  /** The registry role, e.g. `search-node`. */
  readonly role: string;
  /** How messages name it, e.g. `search node`. */
  readonly label: string;
}

/** A value and the server that gave it. */
export interface Answered<T> {
  readonly value: T;
  readonly answeredBy: AnsweredBy;
}

/**
 * Sends calls to any active server of a role, with failover: the server that answered last
 * is tried first (so a dead server costs one failure, not one per call), then the others in
 * the registry's order. A server that cannot be reached, times out or answers 5xx is skipped
 * for the next; a 4xx is the answer (the browser gets it with the server's status and words).
 * A call that is not idempotent moves to the next server only when it provably never left
 * (connection refused, breaker open), so a job is never submitted twice. When no server
 * answers, the error is a 503 that names every server tried and why it failed.
 */
export class RoleCaller {
  private readonly preferred = new Map<string, string>();

  constructor(private readonly discovery: DiscoveryClient) {}

  /** Calls `fn` with servers of `spec.role` until one answers; see the class comment. */
  async call<T>(
    spec: RoleSpec,
    fn: (server: ServerRecord) => Promise<T>,
    options: { idempotent?: boolean } = {},
  ): Promise<Answered<T>> {
    const idempotent = options.idempotent ?? true;
    const servers = this.ordered(spec, await this.serversOf(spec));
    const skipped: AnsweredBy['skipped'] = [];
    for (const server of servers) {
      try {
        const value = await fn(server);
        this.preferred.set(spec.role, server.server_id);
        return { value, answeredBy: { server_id: server.server_id, url: server.url, skipped } };
      } catch (error) {
        if (error instanceof HttpStatusError && error.status < 500) passPeerError(error);
        if (!idempotent && !neverSent(error)) passPeerError(error);
        skipped.push({ server_id: server.server_id, url: server.url, error: messageOf(error) });
        if (this.preferred.get(spec.role) === server.server_id) this.preferred.delete(spec.role);
        this.discovery.invalidate();
      }
    }
    const reasons = skipped.map((s) => `${s.server_id} (${s.url}): ${s.error}`).join('; ');
    throw new UnavailableError(`no ${spec.label} answered: ${reasons}`);
  }

  private async serversOf(spec: RoleSpec): Promise<ServerRecord[]> {
    let servers: ServerRecord[];
    try {
      servers = await this.discovery.servers(spec.role);
    } catch (error) {
      throw new UnavailableError(`cannot look up the ${spec.label}: ${messageOf(error)}`, error);
    }
    if (servers.length === 0) {
      throw new UnavailableError(
        `no ${spec.label} is registered (role ${spec.role}); start one (tessera up starts a whole cluster)`,
      );
    }
    return servers;
  }

  private ordered(spec: RoleSpec, servers: readonly ServerRecord[]): ServerRecord[] {
    const first = this.preferred.get(spec.role);
    const head = servers.filter((server) => server.server_id === first);
    return [...head, ...servers.filter((server) => server.server_id !== first)];
  }
}

/** True when a failed request never reached the peer, so sending it elsewhere is safe. */
export function neverSent(error: unknown): boolean {
  if (error instanceof CircuitOpenError) return true;
  if (!(error instanceof PeerUnavailableError) || error instanceof PeerTimeoutError) return false;
  return classifyTransportError(error.cause, undefined) === 'unsent';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
