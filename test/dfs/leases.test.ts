// Rule (dfs-architecture.md, "sistema de leases"; issue 3): a writer must hold the exclusive
// lease of a path; a lease has a timeout, is renewed and released by its holder, and expires on
// its own when not renewed; a second writer gets a clear conflict (409) naming the holder.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  acquireLease,
  activeLease,
  asLeaseHolder,
  checkLease,
  DEFAULT_LEASE_TIMEOUT_MS,
  EMPTY_LEASE_TABLE,
  expireLeases,
  nextExpiryMs,
  releaseLease,
  renewLease,
  leaseTableOf,
  type Lease,
  type LeaseTable,
} from '../../src/dfs/meta/leases.js';

const alice = asLeaseHolder('alice');
const bob = asLeaseHolder('bob');

function granted(table: LeaseTable, path: string, holder = alice, nowMs = 0, timeoutMs?: number) {
  const result = acquireLease(table, {
    path,
    holder,
    nowMs,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  assert.ok(result.ok, `acquire ${path} by ${holder} refused`);
  return result;
}

describe('leases: examples', () => {
  test('a free path is granted with the default 60 s timeout', () => {
    const { lease } = granted(EMPTY_LEASE_TABLE, '/a', alice, 1000);
    assert.equal(DEFAULT_LEASE_TIMEOUT_MS, 60_000);
    assert.deepEqual(lease, {
      path: '/a',
      holder: 'alice',
      acquiredAtMs: 1000,
      expiresAtMs: 61_000,
      timeoutMs: 60_000,
    });
  });

  test('a second writer gets held, with the holder and the expiry', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 5000);
    assert.deepEqual(acquireLease(table, { path: '/a', holder: bob, nowMs: 100 }), {
      ok: false,
      reason: 'held',
      holder: 'alice',
      expiresAtMs: 5000,
    });
  });

  test('leases on different paths are independent', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice);
    assert.ok(acquireLease(table, { path: '/b', holder: bob, nowMs: 1 }).ok);
  });

  test('the holder acquiring again renews, keeping acquiredAtMs and its timeout', () => {
    const first = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 5000);
    const again = granted(first.table, '/a', alice, 3000);
    assert.equal(again.lease.acquiredAtMs, 0);
    assert.equal(again.lease.expiresAtMs, 8000);
  });

  test('renewal extends the lease; the lease expires exactly at expiresAtMs', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 1000);
    const renewed = renewLease(table, { path: '/a', holder: alice, nowMs: 900 });
    assert.ok(renewed.ok);
    assert.equal(renewed.lease.expiresAtMs, 1900);
    assert.notEqual(activeLease(renewed.table, '/a', 1899), null);
    assert.equal(activeLease(renewed.table, '/a', 1900), null);
  });

  test('only the holder renews; an expired lease cannot be renewed', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 1000);
    assert.deepEqual(renewLease(table, { path: '/a', holder: bob, nowMs: 10 }), {
      ok: false,
      reason: 'held',
      holder: 'alice',
      expiresAtMs: 1000,
    });
    assert.deepEqual(renewLease(table, { path: '/a', holder: alice, nowMs: 1000 }), {
      ok: false,
      reason: 'not-held',
    });
  });

  test('an expired lease is taken over by another writer', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 1000);
    const taken = granted(table, '/a', bob, 1000);
    assert.equal(taken.lease.holder, 'bob');
    assert.equal(taken.lease.acquiredAtMs, 1000);
  });

  test('release frees the path; a repeated release is harmless; others cannot release', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice);
    assert.equal(releaseLease(table, { path: '/a', holder: bob, nowMs: 1 }).ok, false);
    const released = releaseLease(table, { path: '/a', holder: alice, nowMs: 1 });
    assert.ok(released.ok && released.released);
    const again = releaseLease(released.table, { path: '/a', holder: alice, nowMs: 2 });
    assert.ok(again.ok && !again.released);
    assert.ok(acquireLease(released.table, { path: '/a', holder: bob, nowMs: 2 }).ok);
  });

  test('checkLease: holder ok, others held, lapsed not-held', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 1000);
    assert.ok(checkLease(table, { path: '/a', holder: alice, nowMs: 999 }).ok);
    assert.equal(checkLease(table, { path: '/a', holder: bob, nowMs: 999 }).ok, false);
    assert.deepEqual(checkLease(table, { path: '/a', holder: alice, nowMs: 1000 }), {
      ok: false,
      reason: 'not-held',
    });
  });

  test('expireLeases removes and returns exactly the lapsed leases', () => {
    let table = granted(EMPTY_LEASE_TABLE, '/short', alice, 0, 1000).table;
    table = granted(table, '/long', bob, 0, 5000).table;
    assert.equal(nextExpiryMs(table), 1000);
    const { table: after, expired } = expireLeases(table, 1000);
    assert.deepEqual(
      expired.map((l) => l.path),
      ['/short'],
    );
    assert.deepEqual([...after.keys()], ['/long']);
    assert.equal(nextExpiryMs(EMPTY_LEASE_TABLE), null);
  });

  test('the table survives a round trip through its rows, deadlines included', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 1000);
    const restored = leaseTableOf(JSON.parse(JSON.stringify([...table.values()])) as Lease[]);
    assert.deepEqual(restored, table);
    assert.equal(acquireLease(restored, { path: '/a', holder: bob, nowMs: 500 }).ok, false);
  });

  test('odd path names such as __proto__ are ordinary keys', () => {
    const empty = activeLease(EMPTY_LEASE_TABLE, '__proto__', 0);
    assert.equal(empty, null);
    const { table } = granted(EMPTY_LEASE_TABLE, '__proto__', alice);
    assert.equal(activeLease(table, '__proto__', 1)?.holder, 'alice');
    assert.equal(acquireLease(table, { path: '__proto__', holder: bob, nowMs: 1 }).ok, false);
  });

  test('inputs are never mutated', () => {
    const { table } = granted(EMPTY_LEASE_TABLE, '/a', alice, 0, 1000);
    const snapshot = JSON.stringify([...table]);
    renewLease(table, { path: '/a', holder: alice, nowMs: 10 });
    releaseLease(table, { path: '/a', holder: alice, nowMs: 10 });
    expireLeases(table, 5000);
    assert.equal(JSON.stringify([...table]), snapshot);
    assert.equal(EMPTY_LEASE_TABLE.size, 0);
  });
});

