/**
 * Document placement by rendezvous hashing (highest random weight; Thaler and Ravishankar,
 * 1998): every (document, node) pair gets a pseudo-random weight, and a document lives on the
 * k live nodes with the highest weights. Each node is equally likely to rank first, so load is
 * even; removing a node moves only the documents that were on it (each to the node that ranked
 * next), and adding one takes from every node evenly.
 *
 * Pure and deterministic: every node computes the same placement from the same live ids, with no
 * coordination and no table. The weight is MurmurHash3 (x86, 32-bit) of the doc id's UTF-16 code
 * units followed by the node id, twice with two seeds, so ties between nodes have probability
 * ~2^-64; a tie that remains is broken by the lower node id.
 */
import type { SearchNodeId } from './global-index.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const SEED_HIGH = 0x5bd1e995;
const SEED_LOW = 0x2f6b4e33;

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

/** One MurmurHash3 block round. */
function mixBlock(h: number, block: number): number {
  let k = Math.imul(block, C1);
  k = rotl32(k, 15);
  k = Math.imul(k, C2);
  const mixed = rotl32(h ^ k, 13);
  return (Math.imul(mixed, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer: full avalanche of a 32-bit state. */
function fmix32(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hash state after the doc id's code units (two per 32-bit block). */
function absorb(seed: number, text: string): number {
  let h = seed | 0;
  let i = 0;
  for (; i + 1 < text.length; i += 2) {
    h = mixBlock(h, text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
  }
  if (i < text.length) h = mixBlock(h, text.charCodeAt(i));
  return h;
}

function finish(state: number, nodeId: SearchNodeId, length: number): number {
  return fmix32(mixBlock(state, nodeId) ^ (length * 2 + 4));
}

interface Ranked {
  readonly nodeId: SearchNodeId;
  readonly high: number;
  readonly low: number;
}

function byWeightDescending(a: Ranked, b: Ranked): number {
  return b.high - a.high || b.low - a.low || a.nodeId - b.nodeId;
}

function rank(docId: string, nodeIds: Iterable<SearchNodeId>): Ranked[] {
  const high = absorb(SEED_HIGH, docId);
  const low = absorb(SEED_LOW, docId);
  const ranked: Ranked[] = [];
  for (const nodeId of new Set(nodeIds)) {
    if (!Number.isSafeInteger(nodeId) || nodeId < 0) {
      throw new RangeError(`node ids must be non-negative integers, got ${nodeId}`);
    }
    ranked.push({
      nodeId,
      high: finish(high, nodeId, docId.length),
      low: finish(low, nodeId, docId.length),
    });
  }
  return ranked.sort(byWeightDescending);
}

/**
 * The rendezvous weight of `docId` on `nodeId`, as a number in [0, 2^53): higher wins.
 * Exposed for tests and tools; `placeDocument` is what callers want.
 */
export function placementWeight(docId: string, nodeId: SearchNodeId): number {
  const [ranked] = rank(docId, [nodeId]);
  if (ranked === undefined) throw new Error('unreachable: one node was ranked');
  return ranked.high * 2 ** 21 + (ranked.low >>> 11);
}

/**
 * The owners of `docId`: the `k` nodes of `liveNodeIds` with the highest rendezvous weights,
 * best first (fewer when fewer nodes are live; duplicates in `liveNodeIds` count once). The first
 * is the document's *primary*: the node that counts it in the global statistics.
 */
export function placeDocument(
  docId: string,
  liveNodeIds: readonly SearchNodeId[],
  k: number,
): SearchNodeId[] {
  if (!Number.isSafeInteger(k) || k < 1) {
    throw new RangeError(`k must be a positive integer, got ${k}`);
  }
  return rank(docId, liveNodeIds)
    .slice(0, k)
    .map((entry) => entry.nodeId);
}

/** The primary owner of `docId` among `liveNodeIds` (the first of `placeDocument`), if any. */
export function primaryOwner(
  docId: string,
  liveNodeIds: readonly SearchNodeId[],
): SearchNodeId | undefined {
  return placeDocument(docId, liveNodeIds, 1)[0];
}
