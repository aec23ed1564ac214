/**
 * The replication planner's tick on a healthy chunk table (issue 3, the master's periodic scan):
 * every chunk at its factor on active nodes. "full" builds every chunk's row and plans over all
 * of them (the manager before settled chunks were skipped); "settled skipped" is what the
 * manager does now (`chunkIsSettled`, then plans only the rest). Both in this process, on the
 * same table; the ratio is the figure.
 */
import type { PlacementNode } from '../../src/dfs/meta/placement.js';
import {
  chunkIsSettled,
  planReplication,
  type PlanChunk,
} from '../../src/dfs/meta/replication-plan.js';
import { asNodeId, type ChunkId, type NodeId, type NodeState } from '../../src/dfs/meta/types.js';

export interface PlannerTickResult {
  readonly chunks: number;
  readonly fullMs: number;
  readonly settledSkippedMs: number;
}

/** Mean ms per tick of each way over `rounds` ticks (after one warm-up tick each). */
export function measurePlannerTick(chunkCount = 100_000, rounds = 10): PlannerTickResult {
  const nodes = ['dn-0', 'dn-1', 'dn-2', 'dn-3'].map((id): PlacementNode => ({
    nodeId: asNodeId(id),
    rack: null,
    state: 'active',
    freeBytes: 1e12,
    load: 0,
  }));
  const health = { health: 'ok' as const };
  const table = Array.from({ length: chunkCount }, (_, i) => ({
    chunkId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` as ChunkId,
    size: 64 * 2 ** 20,
    replicas: new Map(nodes.slice(0, 3).map((node) => [node.nodeId, health])),
  }));
  const states = new Map(nodes.map((node) => [node.nodeId, node.state]));
  const stateOf = (id: NodeId): NodeState => states.get(id) ?? 'dead';
  const row = (chunk: (typeof table)[number]): PlanChunk => ({
    chunkId: chunk.chunkId,
    factor: 3,
    sizeBytes: chunk.size,
    replicas: [...chunk.replicas].map(([nodeId, replica]) => ({ nodeId, health: replica.health })),
  });
  const full = () => planReplication({ chunks: table.map(row), nodes, inFlight: [] });
  const skipped = () => {
    const chunks: PlanChunk[] = [];
    for (const chunk of table) {
      if (!chunkIsSettled(3, chunk.replicas, stateOf, false)) chunks.push(row(chunk));
    }
    return planReplication({ chunks, nodes, inFlight: [] });
  };
  const meanMs = (tick: () => unknown): number => {
    tick();
    const start = performance.now();
    for (let i = 0; i < rounds; i += 1) tick();
    return (performance.now() - start) / rounds;
  };
  return { chunks: chunkCount, fullMs: meanMs(full), settledSkippedMs: meanMs(skipped) };
}
