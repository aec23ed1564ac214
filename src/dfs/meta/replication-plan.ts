/**
 * Re-replication planning (dfs-architecture.md, "Flujo de Re-replicación"; issue 3): from the
 * chunk table and the cluster's nodes, decide which replicas to copy and which to delete.
 *
 * - Copies are HDFS-style "target pulls from source": the master tells the *target* datanode to
 *   fetch the chunk from a *source* replica (`copy` action, delivered in the target's
 *   heartbeat reply or pushed to it). Chunk bytes never pass through the master, and the
 *   target verifies the SHA-256 as it writes, as for any upload.
 * - A chunk below its factor gets copies, fewest live replicas first; sources are good
 *   replicas on active nodes, targets are chosen by `pickTargets` (same rack spread and
 *   free-space rules as new chunks).
 * - Throttle: a node takes part (as source or target) in at most `maxCopiesPerNode` copies at
 *   once, and the cluster runs at most `maxCopiesTotal`, in-flight copies included, so that
 *   re-replication cannot starve client traffic.
 * - Deletes: a corrupt replica once at least one good replica is live; surplus good replicas
 *   of an over-replicated chunk (from the rack with most replicas, then the fullest node),
 *   only while no copy of it is in flight; chunks a datanode reports that the master does not
 *   know. A delete never takes a chunk's good replicas on active nodes below its factor, so the
 *   last good replica is never deleted.
 *
 * Replica counting: `ok` replicas on `active` and `inactive` nodes and in-flight copies to
 * non-dead nodes count towards the factor (an inactive node may come back; it is not worth a
 * copy storm), but only `active` nodes serve as sources, targets, or lose surplus replicas.
 * Replicas on `dead` or unknown nodes do not count.
 *
 * Pure: the caller (the replication manager) owns time, in-flight bookkeeping (and its
 * timeouts) and delivery of the actions.
 */
import assert from 'node:assert/strict';
import {
  INITIAL_PLACEMENT_STATE,
  pickTargets,
  type PlacementConfig,
  type PlacementNode,
  type PlacementState,
} from './placement.js';
import type { ChunkId, NodeId, NodeState } from './types.js';

/** A replica as the planner sees it: where, and whether its bytes are known bad. */
export interface PlanReplica {
  readonly nodeId: NodeId;
  readonly health: 'ok' | 'corrupt';
}

/** One row of the chunk table. */
export interface PlanChunk {
  readonly chunkId: ChunkId;
  /** The replication factor of the chunk's file. */
  readonly factor: number;
  readonly sizeBytes: number;
  readonly replicas: readonly PlanReplica[];
}

/** A copy already ordered and not yet finished (or timed out) by the caller. */
export interface CopyInFlight {
  readonly chunkId: ChunkId;
  readonly sourceNodeId: NodeId;
  readonly targetNodeId: NodeId;
}

/** A chunk a datanode reported that the chunk table does not know. */
export interface UnknownReplica {
  readonly nodeId: NodeId;
  readonly chunkId: ChunkId;
}

/** Bounds on the work one plan may start. */
export interface ReplicationThrottle {
  /** Copies a node may take part in at once, as source or target. Default 2 (as HDFS). */
  readonly maxCopiesPerNode: number;
  /** Copies the whole cluster may run at once. Default 32. */
  readonly maxCopiesTotal: number;
  /** Deletes sent to one node per plan (bounds a heartbeat reply). Default 1000. */
  readonly maxDeletesPerNode: number;
}

/** Defaults of `ReplicationThrottle`. */
export const DEFAULT_REPLICATION_THROTTLE: ReplicationThrottle = {
  maxCopiesPerNode: 2,
  maxCopiesTotal: 32,
  maxDeletesPerNode: 1000,
};

/** Everything the planner looks at. */
export interface PlanInput {
  /**
   * The chunk table. Settled chunks (`chunkIsSettled`) may be left out: the plan is the same.
   * A caller that leaves them out and passes `unknown` must pass `isKnownChunk` too.
   */
  readonly chunks: readonly PlanChunk[];
  /** Whether the chunk table knows a chunk; default: whether it is in `chunks`. */
  readonly isKnownChunk?: (chunkId: ChunkId) => boolean;
  /** Every known node with its state, free space, rack and load. */
  readonly nodes: readonly PlacementNode[];
  readonly inFlight?: readonly CopyInFlight[];
  /** Unknown chunks reported by datanodes; the caller leaves out chunks of open uploads. */
  readonly unknown?: readonly UnknownReplica[];
  readonly throttle?: Partial<ReplicationThrottle>;
  readonly placement?: PlacementState;
  readonly placementConfig?: Partial<PlacementConfig>;
}

