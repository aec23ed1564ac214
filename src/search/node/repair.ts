/**
 * Re-replication (anti-entropy): keeps every document on its k owners as the live set changes.
 * This is what lifts the seed's stated limitation ("pérdida de datos si nodo falla"): when a
 * node dies, each document it held still has a copy elsewhere, and that copy's holder pushes it
 * to the document's new owner (the next node in its rendezvous order).
 *
 * A run, on each node, after the live set has been stable for `delayMs` (or periodically while
 * something is left to do):
 * 1. plan (pure): for every held document, its owners over the live ids; each other owner is
 *    asked which of those documents it lacks (`POST /internal/have`);
 * 2. send the missing ones (`POST /internal/docs`, stored durably by the owner);
 * 3. a held document this node does not own (a stray: a copy made while an owner was down, or a
 *    fallback write) is deleted here once every owner confirmed it holds it.
 * Every step is idempotent; a failed step leaves the run dirty and it runs again later.
 */
import type { Logger } from '../../core/logger.js';
import { placeDocument } from '../balancer/index.js';
import type { StoredDocument } from '../index/index.js';
import type { ClusterView } from './cluster-view.js';
import type { LocalNode } from './local-node.js';

/** What a repair run must check and may delete. */
export interface RepairPlan {
  /** owner -> the held documents it should hold too. */
  readonly checks: Map<number, string[]>;
  /** Held documents this node does not own. */
  readonly strays: string[];
}

/** Plans a repair run of node `self` (pure). */
export function planRepair(
  self: number,
  heldDocIds: Iterable<string>,
  liveIds: readonly number[],
  k: number,
): RepairPlan {
  const checks = new Map<number, string[]>();
  const strays: string[] = [];
  for (const docId of heldDocIds) {
    const owners = placeDocument(docId, liveIds, k);
    if (!owners.includes(self)) strays.push(docId);
    for (const owner of owners) {
      if (owner === self) continue;
      const list = checks.get(owner);
      if (list === undefined) checks.set(owner, [docId]);
      else list.push(docId);
    }
  }
  return { checks, strays };
}

/** Calls a repair run makes on a peer. */
export interface RepairTransport {
  missing(nodeId: number, docIds: string[]): Promise<string[]>;
  store(nodeId: number, docs: StoredDocument[]): Promise<void>;
}

export interface RepairerOptions {
  readonly self: number;
  readonly k: number;
  readonly local: LocalNode;
  readonly view: ClusterView;
  readonly transport: RepairTransport;
  readonly logger: Logger;
  /** Quiet time after a change of the live set before a run. */
  readonly delayMs: number;
  /** How often a dirty node retries. */
  readonly intervalMs: number;
  /** Documents per request. */
  readonly chunkDocs: number;
  /** Called after a run that confirmed every copy with the live set unchanged, with that set. */
  readonly onClean?: (live: readonly number[]) => void;
}

/** Figures of the repair loop. */
export interface RepairStats {
  runs: number;
  copied: number;
  strays_removed: number;
  last_error: string | null;
}

/** The repair loop of one node. */
export class Repairer {
  readonly stats: RepairStats = { runs: 0, copied: 0, strays_removed: 0, last_error: null };
  private dirty = true;
  private delayTimer: NodeJS.Timeout | undefined;
  private intervalTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: RepairerOptions) {}

  /** Starts the periodic check (a run happens only when something is left to do). */
  start(): void {
    this.intervalTimer = setInterval(() => {
      if (this.dirty) void this.run();
    }, this.options.intervalMs);
    this.intervalTimer.unref();
    this.markDirty();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.intervalTimer);
    clearTimeout(this.delayTimer);
    await this.running;
  }

  /** Something changed (live set, a write missed an owner): run after the quiet time. */
  markDirty(): void {
    this.dirty = true;
    if (this.stopped) return;
    clearTimeout(this.delayTimer);
    this.delayTimer = setTimeout(() => void this.run(), this.options.delayMs);
    this.delayTimer.unref();
  }

  /**
   * Documents were just stored here by a peer (a write or another node's repair). A copy that
   * this node does not own under its current view is a stray that only a later run removes, and
   * a run happens only when the node is dirty: a store sent before a change of the live set can
   * arrive after this node's last run (a request held up by a partition is delivered by TCP once
   * it heals), and without this it would stay an extra copy for good.
   */
  storedFromPeer(docIds: Iterable<string>): void {
    const { self, k, view } = this.options;
    const live = view.liveIds();
    for (const docId of docIds) {
      if (!placeDocument(docId, live, k).includes(self)) {
        this.markDirty();
        return;
      }
    }
  }

  /** One run now (or the one in progress). */
  async run(): Promise<void> {
    if (this.running !== undefined) return this.running;
    if (this.stopped) return;
    this.running = this.runOnce()
      .catch((error: unknown) => {
        this.dirty = true;
        this.stats.last_error = error instanceof Error ? error.message : String(error);
        this.options.logger.warn({ err: error }, 'repair run failed');
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async runOnce(): Promise<void> {
    const { self, k, local, view } = this.options;
    this.dirty = false;
    this.stats.runs += 1;
    const viewVersion = view.version;
    const live = view.liveIds();
    const plan = planRepair(
      self,
      [...local.index.documents()].map((doc) => doc.doc_id),
      live,
      k,
    );
    const confirmed = new Map<number, Set<string>>();
    await Promise.all(
      [...plan.checks].map(async ([nodeId, docIds]) => {
        try {
          confirmed.set(nodeId, await this.push(nodeId, docIds));
        } catch (error) {
          this.dirty = true;
          this.stats.last_error = `node ${nodeId}: ${error instanceof Error ? error.message : String(error)}`;
        }
      }),
    );
    // Delete strays only if the live set did not move meanwhile, and every owner has the copy.
    if (view.version !== viewVersion || this.stopped) {
      this.dirty = true;
      return;
    }
    for (const docId of plan.strays) {
      const owners = placeDocument(docId, live, k);
      if (owners.length > 0 && owners.every((owner) => confirmed.get(owner)?.has(docId) === true)) {
        if (await local.delete(docId)) this.stats.strays_removed += 1;
      }
    }
    if (!this.dirty && view.version === viewVersion) this.options.onClean?.(live);
  }

  /** Makes `nodeId` hold `docIds`; answers the ids it now holds. */
  private async push(nodeId: number, docIds: readonly string[]): Promise<Set<string>> {
    const { chunkDocs, transport, local } = this.options;
    const held = new Set<string>();
    for (let start = 0; start < docIds.length; start += chunkDocs * 4) {
      const slice = docIds.slice(start, start + chunkDocs * 4);
      const missing = new Set(await transport.missing(nodeId, slice));
      const docs = [...missing].flatMap((docId) => {
        const doc = local.get(docId);
        return doc === undefined ? [] : [doc];
      });
      for (let at = 0; at < docs.length; at += chunkDocs) {
        await transport.store(nodeId, docs.slice(at, at + chunkDocs));
      }
      this.stats.copied += docs.length;
      if (docs.length > 0)
        this.options.logger.info(
          { node_id: nodeId, copied: docs.length },
          're-replicated documents',
        );
      for (const docId of slice) held.add(docId);
    }
    return held;
  }
}
