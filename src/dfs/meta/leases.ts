/**
 * Write leases (dfs-architecture.md, "sistema de leases"): a client must hold the exclusive
 * lease of a path to write it; a lease has a timeout, is renewed by its holder, released by its
 * holder, and expires on its own when the holder stops renewing it.
 *
 * Pure: `nowMs` comes from the caller; every function returns a new table and never mutates
 * its input. The table maps path -> lease (a Map: copying one is a native operation, where an
 * object spread of many odd keys was a measurable share of the master's CPU); the master
 * persists the leases as rows in SQLite and loads them back after a restart; expiry times are
 * absolute, so a lease keeps its deadline across a restart.
 *
 * Expected outcomes are values: a conflict is `{ ok: false, reason: 'held', holder,
 * expiresAtMs }`, which the HTTP layer answers with 409.
 */
import assert from 'node:assert/strict';
import type { Brand } from './types.js';

/** Who holds a lease: an opaque id the client chooses (e.g. a UUID per upload). */
export type LeaseHolder = Brand<string, 'LeaseHolder'>;

/** `value` as a `LeaseHolder`; throws a `TypeError` on an empty string. */
export function asLeaseHolder(value: string): LeaseHolder {
  if (value.length === 0) throw new TypeError('a lease holder cannot be empty');
  return value as LeaseHolder;
}

/** The lease timeout when the caller does not choose one. */
export const DEFAULT_LEASE_TIMEOUT_MS = 60_000;

/** One exclusive write lease on one path. */
export interface Lease {
  readonly path: string;
  readonly holder: LeaseHolder;
  /** When the holder first acquired it (kept across renewals). */
  readonly acquiredAtMs: number;
  /** When it lapses unless renewed; the lease is valid while `nowMs < expiresAtMs`. */
  readonly expiresAtMs: number;
  /** The timeout it was acquired with; renewals reuse it unless told otherwise. */
  readonly timeoutMs: number;
}

/** Every lease by path. */
export type LeaseTable = ReadonlyMap<string, Lease>;

/** The table with no leases. */
export const EMPTY_LEASE_TABLE: LeaseTable = new Map();

/** A table of the given leases (e.g. loaded from the store). */
export function leaseTableOf(leases: Iterable<Lease>): LeaseTable {
  return new Map([...leases].map((lease) => [lease.path, lease]));
}

/** The table without the lease on `path` (whoever holds it). */
export function withoutLease(table: LeaseTable, path: string): LeaseTable {
  return table.has(path) ? withoutPaths(table, [path]) : table;
}

/** Someone else holds the lease. */
export interface LeaseHeld {
  readonly ok: false;
  readonly reason: 'held';
  readonly holder: LeaseHolder;
  readonly expiresAtMs: number;
}

/** The caller holds no (unexpired) lease on the path. */
export interface LeaseNotHeld {
  readonly ok: false;
  readonly reason: 'not-held';
}

/** The lease is granted or renewed. */
export interface LeaseGranted {
  readonly ok: true;
  readonly table: LeaseTable;
  readonly lease: Lease;
}

/** A request about one path by one holder at one time. */
export interface LeaseRequest {
  readonly path: string;
  readonly holder: LeaseHolder;
  readonly nowMs: number;
  /** Default: `DEFAULT_LEASE_TIMEOUT_MS` on acquire, the lease's own timeout on renew. */
  readonly timeoutMs?: number;
}

/** The lease on `path` if one is in force at `nowMs`, else null. */
export function activeLease(table: LeaseTable, path: string, nowMs: number): Lease | null {
  const lease = table.get(path);
  return lease !== undefined && nowMs < lease.expiresAtMs ? lease : null;
}

/**
 * Grants the lease on `path` to `holder` if nobody else holds it in force. Acquiring a lease
 * one already holds renews it (so a retried acquire is harmless); an expired lease of anyone
 * is taken over.
 */
