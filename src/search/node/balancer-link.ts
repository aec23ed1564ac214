/**
 * The node's side of the data balancer (distrisearch-balancer.md; docs/search-balancer.md):
 *
 * - On the leader it holds the `DataBalancer`. A node that becomes leader starts an empty one,
 *   fills it from its latest snapshot (locate answers at once, from slightly old data) and then
 *   from the FULL reports every node sends when it hears the COORDINATOR; followers never
 *   receive balancer updates (the contract's replication decision).
 * - On every node it reports index changes to the leader (`POST /update_index`): the terms that
 *   appeared (with the node's df of each) or vanished, coalesced and sent one update at a time
 *   with a growing `seq`; a FULL report (every term with its df) when the leader changes or asks
 *   for one. And it heartbeats the leader with its figures (`POST /balancer/heartbeat`).
 *
 * Reports are asynchronous: a write is acknowledged once its owners stored it durably, and the
 * balancer catches up within one send (the seed's eventual consistency of the global index).
 * Searches do not depend on the balancer for correctness (see coordinator.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import type { HttpClient } from '../../core/http-client.js';
import type { Logger } from '../../core/logger.js';
import {
  DataBalancer,
  type BalancerSnapshotStore,
  notLeaderError,
  startPeriodicSnapshots,
  type LocateResult,
  type NotLeaderHandler,
  type PeriodicSnapshots,
} from '../balancer/index.js';
import type { IndexChange } from '../index/index.js';
import type { ClusterView } from './cluster-view.js';
import type { LocalNode } from './local-node.js';

export interface BalancerLinkOptions {
  readonly self: number;
  readonly selfUrl: string;
  readonly local: LocalNode;
  readonly view: ClusterView;
  readonly http: HttpClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The current leader (from the election), null while none is known. */
  readonly leader: () => number | null;
  /** Where this node keeps balancer snapshots (saved while it leads). */
  readonly snapshots: BalancerSnapshotStore;
  readonly heartbeatMs: number;
  readonly deadAfterMs: number;
  readonly cacheSize: number;
  readonly snapshotIntervalMs: number;
  /** Timeout of one call to the leader. */
  readonly timeoutMs: number;
}

interface UpdateBody {
  node_id: number;
  seq: number;
  url: string;
  full?: true;
  terms_added: Record<string, number>;
  terms_removed: string[];
}

interface UpdateReplyBody {
  applied: boolean;
  full_required: boolean;
}

/** Balancer role and reporting of one node. */
export class BalancerLink {
  readonly snapshots: BalancerSnapshotStore;
  private current: DataBalancer | undefined;
  private periodic: PeriodicSnapshots | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pendingAdded = new Set<string>();
  private readonly pendingRemoved = new Set<string>();
  private needFull = true;
  private flushing = false;
  private lastSeq = 0;
  private stopped = false;
  /** Counters for status and tests. */
  readonly counters = { updatesSent: 0, fullReportsSent: 0, updateFailures: 0 };

  constructor(private readonly options: BalancerLinkOptions) {
    this.snapshots = options.snapshots;
    options.local.onChange((changes) => this.recordChanges(changes));
  }

  /** The balancer while this node leads. */
  get balancer(): DataBalancer | undefined {
    return this.current;
  }

