import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import type { HttpClient } from '../core/http-client.js';
import type { Logger } from '../core/logger.js';
import type { ServerList } from '../registry/index.js';
import type { NodesSnapshot, WireServer } from './api-types.js';

export interface NodeWatcherOptions {
  readonly registryUrl: string;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Longest hold of one blocking query; also how stale heartbeat times may get, since a
   * heartbeat does not move the registry's change index. Default 3 s.
   */
  readonly holdMs?: number;
  /** Pause after a failed round before trying again. Default 2 s. */
  readonly retryMs?: number;
}

type Listener = (snapshot: NodesSnapshot) => void;

/**
 * Follows the registry's table with blocking queries (`GET /servers/active?index=N&wait=3s`,
 * answered at once when the change index moves: a server joins, leaves, or turns inactive)
 * and re-reads the whole table (`GET /servers`, inactive servers too) after each, so that
 * every subscriber (the dashboard's server-sent event streams) gets each change within
 * moments, and fresh heartbeat times at least every `holdMs`. One loop serves every browser.
 */
export class NodeWatcher {
  private snapshot: NodesSnapshot;
  private readonly listeners = new Set<Listener>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private firstRound: Promise<void>;
  private markFirstRound: () => void = () => {};

  constructor(private readonly options: NodeWatcherOptions) {
    this.snapshot = {
      registry_url: options.registryUrl,
      fetched_at_ms: options.clock.nowMs(),
      servers: { ok: false, error: 'the registry has not been asked yet' },
    };
    this.firstRound = new Promise((resolve) => (this.markFirstRound = resolve));
  }

  /** The latest table (or the registry's failure). */
  latest(): NodesSnapshot {
    return this.snapshot;
  }

  /** The active servers of the latest table (empty when the registry failed). */
  activeServers(): WireServer[] {
    const { servers } = this.snapshot;
    return servers.ok ? servers.data.servers.filter((server) => server.status === 'active') : [];
  }

  /** Reads the table now (for pages that poll), without waiting for the loop. */
  async readNow(): Promise<NodesSnapshot> {
    let servers: NodesSnapshot['servers'];
    try {
      const list = await this.readTable(this.stopping.signal);
      servers = { ok: true, data: { servers: list.servers, index: list.index } };
    } catch (error) {
      servers = { ok: false, error: describe(error, this.options.registryUrl) };
    }
    return {
      registry_url: this.options.registryUrl,
      fetched_at_ms: this.options.clock.nowMs(),
      servers,
    };
  }

  /** Calls `listener` with each new snapshot; answers the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** Resolves once the first round ended (with the table or with an error). */
  ready(): Promise<void> {
    return this.firstRound;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.listeners.clear();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    let index: number | undefined;
    while (!signal.aborted) {
      try {
        index = await this.waitForChange(index, signal);
        const list = await this.readTable(signal);
        this.publish({ ok: true, data: { servers: list.servers, index: list.index } });
      } catch (error) {
        if (signal.aborted) break;
        index = undefined;
        this.publish({ ok: false, error: describe(error, this.options.registryUrl) });
        await sleep(this.options.retryMs ?? 2_000, undefined, { signal }).catch(() => undefined);
      }
    }
  }

  private readTable(signal: AbortSignal): Promise<ServerList> {
    return this.options.http.getJson<ServerList>(`${this.options.registryUrl}/servers`, {
      signal,
      maxRetries: 0,
      timeoutMs: 5_000,
    });
  }

  /** The first round asks at once; later ones hold until the index moves or `holdMs` passes. */
  private async waitForChange(index: number | undefined, signal: AbortSignal): Promise<number> {
    const holdMs = this.options.holdMs ?? 3_000;
    const query = index === undefined ? '' : `?index=${index}&wait=${holdMs}ms`;
    const list = await this.options.http.getJson<ServerList>(
      `${this.options.registryUrl}/servers/active${query}`,
      { signal, maxRetries: 0, timeoutMs: holdMs + 5_000 },
    );
    return list.index;
  }

  private publish(servers: NodesSnapshot['servers']): void {
    this.snapshot = {
      registry_url: this.options.registryUrl,
      fetched_at_ms: this.options.clock.nowMs(),
      servers,
    };
    this.markFirstRound();
    for (const listener of this.listeners) {
      try {
        listener(this.snapshot);
      } catch (error) {
        this.options.logger.warn({ err: error }, 'a node-table subscriber failed');
      }
    }
  }
}

function describe(error: unknown, registryUrl: string): string {
  const reason = error instanceof Error ? error.message : String(error);
  return `cannot read the registry at ${registryUrl}: ${reason}`;
}
