/**
 * Node ids (issue 4, "Joining"): a node takes its configured `--node-id`, else the id it kept
 * from an earlier run (`<dataDir>/node-id`: a restarted node must keep its id, since document
 * placement depends on it), else the lowest free id in [0, 2^d) that the leader hands out
 * (`POST /join {url}` on the leader). Lowest-free keeps the live ids of a small cluster at
 * 0..N-1, a connected part of the cube (docs/search-overlay.md, "Small clusters").
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../../core/errors.js';
import type { HttpClient } from '../../core/http-client.js';
import type { Logger } from '../../core/logger.js';
import type { ServerList } from '../../registry/index.js';
import { slotCount } from '../hypercube/index.js';
import { peersFromServers, SEARCH_NODE_ROLE } from './cluster-view.js';

/** The lowest id in [0, 2^d) not in `used`; undefined when the cube is full. */
export function lowestFreeId(dimensions: number, used: ReadonlySet<number>): number | undefined {
  const slots = slotCount(dimensions);
  for (let id = 0; id < slots; id += 1) if (!used.has(id)) return id;
  return undefined;
}

/**
 * The leader's side of joining: hands out the lowest id that no live node uses and no recent
 * joiner reserved. A reservation lasts `reserveMs` (the joiner registers within it); the same
 * URL asking again gets the same id.
 */
export class JoinAllocator {
  private readonly reservations = new Map<string, { id: number; untilMs: number }>();

  constructor(
    private readonly dimensions: number,
    private readonly reserveMs: number,
  ) {}

  allocate(url: string, liveIds: readonly number[], nowMs: number): number {
    for (const [key, reservation] of this.reservations)
      if (reservation.untilMs <= nowMs || liveIds.includes(reservation.id))
        this.reservations.delete(key);
    const existing = this.reservations.get(url);
    if (existing !== undefined) return existing.id;
    const used = new Set<number>(liveIds);
    for (const reservation of this.reservations.values()) used.add(reservation.id);
    const id = lowestFreeId(this.dimensions, used);
    if (id === undefined) {
      throw new ConflictError(
        `every id of the ${this.dimensions}-cube is taken; raise --dimensions`,
      );
    }
    this.reservations.set(url, { id, untilMs: nowMs + this.reserveMs });
    return id;
  }
}

/** The id kept in the data dir by an earlier run, if any. */
export function readStoredNodeId(dataDir: string): number | undefined {
  try {
    const value = Number(readFileSync(join(dataDir, 'node-id'), 'utf8').trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the id in the data dir for the next run. */
export function storeNodeId(dataDir: string, nodeId: number): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'node-id'), `${nodeId}\n`);
}

interface StatusBody {
  leader_id: number | null;
  leader_url: string | null;
}

/**
 * Asks the cluster for an id: the registry's active search nodes lead to the leader, whose
 * `POST /join` answers. With no search node registered, this is the first node: id 0.
 * Retries (an election may be running) until `deadlineMs` from now.
 */
export async function joinCluster(options: {
  readonly registryUrl: string;
  readonly url: string;
  readonly http: HttpClient;
  readonly logger: Logger;
  readonly deadlineMs: number;
}): Promise<number> {
  const { http, registryUrl, logger } = options;
  const giveUpAt = Date.now() + options.deadlineMs;
  let lastError: unknown;
  while (Date.now() < giveUpAt) {
    try {
      const list = await http.getJson<ServerList>(
        `${registryUrl}/servers/active?role=${SEARCH_NODE_ROLE}`,
        { timeoutMs: 5_000, maxRetries: 1 },
      );
      const peers = [...peersFromServers(list.servers).values()];
      if (peers.length === 0) return 0;
      for (const peer of peers) {
        const status = await http
          .getJson<StatusBody>(`${peer.url}/status`, { timeoutMs: 3_000, maxRetries: 0 })
          .catch(() => undefined);
        if (status?.leader_url == null) continue;
        const reply = await http.postJson<{ node_id: number }>(
          `${status.leader_url}/join`,
          { url: options.url },
          { timeoutMs: 5_000, maxRetries: 0 },
        );
        return reply.node_id;
      }
      lastError = new Error('no search node knows a leader yet');
    } catch (error) {
      lastError = error;
    }
    logger.info({ err: lastError }, 'waiting for a leader to hand out a node id');
    await sleep(500);
  }
  throw new Error(
    `could not get a node id from the cluster: ${lastError instanceof Error ? lastError.message : String(lastError)}; pass --node-id`,
  );
}