/** Tell `targetNodeId` to fetch `chunkId` from `sourceNodeId`. */
export interface CopyAction {
  readonly kind: 'copy';
  readonly chunkId: ChunkId;
  readonly sourceNodeId: NodeId;
  readonly targetNodeId: NodeId;
  readonly sizeBytes: number;
}

/** Tell `nodeId` to delete its replica of `chunkId`. */
export interface DeleteAction {
  readonly kind: 'delete';
  readonly chunkId: ChunkId;
  readonly nodeId: NodeId;
  readonly reason: 'corrupt' | 'over-replicated' | 'unknown';
}

export type ReplicationAction = CopyAction | DeleteAction;

/** The plan: actions in priority order, the placement cursor, and what remains to do. */
export interface ReplicationPlan {
  readonly actions: readonly ReplicationAction[];
  readonly placement: PlacementState;
  /** Chunks still below their factor after this plan (throttled, or no eligible target). */
  readonly underReplicated: readonly ChunkId[];
  /** Chunks with no good replica on a live node and none incoming: data lost for now. */
  readonly lost: readonly ChunkId[];
}

/** Per-chunk counts, computed once. */
interface ChunkView {
  readonly chunk: PlanChunk;
  /** Good replicas on active nodes (sources; trimmed when in surplus). */
  readonly activeGood: NodeId[];
  /** Good replicas on inactive nodes (counted, not used). */
  readonly inactiveGood: NodeId[];
  /** Corrupt replicas on active nodes (deleted once a good copy is live). */
  readonly activeCorrupt: NodeId[];
  /** Nodes holding any replica, whatever its state (never a copy target). */
  readonly anyReplica: NodeId[];
  /** Targets of copies in flight or planned now, on non-dead nodes. */
  readonly incoming: NodeId[];
}

/** Mutable bookkeeping while one plan is built. */
interface Budget {
  readonly throttle: ReplicationThrottle;
  readonly copiesPerNode: Map<NodeId, number>;
  copiesTotal: number;
  readonly deletesPerNode: Map<NodeId, number>;
}

/**
 * Whether a chunk needs nothing from the planner: exactly `factor` good replicas on distinct
 * active nodes and no copy of it in flight. Such a chunk gets no action and is neither under-
 * replicated nor lost, whatever else the plan holds, so a caller may leave it out of `chunks`
 * and plan only the rest (a healthy cluster's tick then allocates nothing per chunk).
 */
export function chunkIsSettled(
  factor: number,
  replicas: Iterable<readonly [NodeId, { readonly health: 'ok' | 'corrupt' }]>,
  stateOf: (id: NodeId) => NodeState,
  copyInFlight: boolean,
): boolean {
  if (copyInFlight) return false;
  const seen: NodeId[] = [];
  for (const [nodeId, replica] of replicas) {
    if (replica.health !== 'ok' || stateOf(nodeId) !== 'active' || seen.includes(nodeId)) {
      return false;
    }
    seen.push(nodeId);
  }
  return seen.length === factor;
}

/** Computes the next replication actions; see the module comment for the rules. */
export function planReplication(input: PlanInput): ReplicationPlan {
  const states = new Map<NodeId, NodeState>(input.nodes.map((n) => [n.nodeId, n.state]));
  const stateOf = (id: NodeId): NodeState => states.get(id) ?? 'dead';
  const inFlight = input.inFlight ?? [];
  const budget = newBudget({ ...DEFAULT_REPLICATION_THROTTLE, ...input.throttle }, inFlight);
  const inFlightByChunk = new Map<ChunkId, CopyInFlight[]>();
  for (const copy of inFlight) {
    const list = inFlightByChunk.get(copy.chunkId);
    if (list === undefined) inFlightByChunk.set(copy.chunkId, [copy]);
    else list.push(copy);
  }
  const views = input.chunks.map((c) => viewOf(c, inFlightByChunk.get(c.chunkId) ?? [], stateOf));
  const nodeViews = new Map(input.nodes.map((n) => [n.nodeId, n]));
  const actions: ReplicationAction[] = [];
  const copyStep = planCopies(views, nodeViews, budget, input);
  actions.push(...copyStep.actions);
  const copying = new Set([...inFlight, ...copyStep.actions].map((c) => c.chunkId));
  for (const view of views) actions.push(...planCorruptDeletes(view, budget));
  for (const view of views) {
    if (!copying.has(view.chunk.chunkId)) actions.push(...planTrim(view, nodeViews, budget));
  }
  const listed = new Set(input.chunks.map((c) => c.chunkId));
  const isKnown = input.isKnownChunk ?? ((chunkId: ChunkId) => listed.has(chunkId));
  actions.push(...planUnknownDeletes(input.unknown ?? [], isKnown, stateOf, budget));
  return {
    actions,
    placement: copyStep.placement,
    underReplicated: views.filter((v) => counted(v) < v.chunk.factor).map((v) => v.chunk.chunkId),
    lost: views.filter((v) => goodLive(v) + v.incoming.length === 0).map((v) => v.chunk.chunkId),
  };
}

