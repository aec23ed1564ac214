/**
 * Replica placement (dfs-architecture.md, "Algoritmo de Placement", the "more sophisticated"
 * variant): choose the datanodes that receive a new chunk's replicas.
 *
 * Rules, in order:
 * 1. Only eligible nodes: `active`, not excluded, not already holding the chunk, and with
 *    `freeBytes - reservedBytes >= chunkSizeBytes`. Replicas always go to distinct nodes.
 * 2. Rack spread: when any node declares a rack, each pick comes from the racks holding the
 *    fewest replicas of this chunk so far (water-filling). With at least as many racks as
 *    replicas this puts every replica on its own rack; with fewer racks the replicas spread as
 *    evenly as the racks' nodes allow. Nodes without a rack share the rack `/default-rack`.
 * 3. Among those candidates: avoid overloaded nodes (load above `overloadFactor` x the mean
 *    load, HDFS "considerLoad"), then keep the nodes whose free space is within
 *    `freeSpaceTolerance` of the best, then those with the lowest load.
 * 4. Near-equals are taken round-robin: the least recently picked node first (ties by node id).
 *    The cursor is the `PlacementState` the caller passes in and stores back.
 *
 * Pure: no clock, randomness or I/O; the same inputs always give the same targets.
 */
import assert from 'node:assert/strict';
import { DEFAULT_REPLICATION_FACTOR, type NodeId, type NodeState } from './types.js';

/** What placement needs to know about a datanode. */
export interface PlacementNode {
  readonly nodeId: NodeId;
  /** Declared rack, or null. */
  readonly rack: string | null;
  readonly state: NodeState;
  /** Free bytes on the node as last reported (minus what the caller already promised). */
  readonly freeBytes: number;
  /** In-flight writes and recent assignments the caller counts against the node. */
  readonly load: number;
}

/** Tunables of the ranking; every field has a default in `DEFAULT_PLACEMENT_CONFIG`. */
export interface PlacementConfig {
  /** Bytes kept free on every datanode; a node below it is full. Default 0. */
  readonly reservedBytes: number;
  /** Nodes with free space within this fraction of the best are near-equal. Default 0.1. */
  readonly freeSpaceTolerance: number;
  /** A node whose load exceeds max(1, this x mean load) is avoided. Default 2 (as HDFS). */
  readonly overloadFactor: number;
}

/** Defaults of `PlacementConfig`. */
export const DEFAULT_PLACEMENT_CONFIG: PlacementConfig = {
  reservedBytes: 0,
  freeSpaceTolerance: 0.1,
  overloadFactor: 2,
};

/**
 * The round-robin cursor: a pick counter and, per node, the counter value of its last pick.
 * Plain JSON, so the master can persist it; nodes absent from a call's input are dropped.
 */
export interface PlacementState {
  readonly tick: number;
  readonly lastPickedAt: Readonly<Record<string, number>>;
}

/** The state before any placement. */
export const INITIAL_PLACEMENT_STATE: PlacementState = { tick: 0, lastPickedAt: {} };

/** The rack of nodes that declare none, when others do (HDFS's name for it). */
export const DEFAULT_RACK = '/default-rack';

/** Targets chosen for one chunk, and the cursor to store back. */
export interface PlacementResult {
  readonly targets: NodeId[];
  readonly state: PlacementState;
}

/** The general request behind every placement function. */
export interface PickRequest {
  /** How many new targets to choose. */
  readonly count: number;
  readonly chunkSizeBytes: number;
  /** Nodes that already hold (or are receiving) a replica: never chosen, counted per rack. */
  readonly holders?: readonly NodeId[];
  /** Nodes that must not be chosen (failed targets, corrupt copies), not counted per rack. */
  readonly excluded?: readonly NodeId[];
}

/**
 * Chooses up to `count` new targets for a chunk; fewer (possibly none) when fewer nodes are
 * eligible. The general form behind `placeReplicas`, `chooseReplacementTarget` and the
 * re-replication planner.
 */
