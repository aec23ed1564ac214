/**
 * The node registry of the data balancer (distrisearch-balancer.md, "node_registry.py"):
 * register, unregister, heartbeat with the node's figures, active nodes, dead after 30 s
 * without a heartbeat. Built on the core membership table (DESIGN.md, rule 5).
 *
 * Pure: time comes in as `nowMs`.
 */
import { MembershipTable, type Member } from '../../core/membership.js';
import type { SearchNodeId } from './global-index.js';

/** The seed's HEARTBEAT_TIMEOUT: a node silent this long is dead. */
export const DEFAULT_DEAD_AFTER_MS = 30_000;
/** How long a dead node's entries are kept (so a quick restart keeps them) before removal. */
export const DEFAULT_FORGET_AFTER_MS = 5 * 60_000;

/** The figures a search node reports in its heartbeat. */
export interface SearchNodeFigures {
  readonly docCount: number;
  readonly termCount: number;
  /** Sum of the lengths (in terms) of the node's documents; for BM25's average length. */
  readonly totalLength: number;
}

/** What the table keeps about a node. */
export interface SearchNodePayload extends SearchNodeFigures {
  /** Base URL of the node's HTTP API, e.g. `http://127.0.0.1:9301`. */
  readonly url: string;
}

/** A node as the balancer sees it. */
export interface SearchNodeInfo extends SearchNodePayload {
  readonly nodeId: SearchNodeId;
  readonly status: 'active' | 'inactive';
  readonly registeredAtMs: number;
  readonly lastHeartbeatMs: number;
}

export interface SearchNodeTableOptions {
  /** Silence after which a node is dead (default 30 s). */
  readonly deadAfterMs?: number;
  /** Time a dead node is kept before it is removed (default 5 min). */
  readonly forgetAfterMs?: number;
}

/** What a sweep changed. */
export interface NodeSweep {
  /** Nodes that just became dead. */
  readonly expired: SearchNodeId[];
  /** Dead nodes removed after `forgetAfterMs`. */
  readonly removed: SearchNodeId[];
}

/** Whether a change altered what locate answers (the set of active nodes or a URL). */
export interface NodeChange {
  readonly created: boolean;
  /** The node became active again, or was new. */
  readonly becameActive: boolean;
  readonly urlChanged: boolean;
}

const NO_FIGURES: SearchNodeFigures = { docCount: 0, termCount: 0, totalLength: 0 };

function toInfo(member: Member<SearchNodePayload>): SearchNodeInfo {
  return {
    nodeId: Number(member.id),
    ...member.payload,
    status: member.status,
    registeredAtMs: member.registeredAtMs,
    lastHeartbeatMs: member.lastHeartbeatMs,
  };
}

/** The search nodes known to the leader, keyed by hypercube id. */
export class SearchNodeTable {
  private readonly table: MembershipTable<SearchNodePayload>;

  constructor(options: SearchNodeTableOptions = {}) {
    this.table = new MembershipTable<SearchNodePayload>({
      timeoutMs: options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS,
      retentionMs: options.forgetAfterMs ?? DEFAULT_FORGET_AFTER_MS,
    });
  }

  /** Registers a node (or refreshes it, keeping its figures); it is active from now. */
  register(nodeId: SearchNodeId, url: string, nowMs: number): NodeChange {
    const before = this.table.get(String(nodeId));
    // Read before registering: the table updates the member object in place.
    const wasActive = before?.status === 'active';
    const oldUrl = before?.payload.url;
    const figures = before?.payload ?? NO_FIGURES;
    const { created } = this.table.register(String(nodeId), { ...figures, url }, nowMs);
    return {
      created,
      becameActive: !wasActive,
      urlChanged: oldUrl !== undefined && oldUrl !== url,
    };
  }

  /** Removes a node; answers whether it was known. */
  unregister(nodeId: SearchNodeId): boolean {
    return this.table.remove(String(nodeId)) !== undefined;
  }

  /** Records a heartbeat with the node's figures; an unknown node is registered by it. */
  heartbeat(
    nodeId: SearchNodeId,
    url: string,
    figures: SearchNodeFigures,
    nowMs: number,
  ): NodeChange {
    const before = this.table.get(String(nodeId));
    const payload: SearchNodePayload = {
      url,
      docCount: figures.docCount,
      termCount: figures.termCount,
      totalLength: figures.totalLength,
    };
    if (before === undefined) {
      this.table.register(String(nodeId), payload, nowMs);
      return { created: true, becameActive: true, urlChanged: false };
    }
    const wasActive = before.status === 'active';
    const oldUrl = before.payload.url;
    this.table.heartbeat(String(nodeId), nowMs, payload);
    return { created: false, becameActive: !wasActive, urlChanged: oldUrl !== url };
  }

  /** A sign of life without figures (an index update); false when the node is unknown. */
  touch(nodeId: SearchNodeId, nowMs: number): NodeChange | undefined {
    const before = this.table.get(String(nodeId));
    if (before === undefined) return undefined;
    const wasActive = before.status === 'active';
    this.table.heartbeat(String(nodeId), nowMs);
    return { created: false, becameActive: !wasActive, urlChanged: false };
  }

  /** Marks silent nodes dead and removes those dead for longer than `forgetAfterMs`. */
  sweep(nowMs: number): NodeSweep {
    const { expired, removed } = this.table.sweep(nowMs);
    return {
      expired: expired.map((member) => Number(member.id)),
      removed: removed.map((member) => Number(member.id)),
    };
  }

  /** One node, if known. */
  get(nodeId: SearchNodeId): SearchNodeInfo | undefined {
    const member = this.table.get(String(nodeId));
    return member === undefined ? undefined : toInfo(member);
  }

  /** True when the node is known and active. */
  isActive(nodeId: SearchNodeId): boolean {
    return this.table.get(String(nodeId))?.status === 'active';
  }

  /** The URL of an active node, or undefined when it is unknown or dead. */
  activeUrl(nodeId: SearchNodeId): string | undefined {
    const member = this.table.get(String(nodeId));
    return member?.status === 'active' ? member.payload.url : undefined;
  }

  /** Every known node (active and dead), by id ascending. */
  all(): SearchNodeInfo[] {
    return this.table
      .list()
      .map(toInfo)
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  /** The active nodes, by id ascending. */
  activeNodes(): SearchNodeInfo[] {
    return this.all().filter((node) => node.status === 'active');
  }

  /** Number of known nodes. */
  get size(): number {
    return this.table.size;
  }

  /**
   * Puts back a node as a snapshot had it. `active` says whether it starts active (with a fresh
   * heartbeat at `nowMs`, so it has `deadAfterMs` to report before it is declared dead).
   */
  restore(node: SearchNodeInfo, active: boolean, nowMs: number): void {
    const { nodeId, status: _status, registeredAtMs, lastHeartbeatMs: _last, ...payload } = node;
    this.table.restore({
      id: String(nodeId),
      payload,
      status: active ? 'active' : 'inactive',
      registeredAtMs,
      lastHeartbeatMs: nowMs,
      recoveries: 0,
      inactiveSinceMs: active ? undefined : nowMs,
    });
  }
}
