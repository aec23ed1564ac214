import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpStatusError } from '../core/errors-http-client.js';
import { HttpClient } from '../core/http-client.js';
import type { Logger } from '../core/logger.js';
import type { ServerRecord } from './types.js';

export interface RegistrationAgentOptions {
  readonly registryUrl: string;
  readonly role: string;
  readonly host: string;
  readonly port: number;
  /** Base URL peers use; default `http://host:port`. */
  readonly url?: string;
  /** Fresh metadata for every registration and heartbeat (version, rack, capacity, ...). */
  readonly metadata?: () => Record<string, unknown>;
  readonly heartbeatIntervalMs: number;
  /** Fixed id; when absent, one is generated once and kept in `dataDir`. */
  readonly serverId?: string;
  readonly dataDir?: string;
  readonly logger: Logger;
}

/**
 * The registration agent every Tessera service runs (the seed's backend registry client):
 * registers at start, heartbeats every interval, registers again when the registry answers
 * 404 (it lost or expired us) or after a lost connection, and deregisters on a graceful stop.
 * It never blocks its service: when the registry is down it keeps trying in the background.
 */
export class RegistrationAgent {
  readonly serverId: string;
  private readonly http: HttpClient;
  private timer: NodeJS.Timeout | undefined;
  private registered = false;
  private registryReachable = true;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: RegistrationAgentOptions) {
    this.serverId = options.serverId ?? stableServerId(options.role, options.dataDir);
    // The heartbeat loop is itself the retry: no retries inside, and a breaker that
    // half-opens after one interval so a restarted registry is found again at once.
    this.http = new HttpClient({
      maxRetries: 0,
      timeoutMs: Math.max(1_000, Math.min(options.heartbeatIntervalMs, 10_000)),
      breaker: { openMs: options.heartbeatIntervalMs, successThreshold: 1 },
      connectionsPerOrigin: 2,
    });
  }

  /** Registers once (without failing if the registry is down) and starts heartbeating. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      this.inFlight = this.beat();
    }, this.options.heartbeatIntervalMs);
  }

  /** Stops heartbeating and deregisters (best effort, bounded by a short timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.inFlight;
    if (this.registered) {
      try {
        await this.http.deleteJson(
          `${this.options.registryUrl}/servers/${encodeURIComponent(this.serverId)}`,
          { timeoutMs: 2_000 },
        );
      } catch (error) {
        this.options.logger.debug({ err: error }, 'deregistration failed');
      }
    }
    await this.http.close();
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!this.registered) await this.register();
      else await this.heartbeat();
      if (!this.registryReachable) this.options.logger.info('registry reachable again');
      this.registryReachable = true;
    } catch (error) {
      if (this.registryReachable) {
        this.options.logger.warn(
          { err: error, registry: this.options.registryUrl },
          'registry unreachable; will keep trying every heartbeat interval',
        );
      }
      this.registryReachable = false;
    }
  }

  private async register(): Promise<void> {
    const { host, port, role } = this.options;
    const body = {
      server_id: this.serverId,
      role,
      host,
      port,
      ...(this.options.url ? { url: this.options.url } : {}),
      metadata: this.options.metadata?.() ?? {},
    };
    await this.http.postJson<ServerRecord>(`${this.options.registryUrl}/register`, body, {
      idempotent: true,
    });
    this.registered = true;
    this.options.logger.info({ server_id: this.serverId, role }, 'registered in the registry');
  }

  private async heartbeat(): Promise<void> {
    const body = { server_id: this.serverId, metadata: this.options.metadata?.() ?? {} };
    try {
      await this.http.postJson(`${this.options.registryUrl}/heartbeat`, body, { idempotent: true });
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 404) {
        this.options.logger.warn('the registry does not know us; registering again');
        this.registered = false;
        await this.register();
        return;
      }
      throw error;
    }
  }
}

/** A server id that survives restarts: read from, or generated into, `dataDir/server-id`. */
export function stableServerId(role: string, dataDir: string | undefined): string {
  const generated = `${role}-${randomUUID().slice(0, 8)}`;
  if (dataDir === undefined) return generated;
  const file = join(dataDir, 'server-id');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored) return stored;
  } catch {
    // First start: no id yet.
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${generated}\n`);
  return generated;
}