function newBudget(throttle: ReplicationThrottle, inFlight: readonly CopyInFlight[]): Budget {
  const copiesPerNode = new Map<NodeId, number>();
  for (const copy of inFlight) {
    for (const id of [copy.sourceNodeId, copy.targetNodeId]) {
      copiesPerNode.set(id, (copiesPerNode.get(id) ?? 0) + 1);
    }
  }
  return { throttle, copiesPerNode, copiesTotal: inFlight.length, deletesPerNode: new Map() };
}

/** The chunk's counts; `inFlight` holds the copies of this chunk. */
function viewOf(
  chunk: PlanChunk,
  inFlight: readonly CopyInFlight[],
  stateOf: (id: NodeId) => NodeState,
): ChunkView {
  const health = new Map<NodeId, 'ok' | 'corrupt'>();
  for (const r of chunk.replicas) {
    // The same node listed twice: believe the worse report.
    if (health.get(r.nodeId) !== 'corrupt') health.set(r.nodeId, r.health);
  }
  const view: ChunkView = {
    chunk,
    activeGood: [],
    inactiveGood: [],
    activeCorrupt: [],
    anyReplica: [...health.keys()],
    incoming: [],
  };
  for (const [nodeId, h] of health) {
    const state = stateOf(nodeId);
    if (h === 'corrupt' && state === 'active') view.activeCorrupt.push(nodeId);
    if (h === 'ok' && state === 'active') view.activeGood.push(nodeId);
    if (h === 'ok' && state === 'inactive') view.inactiveGood.push(nodeId);
  }
  for (const copy of inFlight) {
    const arriving = copy.chunkId === chunk.chunkId && stateOf(copy.targetNodeId) !== 'dead';
    if (arriving && !health.has(copy.targetNodeId)) view.incoming.push(copy.targetNodeId);
  }
  return view;
}

const goodLive = (v: ChunkView): number => v.activeGood.length + v.inactiveGood.length;
const counted = (v: ChunkView): number => goodLive(v) + v.incoming.length;

/** Copies for under-replicated chunks, fewest live replicas first, within the throttle. */
function planCopies(
  views: readonly ChunkView[],
  nodeViews: Map<NodeId, PlacementNode>,
  budget: Budget,
  input: PlanInput,
): { actions: CopyAction[]; placement: PlacementState } {
  const needy = views
    .filter((v) => counted(v) < v.chunk.factor && v.activeGood.length > 0)
    .sort(
      (a, b) =>
        counted(a) - counted(b) ||
        goodLive(a) - goodLive(b) ||
        (a.chunk.chunkId < b.chunk.chunkId ? -1 : 1),
    );
  let placement = input.placement ?? INITIAL_PLACEMENT_STATE;
  const actions: CopyAction[] = [];
  for (const view of needy) {
    while (counted(view) < view.chunk.factor) {
      if (budget.copiesTotal >= budget.throttle.maxCopiesTotal) return { actions, placement };
      const source = chooseSource(view, budget);
      if (source === null) break;
      const picked = pickTargets(
        [...nodeViews.values()],
        {
          count: 1,
          chunkSizeBytes: view.chunk.sizeBytes,
          holders: [...view.activeGood, ...view.inactiveGood, ...view.incoming],
          excluded: [...view.anyReplica, ...saturatedNodes(budget)],
        },
        placement,
        input.placementConfig,
      );
      placement = picked.state;
      const target = picked.targets[0];
      if (target === undefined) break;
      actions.push(recordCopy(view, source, target, nodeViews, budget));
    }
  }
  return { actions, placement };
}

/** The good active replica with the fewest copies running, among those below the throttle. */
function chooseSource(view: ChunkView, budget: Budget): NodeId | null {
  let best: NodeId | null = null;
  let bestLoad = Infinity;
  for (const id of [...view.activeGood].sort()) {
    const load = budget.copiesPerNode.get(id) ?? 0;
    if (load < budget.throttle.maxCopiesPerNode && load < bestLoad) {
      best = id;
      bestLoad = load;
    }
  }
  return best;
}

