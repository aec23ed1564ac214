/**
 * The datanode's heartbeat to the metadata master (dfs-architecture.md, "Heartbeats": every
 * 10 s, free and total space and the full list of chunk ids). Tessera adds the corrupt chunks
 * found by reads and by the scrubber, the rack and the load; the master answers the chunks to
 * delete (unknown ones, those of deleted files or aborted uploads), which the loop hands back.
 *
 * The loop never blocks its service: the first heartbeat goes out at start, one every interval
 * after that (never two at once), and a master that is down or unknown is tried again at the
 * next interval; the outage is logged once, and its end once.
 */
import type { Logger } from '../../core/logger.js';
import type { HttpClient } from '../../core/http-client.js';
import type { ChunkId } from '../meta/types.js';

/** `POST /api/v1/nodes/heartbeat` body (dfs-api.md). */
export interface DatanodeHeartbeat {
  node_id: string;
  /** Base URL clients and peers use to reach the datanode. */
  url: string;
  host: string;
  port: number;
  rack: string | null;
  free_space: number;
  total_space: number;
  chunk_ids: ChunkId[];
  corrupt_chunk_ids: ChunkId[];
  /** Transfers in flight. */
  load: number;
  /** When this process started (ms since the epoch): a new value tells the master it restarted. */
  started_at_ms: number;
}

/** The master's answer. */
export interface HeartbeatReply {
  delete_chunk_ids: string[];
}

/** Path of the heartbeat endpoint under the master's base URL. */
export const HEARTBEAT_PATH = '/api/v1/nodes/heartbeat';

/** Options of a `HeartbeatLoop`. */
export interface HeartbeatLoopOptions {
  readonly intervalMs: number;
  /** The master's base URL: `--meta`, or found in the registry; throws when unknown. */
  readonly locateMaster: () => Promise<string>;
  /** Called after a failed heartbeat, e.g. to forget a cached master address. */
  readonly onMasterFailure?: () => void;
  /** A client without retries of its own: the loop is the retry. */
  readonly http: HttpClient;
  /** Builds the body (re-reading the disk); called once per heartbeat. */
  readonly buildBody: () => Promise<DatanodeHeartbeat>;
  /** Acts on the master's answer (deletes chunks); awaited before the next heartbeat. */
  readonly onReply: (reply: HeartbeatReply, sent: DatanodeHeartbeat) => Promise<void>;
  /** Counts outcomes, e.g. for metrics. */
  readonly onOutcome?: (outcome: 'ok' | 'failed') => void;
  readonly logger: Logger;
}

/** Heartbeats the master every interval; see the module comment. */
export class HeartbeatLoop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<boolean> | null = null;
  private stopped = false;
  private masterReachable = true;
  private sent = 0;

  constructor(private readonly options: HeartbeatLoopOptions) {}

  /** Sends the first heartbeat now (in the background) and one every interval after it. */
  start(): void {
    this.schedule(0);
  }

  /**
   * Sends one heartbeat now (or joins the one in flight) and acts on the reply; true when the
   * master answered. Never throws: failures are logged and retried at the next interval.
   */
  beatNow(): Promise<boolean> {
    this.current ??= this.beat().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  /** Heartbeats answered so far. */
  heartbeatsSent(): number {
    return this.sent;
  }

  /** Stops the loop and waits for a heartbeat in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const startedMs = Date.now();
      void this.beatNow().then(() => {
        this.schedule(Math.max(0, this.options.intervalMs - (Date.now() - startedMs)));
      });
    }, delayMs);
  }

  private async beat(): Promise<boolean> {
    if (this.stopped) return false;
    let master: string | undefined;
    try {
      master = await this.options.locateMaster();
      const body = await this.options.buildBody();
      const reply = await this.options.http.postJson<unknown>(`${master}${HEARTBEAT_PATH}`, body, {
        idempotent: true,
      });
      this.sent += 1;
      this.options.onOutcome?.('ok');
      this.reachable(master);
      await this.act(parseReply(reply, this.options.logger), body);
      return true;
    } catch (error) {
      this.options.onOutcome?.('failed');
      this.options.onMasterFailure?.();
      this.unreachable(master, error);
      return false;
    }
  }

  /** Acts on an answer; a failure here is the datanode's, not the master's, and is logged. */
  private async act(reply: HeartbeatReply, sent: DatanodeHeartbeat): Promise<void> {
    try {
      await this.options.onReply(reply, sent);
    } catch (error) {
      this.options.logger.error({ err: error }, 'acting on the heartbeat reply failed');
    }
  }

  private reachable(master: string): void {
    if (!this.masterReachable)
      this.options.logger.info({ master }, 'metadata master reachable again');
    this.masterReachable = true;
  }

  private unreachable(master: string | undefined, error: unknown): void {
    if (this.masterReachable) {
      this.options.logger.warn(
        { err: error, master: master ?? null },
        'heartbeat to the metadata master failed; will keep trying every heartbeat interval',
      );
    }
    this.masterReachable = false;
  }
}

/** Reads `delete_chunk_ids` from the master's answer; anything malformed counts as empty. */
function parseReply(reply: unknown, logger: Logger): HeartbeatReply {
  const ids =
    typeof reply === 'object' && reply !== null && 'delete_chunk_ids' in reply
      ? reply.delete_chunk_ids
      : [];
  if (!Array.isArray(ids)) {
    logger.warn({ reply }, 'heartbeat reply without a delete_chunk_ids list; ignored');
    return { delete_chunk_ids: [] };
  }
  return { delete_chunk_ids: ids.filter((id): id is string => typeof id === 'string') };
}
