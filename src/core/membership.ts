/**
 * The membership table (DESIGN.md, rule 5): members register, heartbeat, expire after a
 * timeout without heartbeats, recover on a new heartbeat, and are removed after a retention
 * period. The registry, the DFS master (datanodes) and the search balancer all use it.
 *
 * Pure: time comes in as `nowMs`; the table never reads a clock, sets a timer or does I/O.
 * Every change is returned to the caller, who persists or announces it.
 */

export type MemberStatus = 'active' | 'inactive';

export interface Member<P> {
  readonly id: string;
  payload: P;
  status: MemberStatus;
  readonly registeredAtMs: number;
  lastHeartbeatMs: number;
  /** How many times this member came back from `inactive`. */
  recoveries: number;
  /** When the member was last marked inactive, if it is. */
  inactiveSinceMs: number | undefined;
}

export interface MembershipConfig {
  /** Silence after which an active member becomes inactive. */
  readonly timeoutMs: number;
  /** Time an inactive member is kept before it is removed. */
  readonly retentionMs: number;
  /** Whether two payloads are the same (default: equal JSON); a changed payload bumps `version`. */
  readonly payloadEquals?: (a: unknown, b: unknown) => boolean;
}

/**
 * Structural equality of JSON-like payloads, without serializing them: heartbeats usually
 * repeat the same payload, and this runs on every one of them.
 */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const aKeys = Object.keys(aRecord);
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  for (const key of aKeys) {
    if (!Object.hasOwn(bRecord, key) || !jsonEquals(aRecord[key], bRecord[key])) return false;
  }
  return true;
}

export type HeartbeatOutcome<P> =
  | { readonly kind: 'unknown' }
  | { readonly kind: 'alive'; readonly member: Member<P>; readonly recovered: boolean };

export interface SweepOutcome<P> {
  /** Members that just became inactive. */
  readonly expired: readonly Member<P>[];
  /** Members removed after the retention period. */
  readonly removed: readonly Member<P>[];
}

/**
 * A table of members keyed by id. Mutating methods return what changed; `version` increases
 * whenever the set of active members or any member's payload changes, for blocking queries.
 */
export class MembershipTable<P> {
  private readonly members = new Map<string, Member<P>>();
  private currentVersion: number;

  constructor(
    readonly config: MembershipConfig,
    initialVersion = 1,
  ) {
    this.currentVersion = initialVersion;
  }

  /** Increases whenever the active set or a member's payload changes. */
  get version(): number {
    return this.currentVersion;
  }

  get size(): number {
    return this.members.size;
  }

  /**
   * Registers a member, or refreshes it when the id is known: a re-registration keeps
   * `registeredAtMs`, replaces the payload, makes it active and counts a recovery if it was not.
   */
  register(id: string, payload: P, nowMs: number): { member: Member<P>; created: boolean } {
    const existing = this.members.get(id);
    if (existing) {
      const recovered = existing.status === 'inactive';
      const changed = !(this.config.payloadEquals ?? jsonEquals)(existing.payload, payload);
      existing.payload = payload;
      this.markAlive(existing, nowMs);
      if (recovered) existing.recoveries += 1;
      // Like a heartbeat: an active member re-registering with the same payload changes nothing.
      if (recovered || changed) this.bump();
      return { member: existing, created: false };
    }
    const member: Member<P> = {
      id,
      payload,
      status: 'active',
      registeredAtMs: nowMs,
      lastHeartbeatMs: nowMs,
      recoveries: 0,
      inactiveSinceMs: undefined,
    };
    this.members.set(id, member);
    this.bump();
    return { member, created: true };
  }

  /** Restores a member as it was persisted (no version change, no recovery counted). */
  restore(member: Member<P>): void {
    this.members.set(member.id, { ...member });
  }

  /** Records a heartbeat; `payload`, when given, replaces the member's payload. */
  heartbeat(id: string, nowMs: number, payload?: P): HeartbeatOutcome<P> {
    const member = this.members.get(id);
    if (!member) return { kind: 'unknown' };
    const recovered = member.status === 'inactive';
    this.markAlive(member, nowMs);
    if (recovered) member.recoveries += 1;
    const changed =
      payload !== undefined && !(this.config.payloadEquals ?? jsonEquals)(member.payload, payload);
    if (payload !== undefined) member.payload = payload;
    if (recovered || changed) this.bump();
    return { kind: 'alive', member, recovered };
  }

  /** Marks silent members inactive and removes those inactive past the retention period. */
  sweep(nowMs: number): SweepOutcome<P> {
    const expired: Member<P>[] = [];
    const removed: Member<P>[] = [];
    for (const member of this.members.values()) {
      if (member.status === 'active' && nowMs - member.lastHeartbeatMs >= this.config.timeoutMs) {
        member.status = 'inactive';
        member.inactiveSinceMs = nowMs;
        expired.push(member);
      } else if (
        member.status === 'inactive' &&
        nowMs - (member.inactiveSinceMs ?? member.lastHeartbeatMs) >= this.config.retentionMs
      ) {
        removed.push(member);
      }
    }
    for (const member of removed) this.members.delete(member.id);
    if (expired.length > 0 || removed.length > 0) this.bump();
    return { expired, removed };
  }

  /** Removes a member (deregistration). Answers the removed member, if any. */
  remove(id: string): Member<P> | undefined {
    const member = this.members.get(id);
    if (!member) return undefined;
    this.members.delete(id);
    this.bump();
    return member;
  }

  /**
   * Gives every active member a fresh heartbeat at `nowMs`: used after a restart of the
   * table's owner, so members are not declared dead for the time the owner was down.
   */
  graceAll(nowMs: number): void {
    for (const member of this.members.values()) {
      if (member.status === 'active')
        member.lastHeartbeatMs = Math.max(member.lastHeartbeatMs, nowMs);
    }
  }

  get(id: string): Member<P> | undefined {
    return this.members.get(id);
  }

  /** All members, optionally only those matching `filter`, in registration order. */
  list(filter?: (member: Member<P>) => boolean): Member<P>[] {
    const all = [...this.members.values()];
    return filter ? all.filter(filter) : all;
  }

  active(): Member<P>[] {
    return this.list((member) => member.status === 'active');
  }

  private markAlive(member: Member<P>, nowMs: number): void {
    member.status = 'active';
    member.lastHeartbeatMs = Math.max(member.lastHeartbeatMs, nowMs);
    member.inactiveSinceMs = undefined;
  }

  private bump(): void {
    this.currentVersion += 1;
  }
}
