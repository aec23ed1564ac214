import type { Clock } from '../../core/clock.js';
import type { HttpClient } from '../../core/http-client.js';
import type { Logger } from '../../core/logger.js';
import type { MetaMaster } from './master.js';
import {
  chunkIsSettled,
  DEFAULT_REPLICATION_THROTTLE,
  planReplication,
  type CopyAction,
  type CopyInFlight,
  type DeleteAction,
  type PlanChunk,
  type ReplicationThrottle,
} from './replication-plan.js';
import type { PlacementState } from './placement.js';
import type { NodeId, NodeState } from './types.js';

export interface ReplicationStats {
  copiesStarted: number;
  copiesDone: number;
  copiesFailed: number;
  deletesDone: number;
  /** Replicas deleted because a read or the scrubber found them corrupt. */
  corruptRemoved: number;
  underReplicated: number;
  lost: number;
  uploadsAborted: number;
}

/**
 * The replication manager (the edge around the pure planner): every tick it expires leases
 * (aborting torn uploads), marks silent datanodes dead, plans, and carries out the plan —
 * target-pulls-from-source copies and deletes, through the core HTTP client. Copies are
 * throttled by the planner (per node and in total) so client traffic keeps its bandwidth.
 */
export class ReplicationManager {
  private readonly inFlight = new Map<string, CopyInFlight & { startedAtMs: number }>();
  private readonly deleting = new Set<string>();
  private placement: PlacementState = { tick: 0, lastPickedAt: {} };
  private running = false;
  readonly stats: ReplicationStats = {
    copiesStarted: 0,
    copiesDone: 0,
    copiesFailed: 0,
    deletesDone: 0,
    corruptRemoved: 0,
    underReplicated: 0,
    lost: 0,
    uploadsAborted: 0,
  };

  constructor(
    private readonly master: MetaMaster,
    private readonly http: HttpClient,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly throttle: ReplicationThrottle = DEFAULT_REPLICATION_THROTTLE,
    private readonly copyTimeoutMs = 10 * 60_000,
  ) {}

  /** One round; rounds never overlap. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.stats.uploadsAborted += await this.master.expireLeases();
      const dead = this.master.nodes.sweep();
      if (dead.length > 0)
        this.logger.warn({ nodes: dead }, 'datanodes missed heartbeats: marked dead');
      this.plan();
    } finally {
      this.running = false;
    }
  }

  private plan(): void {
    const nowMs = this.clock.nowMs();
    for (const [key, copy] of this.inFlight) {
      if (nowMs - copy.startedAtMs > this.copyTimeoutMs) this.inFlight.delete(key);
    }
    const nodes = this.master.nodes.placementNodes();
    const states = new Map(nodes.map((node) => [node.nodeId, node.state]));
    const stateOf = (id: NodeId): NodeState => states.get(id) ?? 'dead';
    const copying = new Set([...this.inFlight.values()].map((copy) => copy.chunkId));
    // Only chunks that need something go to the planner; the scan of the others allocates
    // nothing, which is what keeps a tick cheap on a healthy cluster with many chunks.
    const chunks: PlanChunk[] = [];
    for (const file of this.master.files.values()) {
      const factor = file.row.replication_factor;
      for (const chunk of file.chunks) {
        if (chunkIsSettled(factor, chunk.replicas, stateOf, copying.has(chunk.chunkId))) continue;
        chunks.push({
          chunkId: chunk.chunkId,
          factor,
          sizeBytes: chunk.size,
          replicas: [...chunk.replicas].map(([nodeId, replica]) => ({
            nodeId,
            health: replica.health,
          })),
        });
      }
    }
    const plan = planReplication({
      chunks,
      nodes,
      inFlight: [...this.inFlight.values()],
      throttle: this.throttle,
      placement: this.placement,
    });
    this.placement = plan.placement;
    this.stats.underReplicated = plan.underReplicated.length;
    this.stats.lost = plan.lost.length;
    for (const action of plan.actions) {
      if (action.kind === 'copy') this.startCopy(action);
      else this.startDelete(action);
    }
  }

  private startCopy(action: CopyAction): void {
    const key = `${action.chunkId}:${action.targetNodeId}`;
    if (this.inFlight.has(key)) return;
    const source = this.master.nodes.urlOf(action.sourceNodeId);
    const target = this.master.nodes.urlOf(action.targetNodeId);
    const chunk = this.master.chunks.get(action.chunkId);
    if (!source || !target || !chunk?.checksum) return;
    this.inFlight.set(key, { ...action, startedAtMs: this.clock.nowMs() });
    this.stats.copiesStarted += 1;
    this.master.nodes.adjustLoad(action.targetNodeId, 1);
    const body = { source_url: source, checksum: chunk.checksum, size: chunk.size };
    this.http
      .postJson(`${target}/api/v1/chunks/${action.chunkId}/replicate`, body, {
        idempotent: true,
        timeoutMs: this.copyTimeoutMs,
        maxRetries: 0,
      })
      .then(
        async () => {
          this.stats.copiesDone += 1;
          await this.master.nodes.addReplica(action.chunkId, action.targetNodeId);
          this.logger.info(
            { chunk: action.chunkId, from: action.sourceNodeId, to: action.targetNodeId },
            'chunk re-replicated',
          );
        },
        (error: unknown) => {
          this.stats.copiesFailed += 1;
          this.logger.warn(
            { err: error, chunk: action.chunkId, to: action.targetNodeId },
            're-replication copy failed; will retry',
          );
        },
      )
      .finally(() => {
        this.inFlight.delete(key);
        this.master.nodes.adjustLoad(action.targetNodeId, -1);
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'replica bookkeeping failed'));
  }

  private startDelete(action: DeleteAction): void {
    const key = `${action.chunkId}:${action.nodeId}`;
    const url = this.master.nodes.urlOf(action.nodeId);
    if (!url || this.deleting.has(key)) return;
    this.deleting.add(key);
    this.http
      .request(`${url}/api/v1/chunks/${action.chunkId}`, { method: 'DELETE', maxRetries: 1 })
      .then(async (response) => {
        await response.body.dump();
        if (response.status < 300 || response.status === 404) {
          this.stats.deletesDone += 1;
          if (action.reason === 'corrupt') this.stats.corruptRemoved += 1;
          await this.master.nodes.dropReplica(action.chunkId, action.nodeId);
          this.logger.info(
            { chunk: action.chunkId, node: action.nodeId, reason: action.reason },
            'replica deleted',
          );
        }
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, chunk: action.chunkId }, 'replica delete failed'),
      )
      .finally(() => this.deleting.delete(key));
  }
}
