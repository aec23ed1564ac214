/**
 * The hypercube of the search cluster as the Search page draws it (pure: no I/O, no clock).
 * From what the registry lists and what each node's `GET /status` said, it derives the cube's
 * dimension, which slots hold a live node (it answered), a dead one (known — registered, or
 * listed by a peer — but silent) or none, the edges between neighbours (ids one bit apart, as
 * distrisearch-architecture.md defines them), the leader the nodes agree on, and a position for
 * every vertex. This module imports only types, so the browser app can use it too.
 */
import type {
  CubeEdge,
  CubeState,
  CubeVertex,
  CubeView,
  SearchNodeView,
  WireSearchStatus,
} from './api-types.js';

/** Cubes with at most this many slots are drawn whole; larger ones show known nodes only. */
export const MAX_DRAWN_SLOTS = 16;

/** The search nodes' default dimension, used when no node answered. */
export const DEFAULT_DIMENSIONS = 4;

type Vector = readonly [number, number];

/**
 * Projection vectors per dimension: a vertex is drawn at the sum of the vectors of its set
 * bits, so every edge of bit i is a copy of vector i. The sets for 3 and 4 bits were chosen by
 * a search that maximised the smallest distance between two vertices and between a vertex and
 * an edge not its own, so that no vertex sits on a line (the 4-cube cannot be drawn without
 * crossings, but it can be drawn without ambiguity).
 */
const VECTORS: Readonly<Record<number, readonly Vector[]>> = {
  1: [[1, 0]],
  2: [
    [1, 0],
    [0, 1],
  ],
  3: [
    [0.776, 0.093],
    [-0.099, 0.812],
    [-0.419, 0.35],
  ],
  4: [
    [0.484, 0.145],
    [0.211, 0.569],
    [0.033, 0.987],
    [-0.952, 0.078],
  ],
};

/** The vector of bit `bit` in a drawing of a `dimensions`-cube. */
function vectorOf(bit: number, dimensions: number): Vector {
  const table = VECTORS[Math.min(dimensions, 4)] ?? VECTORS[4]!;
  const own = table[bit];
  if (own !== undefined) return own;
  // Beyond 4 bits: copies of the smaller drawing side by side, alternately across and down.
  let spanX = 0;
  let spanY = 0;
  for (let lower = 0; lower < bit; lower += 1) {
    const [x, y] = vectorOf(lower, dimensions);
    spanX += Math.abs(x);
    spanY += Math.abs(y);
  }
  return bit % 2 === 0 ? [spanX * 1.2, 0.1 * spanY] : [0.1 * spanX, spanY * 1.2];
}

/** Where slot `id` of a `dimensions`-cube is drawn (any unit; callers scale to fit). */
export function cubePosition(id: number, dimensions: number): { x: number; y: number } {
  let x = 0;
  let y = 0;
  for (let bit = 0; bit < dimensions; bit += 1) {
    if (((id >>> bit) & 1) === 0) continue;
    const [dx, dy] = vectorOf(bit, dimensions);
    x += dx;
    y += dy;
  }
  return { x: round(x), y: round(y) };
}

/** `5`, 4 bits -> `0101`. */
export function binaryIdOf(id: number, dimensions: number): string {
  return id.toString(2).padStart(dimensions, '0');
}

/** The leader most answering nodes follow (ties: the higher id, as Bully would pick). */
export function agreedLeader(statuses: readonly WireSearchStatus[]): number | null {
  const votes = new Map<number, number>();
  for (const status of statuses) {
    if (status.leader_id !== null)
      votes.set(status.leader_id, (votes.get(status.leader_id) ?? 0) + 1);
  }
  let best: number | null = null;
  let bestVotes = 0;
  for (const [id, count] of votes) {
    if (count > bestVotes || (count === bestVotes && best !== null && id > best)) {
      best = id;
      bestVotes = count;
    }
  }
  return best;
}

/** The cube of the registered search nodes and their statuses; null when there is no node. */
export function buildCubeView(nodes: readonly SearchNodeView[]): CubeView | null {
  if (nodes.length === 0) return null;
  const statuses = nodes.flatMap((node) => (node.status.ok ? [node.status.data] : []));
  const live = new Set(statuses.map((status) => status.node_id));
  const urls = new Map<number, string>();
  const known = new Set<number>(live);
  for (const node of nodes) {
    if (node.node_id !== null) {
      known.add(node.node_id);
      urls.set(node.node_id, node.url);
    }
  }
  for (const status of statuses) {
    urls.set(status.node_id, status.url);
    for (const id of status.live_nodes) known.add(id);
  }
  const largest = Math.max(0, ...known);
  const dimensions = Math.max(
    1,
    ...statuses.map((status) => status.dimensions),
    statuses.length === 0 ? Math.max(DEFAULT_DIMENSIONS, bitLength(largest)) : 1,
  );
  const slots = 2 ** dimensions;
  const sparse = slots > MAX_DRAWN_SLOTS;
  const ids = sparse
    ? [...known].filter((id) => id < slots).sort((a, b) => a - b)
    : Array.from({ length: slots }, (_unused, id) => id);
  const leaderId = agreedLeader(statuses);
  const stateOf = (id: number): CubeState =>
    live.has(id) ? 'live' : known.has(id) ? 'dead' : 'empty';
  const vertices: CubeVertex[] = ids.map((id) => ({
    node_id: id,
    binary_id: binaryIdOf(id, dimensions),
    state: stateOf(id),
    leader: id === leaderId,
    url: urls.get(id) ?? null,
    ...cubePosition(id, dimensions),
  }));
  return {
    dimensions,
    vertices,
    edges: cubeEdges(ids, dimensions, stateOf),
    leader_id: leaderId,
    sparse,
  };
}

/** Edges between the drawn vertices that are neighbours; an edge is as alive as its worse end. */
export function cubeEdges(
  ids: readonly number[],
  dimensions: number,
  stateOf: (id: number) => CubeState,
): CubeEdge[] {
  const drawn = new Set(ids);
  const rank: Record<CubeState, number> = { live: 0, dead: 1, empty: 2 };
  const edges: CubeEdge[] = [];
  for (const from of ids) {
    for (let bit = 0; bit < dimensions; bit += 1) {
      const to = from ^ (1 << bit);
      if (to < from || !drawn.has(to)) continue;
      const [a, b] = [stateOf(from), stateOf(to)];
      edges.push({ from, to, state: rank[a] >= rank[b] ? a : b });
    }
  }
  return edges;
}

function bitLength(value: number): number {
  return value <= 0 ? 1 : Math.floor(Math.log2(value)) + 1;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
