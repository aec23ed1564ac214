/**
 * A search node's view of the cluster: which search nodes are alive and where they listen.
 *
 * The source is the registry (DESIGN.md: nodes find each other there): the active servers of
 * role `search-node`, whose metadata carries their hypercube `node_id`, followed with blocking
 * queries so a change arrives within one registry sweep. On top of it, the node's own failure
 * detection wins: a node that just failed a request is *suspected* and left out for
 * `suspectMs`, or until it is heard from again (docs/search-overlay.md, "stale views").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../core/clock.js';
import type { HttpClient } from '../../core/http-client.js';
import type { Logger } from '../../core/logger.js';
import type { ServerList, ServerRecord } from '../../registry/index.js';

/** The registry role of search nodes. */
export const SEARCH_NODE_ROLE = 'search-node';

/** A live search node as the registry lists it. */
export interface PeerRecord {
  readonly nodeId: number;
  readonly url: string;
  readonly serverId: string;
}

export interface ClusterViewOptions {
  readonly self: number;
  readonly selfUrl: string;
  readonly registryUrl: string;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a node that failed a request stays out of the live set. */
  readonly suspectMs: number;
  /** Longest hold of one blocking query (default 30 s). */
  readonly waitMs?: number;
}

/** The search node ids registered as active, with their URLs, from a registry list. */
export function peersFromServers(servers: readonly ServerRecord[]): Map<number, PeerRecord> {
  const peers = new Map<number, PeerRecord & { heartbeat: number }>();
  for (const server of servers) {
    const nodeId = server.metadata['node_id'];
    if (typeof nodeId !== 'number' || !Number.isSafeInteger(nodeId) || nodeId < 0) continue;
    const seen = peers.get(nodeId);
    // Two records claiming one id (a node moved to a new data dir): the fresher one wins.
    if (seen !== undefined && seen.heartbeat >= server.last_heartbeat) continue;
    peers.set(nodeId, {
      nodeId,
      url: server.url,
      serverId: server.server_id,
      heartbeat: server.last_heartbeat,
    });
  }
  return new Map(
    [...peers].map(([id, { nodeId, url, serverId }]) => [id, { nodeId, url, serverId }]),
  );
}

/** The live set and address book of one node. */
export class ClusterView {
  private registered = new Map<number, PeerRecord>();
  private readonly addresses = new Map<number, string>();
  private readonly known = new Set<number>();
  private readonly suspects = new Map<number, number>();
  private readonly expiryTimers = new Map<number, NodeJS.Timeout>();
  private readonly listeners: (() => void)[] = [];
  private registryIndex = 0;
  private stopped = false;
  private readonly aborter = new AbortController();
  private loop: Promise<void> = Promise.resolve();
  private changes = 0;

  constructor(private readonly options: ClusterViewOptions) {
    this.known.add(options.self);
    this.addresses.set(options.self, options.selfUrl);
  }

  /** Reads the registry once (failures are logged, not thrown), then follows it. */
  async start(): Promise<void> {
    await this.refresh(false).catch((error: unknown) =>
      this.options.logger.warn(
        { err: error },
        'cannot read the search nodes from the registry yet',
      ),
    );
    this.loop = this.follow();
  }

  /** Stops following the registry. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.aborter.abort();
    for (const timer of this.expiryTimers.values()) clearTimeout(timer);
    await this.loop;
  }

  /** Grows with every change of the live set. */
  get version(): number {
    return this.changes;
  }

  /** Calls `listener` after every change of the live set. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The live node ids, ascending: registered ones (and this node) minus suspects. */
  liveIds(): number[] {
    const now = this.options.clock.nowMs();
    const ids = new Set<number>([this.options.self, ...this.registered.keys()]);
    // Expired suspicions are removed (with a change event) by their timers.
    for (const [id, untilMs] of this.suspects) if (untilMs > now) ids.delete(id);
    return [...ids].sort((a, b) => a - b);
  }

  /** Every node id this node has ever seen (Bully wants dead peers listed too). */
  knownIds(): number[] {
    return [...this.known].sort((a, b) => a - b);
  }

  /** Whether the registry lists `nodeId` as active (suspicion aside). */
  isRegistered(nodeId: number): boolean {
    return nodeId === this.options.self || this.registered.has(nodeId);
  }

  /** The registered (active) peers. */
  peers(): PeerRecord[] {
    return [...this.registered.values()];
  }

  /** Where `nodeId` listens, from the registry or from a message it sent. */
  urlOf(nodeId: number): string | undefined {
    return this.registered.get(nodeId)?.url ?? this.addresses.get(nodeId);
  }

  /** Leaves `nodeId` out of the live set for a while (it failed a request). */
  suspect(nodeId: number): void {
    if (nodeId === this.options.self) return;
    const wasLive = !this.suspects.has(nodeId);
    const untilMs = this.options.clock.nowMs() + this.options.suspectMs;
    this.suspects.set(nodeId, untilMs);
    if (wasLive) {
      this.options.logger.info({ node_id: nodeId }, 'search node suspected down');
      this.changed();
    }
    // The end of a suspicion changes the live set too (listeners, e.g. the repair, must hear it).
    clearTimeout(this.expiryTimers.get(nodeId));
    const timer = setTimeout(() => {
      this.expiryTimers.delete(nodeId);
      if (this.suspects.get(nodeId) === untilMs) {
        this.suspects.delete(nodeId);
        this.changed();
      }
    }, this.options.suspectMs + 1);
    timer.unref();
    this.expiryTimers.set(nodeId, timer);
  }

  /** Records that `nodeId` is alive at `url` (it just sent us a message). */
  heardFrom(nodeId: number, url: string | undefined): void {
    this.known.add(nodeId);
    if (url !== undefined) this.addresses.set(nodeId, url);
    if (this.suspects.delete(nodeId)) this.changed();
  }

  /** Reads the active search nodes now (with `block`, waits for the next change first). */
  async refresh(block: boolean): Promise<void> {
    const waitMs = this.options.waitMs ?? 30_000;
    const query = new URLSearchParams({ role: SEARCH_NODE_ROLE });
    if (block) {
      query.set('index', String(this.registryIndex));
      query.set('wait', `${Math.ceil(waitMs / 1000)}s`);
    }
    const list = await this.options.http.getJson<ServerList>(
      `${this.options.registryUrl}/servers/active?${query.toString()}`,
      { timeoutMs: waitMs + 5_000, maxRetries: 0, signal: this.aborter.signal },
    );
    this.registryIndex = list.index;
    this.apply(peersFromServers(list.servers));
  }

  private apply(next: Map<number, PeerRecord>): void {
    next.delete(this.options.self);
    const before = [...this.registered.values()].map((peer) => `${peer.nodeId}@${peer.url}`).sort();
    const after = [...next.values()].map((peer) => `${peer.nodeId}@${peer.url}`).sort();
    this.registered = next;
    for (const peer of next.values()) {
      this.known.add(peer.nodeId);
      this.addresses.set(peer.nodeId, peer.url);
    }
    if (before.join() !== after.join()) this.changed();
  }

  private changed(): void {
    this.changes += 1;
    for (const listener of this.listeners) listener();
  }

  private async follow(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.refresh(true);
      } catch (error) {
        if (this.stopped) return;
        this.options.logger.debug({ err: error }, 'registry watch failed; retrying');
        await sleep(500, undefined, { signal: this.aborter.signal }).catch(() => undefined);
      }
    }
  }
}
