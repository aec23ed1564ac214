import type { Clock } from '../core/clock.js';
import { MembershipTable, type Member, type MembershipConfig } from '../core/membership.js';
import type { Random } from '../core/random.js';
import type { RegistryStore } from './store.js';
import type { RegisterBody, ServerPayload, ServerRecord } from './types.js';

export interface RegistryOptions extends MembershipConfig {
  readonly clock: Clock;
  readonly random: Random;
  /** Durable store; absent for a purely in-memory registry (tests, benchmarks). */
  readonly store?: RegistryStore;
}

type Waiter = () => void;

/**
 * The registry's state: the core membership table, made durable through the store, plus the
 * waiters of blocking queries. The HTTP routes are a thin layer over this class.
 */
export class Registry {
  private readonly table: MembershipTable<ServerPayload>;
  private readonly waiters = new Set<Waiter>();
  private readonly pendingHeartbeats = new Map<string, number>();

  constructor(private readonly options: RegistryOptions) {
    const stored = options.store?.load() ?? { members: [], index: 0 };
    this.table = new MembershipTable<ServerPayload>(options, stored.index + 1);
    for (const member of stored.members) this.table.restore(member);
    // Whatever happened while we were down, members get one full timeout to heartbeat again.
    this.table.graceAll(options.clock.nowMs());
  }

  get index(): number {
    return this.table.version;
  }

  /** Registers (or refreshes) a server; resolves once the record is durable. */
  async register(body: RegisterBody): Promise<{ record: ServerRecord; created: boolean }> {
    const id = body.server_id ?? this.options.random.uuid();
    const url = body.url ?? `http://${formatHost(body.host)}:${body.port}`;
    const payload: ServerPayload = {
      role: body.role,
      host: body.host,
      port: body.port,
      url: url.replace(/\/+$/, ''),
      metadata: body.metadata ?? {},
    };
    const before = this.table.version;
    const { member, created } = this.table.register(id, payload, this.options.clock.nowMs());
    this.pendingHeartbeats.delete(id);
    await this.persist({ upsert: [member] }, this.table.version !== before);
    return { record: toRecord(member), created };
  }

  /**
   * Answers the refreshed record, or `undefined` for an unknown id (the sender re-registers).
   * A plain heartbeat is answered at once; a recovery or a metadata change once it is durable.
   */
  async heartbeat(
    id: string,
    metadata?: Record<string, unknown>,
  ): Promise<{ record: ServerRecord; recovered: boolean } | undefined> {
    const before = this.table.version;
    const current = this.table.get(id);
    const payload = current && metadata ? { ...current.payload, metadata } : undefined;
    const outcome = this.table.heartbeat(id, this.options.clock.nowMs(), payload);
    if (outcome.kind === 'unknown') return undefined;
    if (this.table.version !== before) {
      this.pendingHeartbeats.delete(id);
      await this.persist({ upsert: [outcome.member] });
    } else {
      this.pendingHeartbeats.set(id, outcome.member.lastHeartbeatMs);
    }
    return { record: toRecord(outcome.member), recovered: outcome.recovered };
  }

  /** Removes a server; resolves false for an unknown id, true once the removal is durable. */
  async remove(id: string): Promise<boolean> {
    const removed = this.table.remove(id);
    if (!removed) return false;
    this.pendingHeartbeats.delete(id);
    await this.persist({ remove: [id] });
    return true;
  }

  /**
   * The periodic cleanup: expire silent servers, drop long-inactive ones, flush heartbeats.
   * Answers at once what changed; `durable` resolves once those changes are written.
   */
  sweep(): { expired: string[]; removed: string[]; durable: Promise<void> } {
    this.flushHeartbeats();
    const { expired, removed } = this.table.sweep(this.options.clock.nowMs());
    const durable =
      expired.length > 0 || removed.length > 0
        ? this.persist({ upsert: expired, remove: removed.map((member) => member.id) })
        : Promise.resolve();
    return { expired: expired.map((m) => m.id), removed: removed.map((m) => m.id), durable };
  }

  /** Writes batched heartbeat times to the store. */
  flushHeartbeats(): void {
    if (this.pendingHeartbeats.size === 0 || !this.options.store) return;
    this.options.store.writeHeartbeats(this.pendingHeartbeats);
    this.pendingHeartbeats.clear();
  }

  get(id: string): ServerRecord | undefined {
    const member = this.table.get(id);
    return member ? toRecord(member) : undefined;
  }

  list(filter: { role?: string; status?: 'active' | 'inactive' } = {}): ServerRecord[] {
    return this.table
      .list(
        (member) =>
          (filter.role === undefined || member.payload.role === filter.role) &&
          (filter.status === undefined || member.status === filter.status),
      )
      .map(toRecord);
  }

  /** Counts by status and by role, for `GET /`. */
  counts(): {
    total: number;
    active: number;
    inactive: number;
    byRole: Record<string, { active: number; inactive: number }>;
  } {
    const byRole: Record<string, { active: number; inactive: number }> = {};
    let active = 0;
    for (const member of this.table.list()) {
      const entry = (byRole[member.payload.role] ??= { active: 0, inactive: 0 });
      entry[member.status] += 1;
      if (member.status === 'active') active += 1;
    }
    return { total: this.table.size, active, inactive: this.table.size - active, byRole };
  }

  /**
   * Resolves when the change index differs from `index`, or after `waitMs`, or on `signal`.
   * A blocking query (Consul style) holds its HTTP request on this.
   */
  waitForChange(index: number, waitMs: number, signal?: AbortSignal): Promise<void> {
    if (index !== this.table.version || waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Releases every waiting query (on stop). */
  releaseWaiters(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Writes changes durably, then wakes blocking queries if the index moved. */
  private async persist(
    changes: { upsert?: readonly Member<ServerPayload>[]; remove?: readonly string[] },
    indexChanged = true,
  ): Promise<void> {
    await this.options.store?.write({ ...changes, index: this.table.version });
    if (indexChanged) for (const waiter of [...this.waiters]) waiter();
  }
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The API shape of a member (times in Unix seconds). */
export function toRecord(member: Member<ServerPayload>): ServerRecord {
  return {
    server_id: member.id,
    role: member.payload.role,
    host: member.payload.host,
    port: member.payload.port,
    url: member.payload.url,
    metadata: member.payload.metadata,
    status: member.status,
    registered_at: member.registeredAtMs / 1000,
    last_heartbeat: member.lastHeartbeatMs / 1000,
    recoveries: member.recoveries,
  };
}