  /** Starts heartbeats to the leader and periodic snapshots (saved only while leading). */
  start(): void {
    this.periodic = startPeriodicSnapshots({
      store: this.snapshots,
      getBalancer: () => this.current,
      intervalMs: this.options.snapshotIntervalMs,
      onError: (error) => this.options.logger.warn({ err: error }, 'balancer snapshot failed'),
    });
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.retryTimer);
    await this.periodic?.stop();
  }

  /** The election's verdict changed. */
  leaderChanged(leaderId: number | null): void {
    if (leaderId === this.options.self) this.becomeLeader();
    else this.current = undefined;
    this.requestFull();
  }

  /** Sends a FULL report to the leader (it is new, restarted, or asked for one). */
  requestFull(): void {
    this.needFull = true;
    this.flush();
    void this.heartbeat();
  }

  /** Where the terms are, from the leader's balancer; undefined when it cannot be asked. */
  async locate(terms: readonly string[]): Promise<LocateResult | undefined> {
    if (terms.length === 0) return { terms: {}, nodes: [] };
    const leaderId = this.options.leader();
    if (leaderId === null) return undefined;
    if (leaderId === this.options.self)
      return this.current?.locate(terms, this.options.clock.nowMs());
    const url = this.options.view.urlOf(leaderId);
    if (url === undefined) return undefined;
    try {
      const query = new URLSearchParams({ terms: terms.join(',') });
      return await this.options.http.getJson<LocateResult>(`${url}/locate?${query.toString()}`, {
        timeoutMs: this.options.timeoutMs,
        maxRetries: 0,
      });
    } catch (error) {
      this.options.logger.debug({ err: error, leader_id: leaderId }, 'locate at the leader failed');
      return undefined;
    }
  }

  /**
   * What the balancer routes do on a node that does not lead: reads (`GET /locate`,
   * `GET /balancer/stats`) are forwarded to the leader and its answer sent; the rest (node
   * reports, snapshots) answer 409 with the leader's id and URL.
   */
  readonly notLeader: NotLeaderHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const leaderId = this.options.leader();
    const url = leaderId === null ? undefined : this.options.view.urlOf(leaderId);
    if (request.method === 'GET' && url !== undefined && leaderId !== this.options.self) {
      const body = await this.options.http.getJson(`${url}${request.url}`, {
        timeoutMs: this.options.timeoutMs,
        maxRetries: 0,
      });
      return reply.send(body);
    }
    throw notLeaderError(leaderId ?? undefined, url);
  };

  private becomeLeader(): void {
    if (this.current !== undefined) return;
    const { self, clock, deadAfterMs, cacheSize, view, logger } = this.options;
    const balancer = new DataBalancer({ nodeId: self, deadAfterMs, cacheSize });
    this.current = balancer;
    for (const peer of view.peers()) balancer.registerNode(peer.nodeId, peer.url, clock.nowMs());
    // Until the FULL reports arrive, the latest snapshot answers (nodes that reported keep theirs).
    this.snapshots.restoreLatest(balancer, view.liveIds()).then(
      (restored) => {
        if (restored !== undefined)
          logger.info(
            { snapshot: restored.info.name, nodes: restored.restored },
            'balancer restored from snapshot',
          );
      },
      (error: unknown) => logger.warn({ err: error }, 'cannot restore the balancer snapshot'),
    );
  }

  private recordChanges(changes: readonly IndexChange[]): void {
    for (const change of changes) {
      for (const term of change.termsAdded) {
        this.pendingRemoved.delete(term);
        this.pendingAdded.add(term);
      }
      for (const term of change.termsRemoved) {
        this.pendingAdded.delete(term);
        this.pendingRemoved.add(term);
      }
    }
    if (this.pendingAdded.size + this.pendingRemoved.size > 0) this.flush();
  }

  /** A seq above every earlier one, across restarts too (the clock's ms, times 1000). */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, this.options.clock.nowMs() * 1000);
    return this.lastSeq;
  }

  /** Takes the pending changes (or a FULL report) as one update. */
  private takeUpdate(): UpdateBody {
    const { self, selfUrl, local } = this.options;
    const base = { node_id: self, seq: this.nextSeq(), url: selfUrl };
    if (this.needFull) {
      this.needFull = false;
      this.pendingAdded.clear();
      this.pendingRemoved.clear();
      return { ...base, full: true, terms_added: local.allTermDfs(), terms_removed: [] };
    }
    const added: Record<string, number> = {};
    const removed: string[] = [];
    for (const term of this.pendingAdded) {
      const df = local.index.df(term);
      if (df > 0) added[term] = df;
      else removed.push(term);
    }
    for (const term of this.pendingRemoved) if (local.index.df(term) === 0) removed.push(term);
    this.pendingAdded.clear();
    this.pendingRemoved.clear();
    return { ...base, terms_added: added, terms_removed: removed };
  }

  /** Puts an update that failed back, to be merged into the next one. */
  private giveBack(update: UpdateBody): void {
    if (update.full === true) {
      this.needFull = true;
      return;
    }
    for (const term of Object.keys(update.terms_added))
      if (!this.pendingRemoved.has(term)) this.pendingAdded.add(term);
    for (const term of update.terms_removed)
      if (!this.pendingAdded.has(term)) this.pendingRemoved.add(term);
  }

  private flush(): void {
    if (this.flushing || this.stopped) return;
    this.flushing = true;
    void this.flushLoop().finally(() => {
      this.flushing = false;
    });
  }

  /** Sends updates one at a time until nothing is pending; on failure, retries later. */
  private async flushLoop(): Promise<void> {
    while (
      !this.stopped &&
      (this.needFull || this.pendingAdded.size + this.pendingRemoved.size > 0)
    ) {
      const leaderId = this.options.leader();
      if (leaderId === null) return;
      const update = this.takeUpdate();
      try {
        const reply = await this.sendUpdate(leaderId, update);
        this.counters.updatesSent += 1;
        if (update.full === true) this.counters.fullReportsSent += 1;
        if (reply.full_required && update.full !== true) this.needFull = true;
      } catch (error) {
        this.counters.updateFailures += 1;
        this.giveBack(update);
        this.options.logger.debug(
          { err: error, leader_id: leaderId },
          'index update to the leader failed',
        );
        this.retryLater();
        return;
      }
    }
  }

  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.flush(), Math.min(this.options.heartbeatMs, 1_000));
    this.retryTimer.unref();
  }

  private async sendUpdate(leaderId: number, update: UpdateBody): Promise<UpdateReplyBody> {
    const now = this.options.clock.nowMs();
    if (leaderId === this.options.self) {
      const balancer = this.current;
      if (balancer === undefined) throw new Error('this node leads but has no balancer yet');
      const outcome = balancer.updateNodeIndex(
        {
          nodeId: update.node_id,
          seq: update.seq,
          added: update.terms_added,
          removed: update.terms_removed,
          full: update.full === true,
          url: update.url,
        },
        now,
      );
      return { applied: outcome.applied, full_required: outcome.fullRequired };
    }
    const url = this.options.view.urlOf(leaderId);
    if (url === undefined) throw new Error(`no address for the leader ${leaderId}`);
    return this.options.http.postJson<UpdateReplyBody>(`${url}/update_index`, update, {
      timeoutMs: Math.max(this.options.timeoutMs, 30_000),
      maxRetries: 0,
    });
  }

  /** One heartbeat to the leader with this node's figures (primaries among the live nodes). */
  private async heartbeat(): Promise<void> {
    const leaderId = this.options.leader();
    if (leaderId === null || this.stopped) return;
    const { self, selfUrl, local, view, clock } = this.options;
    const figures = local.figures(view.liveIds());
    const body = {
      node_id: self,
      url: selfUrl,
      doc_count: figures.primaryDocCount,
      term_count: figures.termCount,
      total_length: figures.primaryTotalLength,
    };
    try {
      let fullRequired: boolean;
      if (leaderId === self) {
        const balancer = this.current;
        if (balancer === undefined) return;
        fullRequired = balancer.heartbeat(
          self,
          selfUrl,
          {
            docCount: body.doc_count,
            termCount: body.term_count,
            totalLength: body.total_length,
          },
          clock.nowMs(),
        ).fullRequired;
      } else {
        const url = view.urlOf(leaderId);
        if (url === undefined) return;
        const reply = await this.options.http.postJson<{ full_required: boolean }>(
          `${url}/balancer/heartbeat`,
          body,
          { timeoutMs: this.options.timeoutMs, maxRetries: 0 },
        );
        fullRequired = reply.full_required;
      }
      if (fullRequired && !this.needFull) {
        this.needFull = true;
      }
      this.flush();
    } catch (error) {
      this.options.logger.debug({ err: error, leader_id: leaderId }, 'balancer heartbeat failed');
    }
  }
}
