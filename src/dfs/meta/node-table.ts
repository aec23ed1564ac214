import type { Clock } from '../../core/clock.js';
import { MembershipTable } from '../../core/membership.js';
import type { DatanodePayload, ChunkEntry } from './model.js';
import type { PlacementNode } from './placement.js';
import type { MetaStore, NodeRow } from './store.js';
import {
  isValidChunkId,
  type ChunkId,
  type NodeId,
  type NodeInfo,
  type ReplicaState,
} from './types.js';

/** A datanode's heartbeat, as the wire contract defines it. */
export interface DatanodeHeartbeat {
  node_id: string;
  url: string;
  host: string;
  port: number;
  rack?: string | null;
  free_space: number;
  total_space: number;
  chunk_ids: string[];
  corrupt_chunk_ids?: string[];
  load?: number;
  /** When the datanode process started, in ms since the epoch (tells a restart). */
  started_at_ms?: number;
}

/**
 * The datanodes, on the core membership table (a node silent for the timeout is dead), and
 * the reconciliation of their chunk reports with the chunk table: replicas the master did
 * not know are adopted (finished copies, or state lost in a crash), replicas no longer
 * reported are dropped, corrupt ones are marked, and chunks of no live file are to be deleted.
 */
/** How long placement avoids a node a client reported it could not write to. */
export const UNREACHABLE_AVOID_MS = 30_000;
/** The load such a node is counted with: far above any real one, so it is chosen last. */
const UNREACHABLE_LOAD_PENALTY = 1_000_000;

export class NodeTable {
  readonly members: MembershipTable<DatanodePayload>;
  /** Copies and client writes in progress per node, counted against placement. */
  private readonly inFlight = new Map<NodeId, number>();
  /** Until when a node a client could not write to is avoided by placement. */
  private readonly unreachableUntil = new Map<NodeId, number>();
  /**
   * Called when a node declared dead heartbeats again, or a node restarted (its heartbeat has a
   * new start time), with its URL: the master's HTTP client lets calls to it through at once
   * instead of after its breaker's open time.
   */
  onNodeBack: (nodeId: NodeId, url: string) => void = () => undefined;