export function pickTargets(
  nodes: readonly PlacementNode[],
  request: PickRequest,
  state: PlacementState,
  config: Partial<PlacementConfig> = {},
): PlacementResult {
  assert.ok(Number.isInteger(request.count) && request.count >= 0, 'count must be >= 0');
  assert.ok(request.chunkSizeBytes >= 0, 'chunkSizeBytes must be >= 0');
  const cfg = { ...DEFAULT_PLACEMENT_CONFIG, ...config };
  const holders = request.holders ?? [];
  const blocked = new Set<NodeId>([...holders, ...(request.excluded ?? [])]);
  const eligible = nodes.filter(
    (n) =>
      n.state === 'active' &&
      !blocked.has(n.nodeId) &&
      n.freeBytes - cfg.reservedBytes >= request.chunkSizeBytes,
  );
  const rackOf = rackFunction(nodes);
  const rackCounts = countHolderRacks(nodes, holders, rackOf);
  const overloadLimit = overloadLimitOf(eligible, cfg.overloadFactor);
  const lastPickedAt = prunedCursor(nodes, state.lastPickedAt);
  let tick = state.tick;
  const targets: NodeId[] = [];
  let pool = eligible;
  while (targets.length < request.count && pool.length > 0) {
    const spread = rackOf === null ? pool : leastUsedRacks(pool, rackOf, rackCounts);
    const chosen = rankAndPick(spread, overloadLimit, cfg.freeSpaceTolerance, lastPickedAt);
    tick += 1;
    lastPickedAt[chosen.nodeId] = tick;
    targets.push(chosen.nodeId);
    if (rackOf !== null) increment(rackCounts, rackOf(chosen));
    pool = pool.filter((n) => n.nodeId !== chosen.nodeId);
  }
  return { targets, state: { tick, lastPickedAt } };
}

/** What a new chunk needs: its size and the replication factor of its file (default 3). */
export interface PlaceRequest {
  readonly chunkSizeBytes: number;
  readonly factor?: number;
  readonly excluded?: readonly NodeId[];
}

/**
 * Chooses the replica targets of one new chunk: `min(factor, eligible nodes)` distinct nodes,
 * spread over racks, preferring free space and low load, round-robin among near-equals.
 */
export function placeReplicas(
  nodes: readonly PlacementNode[],
  request: PlaceRequest,
  state: PlacementState,
  config: Partial<PlacementConfig> = {},
): PlacementResult {
  const factor = request.factor ?? DEFAULT_REPLICATION_FACTOR;
  assert.ok(Number.isInteger(factor) && factor >= 1, 'factor must be a positive integer');
  const pick: PickRequest = {
    count: factor,
    chunkSizeBytes: request.chunkSizeBytes,
    ...(request.excluded === undefined ? {} : { excluded: request.excluded }),
  };
  return pickTargets(nodes, pick, state, config);
}

/**
 * Places every chunk of an upload plan, one after the other; between chunks each chosen node
 * counts one more in-flight write and `chunkSizeBytes` less free space, so that one large file
 * spreads over the cluster instead of landing on the same three nodes.
 */
export function placeChunks(
  nodes: readonly PlacementNode[],
  request: { readonly chunkSizesBytes: readonly number[]; readonly factor?: number },
  state: PlacementState,
  config: Partial<PlacementConfig> = {},
): { readonly targets: NodeId[][]; readonly state: PlacementState } {
  let view = nodes.slice();
  let current = state;
  const targets: NodeId[][] = [];
  for (const chunkSizeBytes of request.chunkSizesBytes) {
    const placeRequest =
      request.factor === undefined
        ? { chunkSizeBytes }
        : { chunkSizeBytes, factor: request.factor };
    const result = placeReplicas(view, placeRequest, current, config);
    targets.push(result.targets);
    current = result.state;
    const chosen = new Set(result.targets);
    view = view.map((n) =>
      chosen.has(n.nodeId)
        ? { ...n, freeBytes: n.freeBytes - chunkSizeBytes, load: n.load + 1 }
        : n,
    );
  }
  return { targets, state: current };
}

/** A failed upload target's replacement: what `chooseReplacementTarget` needs. */
export interface ReplacementRequest {
  readonly chunkSizeBytes: number;
  /** Nodes that hold or are still receiving the chunk (they keep their racks). */
  readonly existing: readonly NodeId[];
  /** Nodes that failed for this chunk, or that the client wants to avoid. */
  readonly excluded: readonly NodeId[];
}

/**
 * One new target for a chunk whose upload to a target failed: not among `existing` or
 * `excluded`, on a rack the existing replicas do not use when possible; null if none is eligible.
 */
