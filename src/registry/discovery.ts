import { systemClock, type Clock } from '../core/clock.js';
import { UnavailableError } from '../core/errors.js';
import { HttpStatusError } from '../core/errors-http-client.js';
import type { HttpClient } from '../core/http-client.js';
import { systemRandom, type Random } from '../core/random.js';
import { orderCandidates, type SelectionStrategy } from './selection.js';
import type { ServerList, ServerRecord } from './types.js';

export interface DiscoveryOptions {
  readonly registryUrl: string;
  readonly http: HttpClient;
  /** How long a role's server list is reused before asking the registry again. Default 5 s. */
  readonly cacheTtlMs?: number;
  /** The seed's `API_URL`: used when the registry cannot be reached and nothing is cached. */
  readonly fallbackUrl?: string;
  readonly strategy?: SelectionStrategy;
  readonly clock?: Clock;
  readonly random?: Random;
}

interface CacheEntry {
  readonly servers: ServerRecord[];
  readonly fetchedAtMs: number;
}

/**
 * The discovery client (the seed's frontend registry client), used by the CLI, the dashboard
 * and the services: active servers of a role, cached for a TTL; selection random, first or
 * round-robin; a stale list or `API_URL` when the registry is down; a failing server skipped
 * in favour of the next.
 */
export class DiscoveryClient {
  private readonly cache = new Map<string, CacheEntry>();
  private cursor = 0;
  private readonly clock: Clock;
  private readonly random: Random;

  constructor(private readonly options: DiscoveryOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
  }

  /** Active servers of a role (every role when absent). */
  async servers(role?: string): Promise<ServerRecord[]> {
    const key = role ?? '*';
    const cached = this.cache.get(key);
    const ttlMs = this.options.cacheTtlMs ?? 5_000;
    if (cached && this.clock.nowMs() - cached.fetchedAtMs < ttlMs) return cached.servers;
    const query = role ? `?role=${encodeURIComponent(role)}` : '';
    try {
      const list = await this.options.http.getJson<ServerList>(
        `${this.options.registryUrl}/servers/active${query}`,
        { maxRetries: 1, timeoutMs: 3_000 },
      );
      this.cache.set(key, { servers: list.servers, fetchedAtMs: this.clock.nowMs() });
      return list.servers;
    } catch (error) {
      // A refusal (no or a bad token when --auth is on) is an answer, not an outage.
      if (error instanceof HttpStatusError && (error.status === 401 || error.status === 403))
        throw error;
      if (cached) return cached.servers;
      if (this.options.fallbackUrl) return [fallbackRecord(this.options.fallbackUrl, role)];
      throw new UnavailableError(
        `cannot reach the registry at ${this.options.registryUrl}; start it (tessera up) or pass --registry URL (or set API_URL)`,
        error,
      );
    }
  }

  /** One server of the role, chosen by the strategy; throws when there is none. */
  async select(role: string, strategy?: SelectionStrategy): Promise<ServerRecord> {
    const [first] = await this.candidates(role, strategy);
    if (!first) throw noServer(role);
    return first;
  }

  /**
   * Calls `fn` with a server of the role; when the call fails because the server is down or
   * broken (connection error, timeout, 5xx), tries the next one. Client errors (4xx) are
   * answers, not failures, and are thrown at once.
   */
  async withServer<T>(role: string, fn: (server: ServerRecord) => Promise<T>): Promise<T> {
    const candidates = await this.candidates(role);
    if (candidates.length === 0) throw noServer(role);
    let lastError: unknown;
    for (const server of candidates) {
      try {
        return await fn(server);
      } catch (error) {
        if (error instanceof HttpStatusError && error.status < 500) throw error;
        lastError = error;
        this.expire(role);
      }
    }
    throw lastError;
  }

  /**
   * Makes cached lists stale (after a failure, or when the caller knows the set changed): the
   * next call asks the registry again, and still falls back on them if the registry is down.
   */
  invalidate(): void {
    for (const role of this.cache.keys()) this.expire(role);
  }

  private expire(role: string): void {
    const entry = this.cache.get(role);
    if (entry) this.cache.set(role, { ...entry, fetchedAtMs: Number.NEGATIVE_INFINITY });
  }

  private async candidates(role: string, strategy?: SelectionStrategy): Promise<ServerRecord[]> {
    const servers = await this.servers(role);
    const ordered = orderCandidates(
      servers,
      strategy ?? this.options.strategy ?? 'random',
      this.cursor,
      this.random,
    );
    this.cursor = ordered.cursor;
    return ordered.ordered;
  }
}

function noServer(role: string): UnavailableError {
  return new UnavailableError(
    `no active ${role} server is registered; start one (tessera up starts a whole cluster)`,
  );
}

function fallbackRecord(url: string, role: string | undefined): ServerRecord {
  const parsed = new URL(url);
  return {
    server_id: 'api-url-fallback',
    role: role ?? 'unknown',
    host: parsed.hostname,
    port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)),
    url: url.replace(/\/+$/, ''),
    metadata: { fallback: true },
    status: 'active',
    registered_at: 0,
    last_heartbeat: 0,
    recoveries: 0,
  };
}