// ---- property: random operation sequences against what each holder was promised ----

type Op =
  | {
      kind: 'acquire' | 'renew' | 'release' | 'check';
      path: string;
      holder: string;
      timeoutMs?: number;
    }
  | { kind: 'expire' }
  | { kind: 'advance'; ms: number }
  | { kind: 'persist' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record(
    {
      kind: fc.constantFrom(
        'acquire' as const,
        'renew' as const,
        'release' as const,
        'check' as const,
      ),
      path: fc.constantFrom('/a', '/b'),
      holder: fc.constantFrom('h1', 'h2', 'h3'),
      timeoutMs: fc.integer({ min: 1, max: 3000 }),
    },
    { requiredKeys: ['kind', 'path', 'holder'] },
  ),
  fc.constant({ kind: 'expire' as const }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2000 }) }),
  fc.constant({ kind: 'persist' as const }),
);

/** What the last successful grant on a path promised. */
interface Promised {
  holder: string;
  expiresAtMs: number;
  timeoutMs: number;
}

describe('leases: properties', () => {
  test('at most one holder per path; conflicts name the holder; lapsed or released paths are free', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        let table = EMPTY_LEASE_TABLE;
        let nowMs = 0;
        const promised = new Map<string, Promised>();
        const inForce = (path: string): Promised | undefined => {
          const p = promised.get(path);
          return p !== undefined && nowMs < p.expiresAtMs ? p : undefined;
        };
        for (const op of ops) {
          if (op.kind === 'advance') nowMs += op.ms;
          else if (op.kind === 'persist')
            table = leaseTableOf(JSON.parse(JSON.stringify([...table.values()])) as Lease[]);
          else if (op.kind === 'expire') {
            const result = expireLeases(table, nowMs);
            table = result.table;
            for (const lease of result.expired) {
              assert.ok(inForce(lease.path) === undefined, 'expired a lease still in force');
              promised.delete(lease.path);
            }
          } else table = step(table, op, nowMs, inForce(op.path), promised);
        }
      }),
      { numRuns: 400 },
    );
  });
});

function step(
  table: LeaseTable,
  op: Extract<Op, { path: string }>,
  nowMs: number,
  current: Promised | undefined,
  promised: Map<string, Promised>,
): LeaseTable {
  const holder = asLeaseHolder(op.holder);
  const request = {
    path: op.path,
    holder,
    nowMs,
    ...(op.timeoutMs === undefined ? {} : { timeoutMs: op.timeoutMs }),
  };
  const other = current !== undefined && current.holder !== op.holder ? current : undefined;
  const held = other && {
    ok: false,
    reason: 'held',
    holder: other.holder,
    expiresAtMs: other.expiresAtMs,
  };
  if (op.kind === 'check') {
    const result = checkLease(table, request);
    if (held) assert.deepEqual(result, held);
    else assert.equal(result.ok, current !== undefined);
    return table;
  }
  if (op.kind === 'release') {
    const result = releaseLease(table, request);
    if (held) return (assert.deepEqual(result, held), table);
    assert.ok(result.ok);
    assert.equal(result.released, current !== undefined);
    promised.delete(op.path);
    return result.table;
  }
  const result = op.kind === 'acquire' ? acquireLease(table, request) : renewLease(table, request);
  if (held) return (assert.deepEqual(result, held), table);
  if (op.kind === 'renew' && current === undefined) {
    assert.deepEqual(result, { ok: false, reason: 'not-held' });
    return table;
  }
  assert.ok(result.ok, `${op.kind} by ${op.holder} refused on a free path`);
  const timeoutMs = op.timeoutMs ?? current?.timeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS;
  assert.equal(result.lease.expiresAtMs, nowMs + timeoutMs);
  promised.set(op.path, { holder: op.holder, expiresAtMs: result.lease.expiresAtMs, timeoutMs });
  return result.table;
}