export function acquireLease(table: LeaseTable, request: LeaseRequest): LeaseGranted | LeaseHeld {
  const current = activeLease(table, request.path, request.nowMs);
  if (current !== null && current.holder !== request.holder) return heldBy(current);
  const timeoutMs = request.timeoutMs ?? current?.timeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS;
  assertTimeout(timeoutMs);
  const lease: Lease = {
    path: request.path,
    holder: request.holder,
    acquiredAtMs: current?.acquiredAtMs ?? request.nowMs,
    expiresAtMs: request.nowMs + timeoutMs,
    timeoutMs,
  };
  return { ok: true, table: withLease(table, lease), lease };
}

/**
 * Extends the holder's lease to `nowMs + timeoutMs`. Only a lease still in force can be
 * renewed: once it expired, the path may already belong to someone else, and the old holder
 * must acquire it again (and find out whether its upload survived).
 */
export function renewLease(
  table: LeaseTable,
  request: LeaseRequest,
): LeaseGranted | LeaseHeld | LeaseNotHeld {
  const current = activeLease(table, request.path, request.nowMs);
  if (current === null) return { ok: false, reason: 'not-held' };
  if (current.holder !== request.holder) return heldBy(current);
  const timeoutMs = request.timeoutMs ?? current.timeoutMs;
  assertTimeout(timeoutMs);
  const lease: Lease = { ...current, expiresAtMs: request.nowMs + timeoutMs, timeoutMs };
  return { ok: true, table: withLease(table, lease), lease };
}

/**
 * Gives the lease up. Releasing a lease one does not hold (never acquired, expired, already
 * released) succeeds with `released: false`, so a retried release is harmless; releasing
 * someone else's lease in force fails with `held`.
 */
export function releaseLease(
  table: LeaseTable,
  request: Omit<LeaseRequest, 'timeoutMs'>,
): { readonly ok: true; readonly table: LeaseTable; readonly released: boolean } | LeaseHeld {
  const current = activeLease(table, request.path, request.nowMs);
  if (current !== null && current.holder !== request.holder) return heldBy(current);
  if (!table.has(request.path)) return { ok: true, table, released: false };
  return { ok: true, table: withoutPaths(table, [request.path]), released: current !== null };
}

/**
 * Whether `holder` holds the lease on `path` in force at `nowMs` (checked at commit: a writer
 * whose lease lapsed must not commit).
 */
export function checkLease(
  table: LeaseTable,
  request: Omit<LeaseRequest, 'timeoutMs'>,
): { readonly ok: true; readonly lease: Lease } | LeaseHeld | LeaseNotHeld {
  const current = activeLease(table, request.path, request.nowMs);
  if (current === null) return { ok: false, reason: 'not-held' };
  if (current.holder !== request.holder) return heldBy(current);
  return { ok: true, lease: current };
}

/**
 * Removes every lease that lapsed by `nowMs` and returns them, so the master can abort the
 * uploads they guarded and collect their chunks.
 */
export function expireLeases(
  table: LeaseTable,
  nowMs: number,
): { readonly table: LeaseTable; readonly expired: readonly Lease[] } {
  const expired = [...table.values()].filter((lease) => nowMs >= lease.expiresAtMs);
  if (expired.length === 0) return { table, expired };
  return {
    table: withoutPaths(
      table,
      expired.map((l) => l.path),
    ),
    expired,
  };
}

/** The earliest expiry in the table (for the driver's timer), or null when it is empty. */
export function nextExpiryMs(table: LeaseTable): number | null {
  let next: number | null = null;
  for (const lease of table.values()) {
    if (next === null || lease.expiresAtMs < next) next = lease.expiresAtMs;
  }
  return next;
}

function heldBy(lease: Lease): LeaseHeld {
  return { ok: false, reason: 'held', holder: lease.holder, expiresAtMs: lease.expiresAtMs };
}

function assertTimeout(timeoutMs: number): void {
  assert.ok(Number.isFinite(timeoutMs) && timeoutMs > 0, 'a lease timeout must be positive');
}

function withLease(table: LeaseTable, lease: Lease): LeaseTable {
  return new Map(table).set(lease.path, lease);
}

function withoutPaths(table: LeaseTable, paths: readonly string[]): LeaseTable {
  const next = new Map(table);
  for (const path of paths) next.delete(path);
  return next;
}