  constructor(
    private readonly store: MetaStore,
    private readonly chunks: ReadonlyMap<ChunkId, ChunkEntry>,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {
    this.members = new MembershipTable<DatanodePayload>({
      timeoutMs,
      retentionMs: 7 * 24 * 3_600_000,
    });
  }

  load(rows: readonly NodeRow[]): void {
    for (const row of rows) {
      this.members.restore({
        id: row.node_id,
        payload: JSON.parse(row.info) as DatanodePayload,
        status: 'active',
        registeredAtMs: row.registered_at_ms,
        lastHeartbeatMs: row.last_heartbeat_ms,
        recoveries: 0,
        inactiveSinceMs: undefined,
      });
    }
    // After a master restart every known node gets one full timeout to report in.
    this.members.graceAll(this.clock.nowMs());
  }

  /** Handles a heartbeat; answers the chunks the node should delete. */
  async heartbeat(
    beat: DatanodeHeartbeat,
    heartbeatIntervalMs: number,
  ): Promise<{ delete_chunk_ids: string[] }> {
    const nowMs = this.clock.nowMs();
    const nodeId = beat.node_id as NodeId;
    const payload: DatanodePayload = {
      host: beat.host,
      port: beat.port,
      url: beat.url.replace(/\/+$/, ''),
      rack: beat.rack ?? null,
      freeBytes: beat.free_space,
      totalBytes: beat.total_space,
      chunkCount: beat.chunk_ids.length,
      load: beat.load ?? 0,
      ...(beat.started_at_ms === undefined ? {} : { startedAtMs: beat.started_at_ms }),
    };
    const known = this.members.get(nodeId);
    // A node back from the dead, or restarted (a new start time) before it was declared dead.
    const restarted =
      known?.payload.startedAtMs !== undefined &&
      payload.startedAtMs !== undefined &&
      known.payload.startedAtMs !== payload.startedAtMs;
    const isNew =
      !known || known.payload.url !== payload.url || known.payload.rack !== payload.rack;
    if (known) {
      const outcome = this.members.heartbeat(nodeId, nowMs, payload);
      if ((outcome.kind === 'alive' && outcome.recovered) || restarted) {
        this.onNodeBack(nodeId, payload.url);
      }
    } else this.members.register(nodeId, payload, nowMs);
    const member = this.members.get(nodeId);
    const { toDelete, adopted, dropped, corrupt } = this.reconcile(
      nodeId,
      beat,
      nowMs,
      heartbeatIntervalMs,
    );
    if (isNew || adopted.length > 0 || dropped.length > 0 || corrupt.length > 0) {
      await this.store.write((ops) => {
        if (member) {
          ops.upsertNode({
            node_id: nodeId,
            info: JSON.stringify(payload),
            registered_at_ms: member.registeredAtMs,
            last_heartbeat_ms: nowMs,
          });
        }
        for (const chunkId of adopted) ops.upsertReplica(chunkId, nodeId, 'ok');
        for (const chunkId of corrupt) ops.upsertReplica(chunkId, nodeId, 'corrupt');
        for (const chunkId of dropped) ops.deleteReplica(chunkId, nodeId);
      });
    }
    return { delete_chunk_ids: toDelete };
  }

  private reconcile(nodeId: NodeId, beat: DatanodeHeartbeat, nowMs: number, intervalMs: number) {
    const reported = new Set(beat.chunk_ids.filter(isValidChunkId));
    const corruptReported = new Set((beat.corrupt_chunk_ids ?? []).filter(isValidChunkId));
    const toDelete: string[] = [];
    const adopted: ChunkId[] = [];
    const corrupt: ChunkId[] = [];
    for (const chunkId of reported) {
      const chunk = this.chunks.get(chunkId);
      if (!chunk) {
        toDelete.push(chunkId);
        continue;
      }
      if (chunk.checksum === null) continue; // an upload in progress: the commit adds replicas
      const replica = chunk.replicas.get(nodeId);
      const health = corruptReported.has(chunkId) ? 'corrupt' : (replica?.health ?? 'ok');
      if (!replica) {
        chunk.replicas.set(nodeId, { health, addedAtMs: nowMs });
        if (health === 'ok') adopted.push(chunkId);
        else corrupt.push(chunkId);
      } else if (replica.health !== health) {
        replica.health = health;
        corrupt.push(chunkId);
      }
    }
    const dropped: ChunkId[] = [];
    // Replicas the node no longer reports are gone, unless they are too new to be in the report.
    for (const chunk of this.chunks.values()) {
      const replica = chunk.replicas.get(nodeId);
      if (!replica || reported.has(chunk.chunkId)) continue;
      if (nowMs - replica.addedAtMs < 2 * intervalMs) continue;
      chunk.replicas.delete(nodeId);
      dropped.push(chunk.chunkId);
    }
    return { toDelete, adopted, dropped, corrupt };
  }

  /** Marks a replica corrupt (reported outside a heartbeat, e.g. by a client). */
  async markCorrupt(chunkId: ChunkId, nodeId: NodeId): Promise<boolean> {
    const replica = this.chunks.get(chunkId)?.replicas.get(nodeId);
    if (!replica || replica.health === 'corrupt') return false;
    replica.health = 'corrupt';
    await this.store.write((ops) => ops.upsertReplica(chunkId, nodeId, 'corrupt'));
    return true;
  }

  /** Removes a replica the master deleted on purpose (over-replicated or corrupt). */
  async dropReplica(chunkId: ChunkId, nodeId: NodeId): Promise<void> {
    this.chunks.get(chunkId)?.replicas.delete(nodeId);
    await this.store.write((ops) => ops.deleteReplica(chunkId, nodeId));
  }

  /** Adds a replica a finished copy created. */
  async addReplica(chunkId: ChunkId, nodeId: NodeId): Promise<void> {
    const chunk = this.chunks.get(chunkId);
    if (!chunk) return;
    chunk.replicas.set(nodeId, { health: 'ok', addedAtMs: this.clock.nowMs() });
    await this.store.write((ops) => ops.upsertReplica(chunkId, nodeId, 'ok'));
  }

  /** Marks silent nodes dead; answers their ids. */
  sweep(): string[] {
    return this.members.sweep(this.clock.nowMs()).expired.map((member) => member.id);
  }

  adjustLoad(nodeId: NodeId, delta: number): void {
    this.inFlight.set(nodeId, Math.max(0, (this.inFlight.get(nodeId) ?? 0) + delta));
  }

  /**
   * A client failed to write a chunk to this node (it asked for a replacement target). A node
   * that heartbeats the master but that clients cannot reach (a one-way network cut) stays
   * active; placement then avoids it for `UNREACHABLE_AVOID_MS` unless no other node is left.
   */
  reportUnreachable(nodeId: NodeId): void {
    this.unreachableUntil.set(nodeId, this.clock.nowMs() + UNREACHABLE_AVOID_MS);
  }

  placementNodes(): PlacementNode[] {
    const nowMs = this.clock.nowMs();
    return this.members.list().map((member) => {
      const nodeId = member.id as NodeId;
      const avoid = (this.unreachableUntil.get(nodeId) ?? 0) > nowMs;
      if (!avoid) this.unreachableUntil.delete(nodeId);
      return {
        nodeId,
        rack: member.payload.rack,
        state: member.status === 'active' ? 'active' : 'dead',
        freeBytes: member.payload.freeBytes,
        // Placement skips overloaded nodes when others can take the chunk (placement.ts).
        load:
          member.payload.load +
          (this.inFlight.get(nodeId) ?? 0) +
          (avoid ? UNREACHABLE_LOAD_PENALTY : 0),
      };
    });
  }

  activeCount(): number {
    return this.members.active().length;
  }

  target(nodeId: NodeId): { node_id: string; url: string } {
    return { node_id: nodeId, url: this.members.get(nodeId)?.payload.url ?? '' };
  }

  urlOf(nodeId: NodeId): string | undefined {
    return this.members.get(nodeId)?.payload.url;
  }

  /** A replica's state as the API shows it: its node's state, or corrupt. */
  replicaState(nodeId: NodeId, health: 'ok' | 'corrupt'): ReplicaState {
    if (health === 'corrupt') return 'corrupt';
    const member = this.members.get(nodeId);
    if (!member) return 'dead';
    return member.status === 'active' ? 'active' : 'dead';
  }

  lastHeartbeatIso(nodeId: NodeId): string {
    const member = this.members.get(nodeId);
    return new Date(member?.lastHeartbeatMs ?? 0).toISOString();
  }

  infos(): NodeInfo[] {
    return this.members.list().map((member) => ({
      node_id: member.id as NodeId,
      host: member.payload.host,
      port: member.payload.port,
      url: member.payload.url,
      rack: member.payload.rack,
      free_space: member.payload.freeBytes,
      total_space: member.payload.totalBytes,
      chunk_count: member.payload.chunkCount,
      last_heartbeat: new Date(member.lastHeartbeatMs).toISOString(),
      state: member.status === 'active' ? 'active' : 'dead',
    }));
  }
}
