/**
 * Conversion between a DataBalancer's state and its snapshot content (snapshot-format.ts).
 * Pure; used by `DataBalancer.toSnapshot` and `DataBalancer.restore`.
 */
import type { GlobalIndex, SearchNodeId } from './global-index.js';
import type { SearchNodeTable } from './node-table.js';
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type BalancerSnapshot,
  type SnapshotNode,
} from './snapshot-format.js';

/** The last applied seq of a node, and whether a FULL report underlies its entry. */
export interface NodeSeqState {
  lastSeq: number;
  fullReport: boolean;
}

/** The state a snapshot captures. */
export interface BalancerParts {
  readonly index: GlobalIndex;
  readonly nodes: SearchNodeTable;
  readonly seqs: Map<SearchNodeId, NodeSeqState>;
}

/** Every node known to any part, ascending. */
function knownNodeIds(parts: BalancerParts): SearchNodeId[] {
  const ids = new Set<SearchNodeId>([...parts.index.nodeIds(), ...parts.seqs.keys()]);
  for (const node of parts.nodes.all()) ids.add(node.nodeId);
  return [...ids].sort((a, b) => a - b);
}

/** The whole state as snapshot content. */
export function snapshotOf(
  parts: BalancerParts,
  leaderId: SearchNodeId | null,
  nowMs: number,
): BalancerSnapshot {
  const nodes = knownNodeIds(parts).map((nodeId): SnapshotNode => {
    const node = parts.nodes.get(nodeId);
    const seq = parts.seqs.get(nodeId);
    return {
      node_id: nodeId,
      url: node?.url ?? null,
      status: node?.status ?? 'unregistered',
      registered_at_ms: node?.registeredAtMs ?? 0,
      last_heartbeat_ms: node?.lastHeartbeatMs ?? 0,
      doc_count: node?.docCount ?? 0,
      term_count: node?.termCount ?? 0,
      total_length: node?.totalLength ?? 0,
      last_seq: seq?.lastSeq ?? null,
      full_report: seq?.fullReport ?? false,
      terms: Object.fromEntries(parts.index.termsOfNode(nodeId)),
    };
  });
  return {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    created_at_ms: nowMs,
    leader_id: leaderId,
    nodes,
  };
}

function isKnown(parts: BalancerParts, nodeId: SearchNodeId): boolean {
  return (
    parts.nodes.get(nodeId) !== undefined ||
    parts.seqs.has(nodeId) ||
    parts.index.nodeTermCount(nodeId) > 0
  );
}

/**
 * Puts into `parts` every snapshot node it knows nothing about (see `DataBalancer.restore`);
 * answers the ids restored.
 */
export function restoreInto(
  parts: BalancerParts,
  snapshot: BalancerSnapshot,
  nowMs: number,
  liveNodeIds?: Iterable<SearchNodeId>,
): SearchNodeId[] {
  const live = liveNodeIds === undefined ? undefined : new Set(liveNodeIds);
  const restored: SearchNodeId[] = [];
  for (const node of snapshot.nodes) {
    if (isKnown(parts, node.node_id)) continue;
    if (node.url !== null && node.status !== 'unregistered') {
      const active = live === undefined ? node.status === 'active' : live.has(node.node_id);
      parts.nodes.restore(
        {
          nodeId: node.node_id,
          url: node.url,
          docCount: node.doc_count,
          termCount: node.term_count,
          totalLength: node.total_length,
          status: node.status,
          registeredAtMs: node.registered_at_ms,
          lastHeartbeatMs: node.last_heartbeat_ms,
        },
        active,
        nowMs,
      );
    }
    parts.index.replaceNode(node.node_id, node.terms);
    // A snapshot may be older than the node's last updates (sent to a previous leader), so a
    // restored entry is never a baseline: the node is asked for a FULL report (fullRequired).
    if (node.last_seq !== null) {
      parts.seqs.set(node.node_id, { lastSeq: node.last_seq, fullReport: false });
    }
    restored.push(node.node_id);
  }
  return restored;
}