export function chooseReplacementTarget(
  nodes: readonly PlacementNode[],
  request: ReplacementRequest,
  state: PlacementState,
  config: Partial<PlacementConfig> = {},
): { readonly target: NodeId | null; readonly state: PlacementState } {
  const result = pickTargets(
    nodes,
    {
      count: 1,
      chunkSizeBytes: request.chunkSizeBytes,
      holders: request.existing,
      excluded: request.excluded,
    },
    state,
    config,
  );
  return { target: result.targets[0] ?? null, state: result.state };
}

/** The rack key of a node, or null when no node declares a rack (rack rule off). */
function rackFunction(nodes: readonly PlacementNode[]): ((n: PlacementNode) => string) | null {
  if (!nodes.some((n) => n.rack !== null)) return null;
  return (n) => n.rack ?? DEFAULT_RACK;
}

function countHolderRacks(
  nodes: readonly PlacementNode[],
  holders: readonly NodeId[],
  rackOf: ((n: PlacementNode) => string) | null,
): Map<string, number> {
  const counts = new Map<string, number>();
  if (rackOf === null) return counts;
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  for (const id of holders) {
    const node = byId.get(id);
    if (node !== undefined) increment(counts, rackOf(node));
  }
  return counts;
}

function increment(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The candidates on the racks that hold the fewest replicas so far. */
function leastUsedRacks(
  pool: readonly PlacementNode[],
  rackOf: (n: PlacementNode) => string,
  rackCounts: ReadonlyMap<string, number>,
): PlacementNode[] {
  const countOf = (n: PlacementNode): number => rackCounts.get(rackOf(n)) ?? 0;
  const fewest = Math.min(...pool.map(countOf));
  return pool.filter((n) => countOf(n) === fewest);
}

function overloadLimitOf(eligible: readonly PlacementNode[], overloadFactor: number): number {
  if (eligible.length === 0) return Infinity;
  const meanLoad = eligible.reduce((sum, n) => sum + n.load, 0) / eligible.length;
  return Math.max(1, overloadFactor * meanLoad);
}

/** Steps 3 and 4 of the module comment, on a non-empty candidate list. */
function rankAndPick(
  candidates: readonly PlacementNode[],
  overloadLimit: number,
  freeSpaceTolerance: number,
  lastPickedAt: Readonly<Record<string, number>>,
): PlacementNode {
  const unloaded = candidates.filter((n) => n.load <= overloadLimit);
  const pool = unloaded.length > 0 ? unloaded : candidates;
  const bestFree = Math.max(...pool.map((n) => n.freeBytes));
  const roomy = pool.filter((n) => n.freeBytes >= bestFree * (1 - freeSpaceTolerance));
  const lowestLoad = Math.min(...roomy.map((n) => n.load));
  const nearEqual = roomy.filter((n) => n.load === lowestLoad);
  const lastPick = (n: PlacementNode): number =>
    Object.hasOwn(lastPickedAt, n.nodeId) ? (lastPickedAt[n.nodeId] ?? 0) : 0;
  let chosen = nearEqual[0];
  assert.ok(chosen !== undefined, 'rankAndPick needs candidates');
  for (const n of nearEqual) {
    const order = lastPick(n) - lastPick(chosen);
    if (order < 0 || (order === 0 && n.nodeId < chosen.nodeId)) chosen = n;
  }
  return chosen;
}

/** A mutable copy of the cursor holding only the nodes of this call (keeps the state bounded). */
function prunedCursor(
  nodes: readonly PlacementNode[],
  lastPickedAt: Readonly<Record<string, number>>,
): Record<string, number> {
  const copy: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const n of nodes) {
    if (Object.hasOwn(lastPickedAt, n.nodeId)) copy[n.nodeId] = lastPickedAt[n.nodeId] ?? 0;
  }
  return copy;
}

/** A `PlacementNode` from the seed's `NodeInfo` and the master's count of in-flight writes. */
export function toPlacementNode(
  info: {
    readonly node_id: NodeId;
    readonly rack: string | null;
    readonly state: NodeState;
    readonly free_space: number;
  },
  load = 0,
): PlacementNode {
  return {
    nodeId: info.node_id,
    rack: info.rack,
    state: info.state,
    freeBytes: info.free_space,
    load,
  };
}