function saturatedNodes(budget: Budget): NodeId[] {
  const limit = budget.throttle.maxCopiesPerNode;
  return [...budget.copiesPerNode].filter(([, n]) => n >= limit).map(([id]) => id);
}

function recordCopy(
  view: ChunkView,
  source: NodeId,
  target: NodeId,
  nodeViews: Map<NodeId, PlacementNode>,
  budget: Budget,
): CopyAction {
  view.incoming.push(target);
  budget.copiesTotal += 1;
  for (const id of [source, target]) {
    budget.copiesPerNode.set(id, (budget.copiesPerNode.get(id) ?? 0) + 1);
  }
  const node = nodeViews.get(target);
  if (node !== undefined) {
    const freeBytes = node.freeBytes - view.chunk.sizeBytes;
    nodeViews.set(target, { ...node, freeBytes, load: node.load + 1 });
  }
  const { chunkId, sizeBytes } = view.chunk;
  return { kind: 'copy', chunkId, sourceNodeId: source, targetNodeId: target, sizeBytes };
}

/** Whether another delete may go to `nodeId` in this plan; counts it if so. */
function takeDelete(budget: Budget, nodeId: NodeId): boolean {
  const sent = budget.deletesPerNode.get(nodeId) ?? 0;
  if (sent >= budget.throttle.maxDeletesPerNode) return false;
  budget.deletesPerNode.set(nodeId, sent + 1);
  return true;
}

/** Corrupt replicas on active nodes go once at least one good replica is live there. */
function planCorruptDeletes(view: ChunkView, budget: Budget): DeleteAction[] {
  if (view.activeGood.length === 0) return [];
  return view.activeCorrupt
    .filter((nodeId) => takeDelete(budget, nodeId))
    .map((nodeId) => ({ kind: 'delete', chunkId: view.chunk.chunkId, nodeId, reason: 'corrupt' }));
}

/**
 * Surplus good replicas of an over-replicated chunk: from the rack with the most replicas,
 * then the node with the least free space, then the highest node id (deterministic).
 */
function planTrim(
  view: ChunkView,
  nodeViews: ReadonlyMap<NodeId, PlacementNode>,
  budget: Budget,
): DeleteAction[] {
  const keep = [...view.activeGood];
  const actions: DeleteAction[] = [];
  const factor = Math.max(1, view.chunk.factor);
  while (keep.length > factor) {
    const victim = trimCandidate(keep, nodeViews);
    keep.splice(keep.indexOf(victim), 1);
    if (takeDelete(budget, victim)) {
      const chunkId = view.chunk.chunkId;
      actions.push({ kind: 'delete', chunkId, nodeId: victim, reason: 'over-replicated' });
    }
  }
  return actions;
}

function trimCandidate(
  keep: readonly NodeId[],
  nodeViews: ReadonlyMap<NodeId, PlacementNode>,
): NodeId {
  const rackOf = (id: NodeId): string => nodeViews.get(id)?.rack ?? '';
  const perRack = new Map<string, number>();
  for (const id of keep) perRack.set(rackOf(id), (perRack.get(rackOf(id)) ?? 0) + 1);
  const rackCount = (id: NodeId): number => perRack.get(rackOf(id)) ?? 0;
  const free = (id: NodeId): number => nodeViews.get(id)?.freeBytes ?? 0;
  const ranked = [...keep].sort(
    (a, b) => rackCount(b) - rackCount(a) || free(a) - free(b) || (a < b ? 1 : -1),
  );
  const victim = ranked[0];
  assert.ok(victim !== undefined, 'trimCandidate needs replicas');
  return victim;
}

/** Chunks unknown to the table, on active nodes; a chunk the table knows is never touched. */
function planUnknownDeletes(
  unknown: readonly UnknownReplica[],
  isKnown: (chunkId: ChunkId) => boolean,
  stateOf: (id: NodeId) => NodeState,
  budget: Budget,
): DeleteAction[] {
  const seen = new Set<string>();
  const actions: DeleteAction[] = [];
  for (const { nodeId, chunkId } of unknown) {
    const key = `${nodeId}\n${chunkId}`;
    if (isKnown(chunkId) || seen.has(key) || stateOf(nodeId) !== 'active') continue;
    seen.add(key);
    if (takeDelete(budget, nodeId))
      actions.push({ kind: 'delete', chunkId, nodeId, reason: 'unknown' });
  }
  return actions;
}
