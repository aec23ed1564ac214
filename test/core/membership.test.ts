// Rule checked (tbfs-registry.md, "Flujo de funcionamiento"; DESIGN.md rule 5): a member that
// sends no heartbeat for HEARTBEAT_TIMEOUT is marked inactive (exactly at the timeout, not
// before); a heartbeat from an inactive member makes it active again and counts a recovery; a
// heartbeat for an unknown id is answered "unknown" so the sender registers again; a member
// inactive for the retention period is removed. The change index (`version`) moves when the set
// of members, their status or their payload changes, and never on a plain heartbeat. The table
// is pure: time is the `nowMs` argument.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MembershipTable, type Member, type MemberStatus } from '../../src/core/membership.js';

const TIMEOUT_MS = 1_000;
const RETENTION_MS = 3_000;

function newTable(): MembershipTable<string> {
  return new MembershipTable<string>({ timeoutMs: TIMEOUT_MS, retentionMs: RETENTION_MS });
}

/** One operation on the table at a time, as the table-driven scripts and the model use it. */
type Op =
  | { readonly kind: 'register'; readonly id: string; readonly payload: string }
  | { readonly kind: 'heartbeat'; readonly id: string; readonly payload?: string }
  | { readonly kind: 'sweep' }
  | { readonly kind: 'remove'; readonly id: string }
  | { readonly kind: 'graceAll' };

interface Step {
  readonly atMs: number;
  readonly op: Op;
  /** Expected status of each id after the step; `absent` for an id not in the table. */
  readonly expect?: Readonly<Record<string, MemberStatus | 'absent'>>;
  readonly recoveries?: Readonly<Record<string, number>>;
  /** Whether `version` moved in this step. */
  readonly bumped?: boolean;
  /** For heartbeats: the expected outcome kind and recovery flag. */
  readonly outcome?: 'unknown' | 'alive' | 'recovered';
}

function apply(table: MembershipTable<string>, op: Op, nowMs: number): string | undefined {
  switch (op.kind) {
    case 'register':
      table.register(op.id, op.payload, nowMs);
      return undefined;
    case 'heartbeat': {
      const outcome = table.heartbeat(op.id, nowMs, op.payload);
      if (outcome.kind === 'unknown') return 'unknown';
      return outcome.recovered ? 'recovered' : 'alive';
    }
    case 'sweep':
      table.sweep(nowMs);
      return undefined;
    case 'remove':
      table.remove(op.id);
      return undefined;
    case 'graceAll':
      table.graceAll(nowMs);
      return undefined;
  }
}

const reg = (atMs: number, id: string, payload = 'p', more: Partial<Step> = {}): Step => ({
  atMs,
  op: { kind: 'register', id, payload },
  ...more,
});
const beat = (atMs: number, id: string, more: Partial<Step> = {}, payload?: string): Step => ({
  atMs,
  op: payload === undefined ? { kind: 'heartbeat', id } : { kind: 'heartbeat', id, payload },
  ...more,
});
const sweep = (atMs: number, more: Partial<Step> = {}): Step => ({
  atMs,
  op: { kind: 'sweep' },
  ...more,
});

const scripts: Record<string, Step[]> = {
  'a new member is active, and registering bumps the version': [
    reg(0, 'a', 'p', { expect: { a: 'active' }, bumped: true, recoveries: { a: 0 } }),
  ],
  'silence just under the timeout keeps a member active': [
    reg(0, 'a'),
    sweep(TIMEOUT_MS - 1, { expect: { a: 'active' }, bumped: false }),
  ],
  'silence of exactly the timeout makes it inactive': [
    reg(0, 'a'),
    sweep(TIMEOUT_MS, { expect: { a: 'inactive' }, bumped: true }),
  ],
  'a heartbeat restarts the timeout': [
    reg(0, 'a'),
    beat(900, 'a', { outcome: 'alive', bumped: false }),
    sweep(900 + TIMEOUT_MS - 1, { expect: { a: 'active' } }),
    sweep(900 + TIMEOUT_MS, { expect: { a: 'inactive' } }),
  ],
  'a heartbeat from an inactive member recovers it and counts one recovery': [
    reg(0, 'a'),
    sweep(TIMEOUT_MS),
    beat(TIMEOUT_MS + 5, 'a', {
      outcome: 'recovered',
      expect: { a: 'active' },
      recoveries: { a: 1 },
      bumped: true,
    }),
    sweep(2 * TIMEOUT_MS + 5, { expect: { a: 'inactive' } }),
    beat(2 * TIMEOUT_MS + 6, 'a', { outcome: 'recovered', recoveries: { a: 2 } }),
  ],
  're-registering an inactive member recovers it too': [
    reg(0, 'a'),
    sweep(TIMEOUT_MS),
    reg(TIMEOUT_MS + 1, 'a', 'p', { expect: { a: 'active' }, recoveries: { a: 1 }, bumped: true }),
  ],
  'a heartbeat for an unknown id is unknown and changes nothing': [
    reg(0, 'a'),
    beat(1, 'ghost', {
      outcome: 'unknown',
      bumped: false,
      expect: { a: 'active', ghost: 'absent' },
    }),
  ],
  'a plain heartbeat does not bump the version; a changed payload does': [
    reg(0, 'a', 'v1'),
    beat(10, 'a', { bumped: false }),
    beat(20, 'a', { bumped: false }, 'v1'),
    beat(30, 'a', { bumped: true }, 'v2'),
    beat(40, 'a', { bumped: false }, 'v2'),
  ],
  're-registering an active member: same payload no bump, new payload bump': [
    reg(0, 'a', 'v1'),
    reg(10, 'a', 'v1', { bumped: false, recoveries: { a: 0 } }),
    reg(20, 'a', 'v2', { bumped: true }),
  ],
  'an inactive member is removed exactly at the retention period': [
    reg(0, 'a'),
    sweep(TIMEOUT_MS, { expect: { a: 'inactive' } }),
    sweep(TIMEOUT_MS + RETENTION_MS - 1, { expect: { a: 'inactive' }, bumped: false }),
    sweep(TIMEOUT_MS + RETENTION_MS, { expect: { a: 'absent' }, bumped: true }),
    beat(TIMEOUT_MS + RETENTION_MS + 1, 'a', { outcome: 'unknown' }),
  ],
  'a sweep with nothing to do does not bump': [reg(0, 'a'), sweep(1, { bumped: false })],
  'one sweep expires several members': [
    reg(0, 'a'),
    reg(100, 'b'),
    reg(600, 'c'),
    sweep(1_100, { expect: { a: 'inactive', b: 'inactive', c: 'active' }, bumped: true }),
  ],
  'removal bumps; removing an unknown id does not': [
    reg(0, 'a'),
    { atMs: 1, op: { kind: 'remove', id: 'a' }, expect: { a: 'absent' }, bumped: true },
    { atMs: 2, op: { kind: 'remove', id: 'a' }, bumped: false },
  ],
  'graceAll gives active members a fresh timeout and leaves inactive ones alone': [
    reg(0, 'a'),
    reg(0, 'b'),
    sweep(TIMEOUT_MS, { expect: { a: 'inactive', b: 'inactive' } }),
    reg(TIMEOUT_MS, 'b'),
    {
      atMs: 5_000,
      op: { kind: 'graceAll' },
      bumped: false,
      expect: { a: 'inactive', b: 'active' },
    },
    sweep(5_000 + TIMEOUT_MS - 1, { expect: { b: 'active' } }),
    sweep(5_000 + TIMEOUT_MS, { expect: { b: 'inactive' } }),
  ],
  'a late heartbeat with an older time does not move the last heartbeat back': [
    reg(500, 'a'),
    beat(100, 'a'),
    sweep(500 + TIMEOUT_MS - 1, { expect: { a: 'active' } }),
  ],
};

describe('membership table scripts', () => {
  for (const [name, steps] of Object.entries(scripts)) {
    test(name, () => {
      const table = newTable();
      for (const [index, step] of steps.entries()) {
        const where = `step ${index} (${step.op.kind} at ${step.atMs})`;
        const before = table.version;
        const outcome = apply(table, step.op, step.atMs);
        if (step.outcome !== undefined) assert.equal(outcome, step.outcome, where);
        if (step.bumped !== undefined)
          assert.equal(table.version > before, step.bumped, `${where}: bumped`);
        for (const [id, status] of Object.entries(step.expect ?? {})) {
          assert.equal(table.get(id)?.status ?? 'absent', status, `${where}: status of ${id}`);
        }
        for (const [id, count] of Object.entries(step.recoveries ?? {})) {
          assert.equal(table.get(id)?.recoveries, count, `${where}: recoveries of ${id}`);
        }
      }
    });
  }
});

describe('membership table details', () => {
  test('re-registration keeps registeredAtMs and replaces the payload', () => {
    const table = newTable();
    table.register('a', 'v1', 100);
    const { member, created } = table.register('a', 'v2', 200);
    assert.equal(created, false);
    assert.equal(member.registeredAtMs, 100);
    assert.equal(member.lastHeartbeatMs, 200);
    assert.equal(member.payload, 'v2');
  });

  test('sweep reports who expired and who was removed', () => {
    const table = newTable();
    table.register('old', 'p', 0);
    table.sweep(TIMEOUT_MS);
    table.register('new', 'p', RETENTION_MS);
    const outcome = table.sweep(TIMEOUT_MS + RETENTION_MS + 500);
    assert.deepEqual(
      outcome.expired.map((m) => m.id),
      ['new'],
    );
    assert.deepEqual(
      outcome.removed.map((m) => m.id),
      ['old'],
    );
    assert.equal(table.size, 1);
    assert.equal(table.get('new')?.inactiveSinceMs, TIMEOUT_MS + RETENTION_MS + 500);
  });

  test('list keeps registration order; active() filters', () => {
    const table = newTable();
    for (const [i, id] of ['c', 'a', 'b'].entries()) table.register(id, 'p', i * 600);
    table.sweep(1_100);
    assert.deepEqual(
      table.list().map((m) => m.id),
      ['c', 'a', 'b'],
    );
    assert.deepEqual(
      table.active().map((m) => m.id),
      ['a', 'b'],
    );
  });

  test('restore brings back a persisted member without a version change or a recovery', () => {
    const table = new MembershipTable<string>(
      { timeoutMs: TIMEOUT_MS, retentionMs: RETENTION_MS },
      41,
    );
    const member: Member<string> = {
      id: 'a',
      payload: 'p',
      status: 'inactive',
      registeredAtMs: 1,
      lastHeartbeatMs: 2,
      recoveries: 3,
      inactiveSinceMs: 4,
    };
    table.restore(member);
    assert.equal(table.version, 41);
    assert.deepEqual(table.get('a'), member);
    assert.notEqual(table.get('a'), member, 'the table keeps its own copy');
  });

  test('a custom payloadEquals decides what counts as a change', () => {
    const table = new MembershipTable<{ load: number; rack: string }>({
      timeoutMs: TIMEOUT_MS,
      retentionMs: RETENTION_MS,
      payloadEquals: (a, b) => (a as { rack: string }).rack === (b as { rack: string }).rack,
    });
    table.register('a', { load: 1, rack: 'r1' }, 0);
    const before = table.version;
    table.heartbeat('a', 10, { load: 9, rack: 'r1' });
    assert.equal(table.version, before, 'a load change is not a change');
    assert.equal(table.get('a')?.payload.load, 9, 'but the payload is replaced');
    table.heartbeat('a', 20, { load: 9, rack: 'r2' });
    assert.equal(table.version, before + 1);
  });
});

// ---- Property test against a simple model -------------------------------------------------

interface ModelMember {
  status: MemberStatus;
  payload: string;
  lastMs: number;
  inactiveSinceMs: number | undefined;
  recoveries: number;
}

/**
 * The rules of the seed, written as plainly as possible, independent of the table's code.
 * Answers the heartbeat outcome for heartbeats.
 */
function modelApply(model: Map<string, ModelMember>, op: Op, nowMs: number): string | undefined {
  const alive = (m: ModelMember): void => {
    if (m.status === 'inactive') m.recoveries += 1;
    m.status = 'active';
    m.lastMs = Math.max(m.lastMs, nowMs);
    m.inactiveSinceMs = undefined;
  };
  switch (op.kind) {
    case 'register': {
      const m = model.get(op.id);
      if (!m) {
        model.set(op.id, {
          status: 'active',
          payload: op.payload,
          lastMs: nowMs,
          inactiveSinceMs: undefined,
          recoveries: 0,
        });
        return undefined;
      }
      alive(m);
      m.payload = op.payload;
      return undefined;
    }
    case 'heartbeat': {
      const m = model.get(op.id);
      if (!m) return 'unknown';
      const wasInactive = m.status === 'inactive';
      alive(m);
      if (op.payload !== undefined) m.payload = op.payload;
      return wasInactive ? 'recovered' : 'alive';
    }
    case 'sweep':
      for (const [id, m] of [...model]) {
        if (m.status === 'active' && nowMs >= m.lastMs + TIMEOUT_MS) {
          m.status = 'inactive';
          m.inactiveSinceMs = nowMs;
        } else if (m.status === 'inactive' && nowMs >= (m.inactiveSinceMs ?? 0) + RETENTION_MS) {
          model.delete(id);
        }
      }
      return undefined;
    case 'remove':
      model.delete(op.id);
      return undefined;
    case 'graceAll':
      for (const m of model.values())
        if (m.status === 'active') m.lastMs = Math.max(m.lastMs, nowMs);
      return undefined;
  }
}

/** What a blocking query can observe: the members, their status and payload. */
function observable(
  entries: Iterable<[string, { status: MemberStatus; payload: string }]>,
): string {
  return JSON.stringify(
    [...entries]
      .map(([id, m]) => [id, m.status, m.payload])
      .sort(([a], [b]) => String(a).localeCompare(String(b))),
  );
}

const idArb = fc.constantFrom('a', 'b', 'c');
const payloadArb = fc.constantFrom('v1', 'v2');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      id: idArb,
      payload: payloadArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant('heartbeat' as const), id: idArb }),
      fc.record({ kind: fc.constant('heartbeat' as const), id: idArb, payload: payloadArb }),
    ),
  },
  { weight: 4, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), id: idArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'graceAll' as const }) },
);
// Gaps include the exact timeout and retention so the boundaries are hit often.
const gapArb = fc.oneof(
  fc.integer({ min: 0, max: 1_500 }),
  fc.constantFrom(0, TIMEOUT_MS - 1, TIMEOUT_MS, RETENTION_MS - 1, RETENTION_MS),
);
const eventsArb = fc.array(fc.tuple(gapArb, opArb), { minLength: 1, maxLength: 60 });

describe('membership table against a model', () => {
  test('statuses, recoveries, heartbeat outcomes and version changes agree with the model', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        const table = newTable();
        const model = new Map<string, ModelMember>();
        let nowMs = 0;
        for (const [gapMs, op] of events) {
          nowMs += gapMs;
          const seenBefore = observable(model);
          const versionBefore = table.version;
          const actual = apply(table, op, nowMs);
          const expected = modelApply(model, op, nowMs);
          assert.equal(actual, expected, `outcome of ${op.kind} at ${nowMs}`);
          assert.deepEqual(
            table
              .list()
              .map((m) => [m.id, m.status, m.payload, m.lastHeartbeatMs, m.recoveries])
              .sort(),
            [...model].map(([id, m]) => [id, m.status, m.payload, m.lastMs, m.recoveries]).sort(),
          );
          const changed = observable(model) !== seenBefore;
          assert.ok(table.version >= versionBefore, 'the version never goes back');
          assert.equal(
            table.version > versionBefore,
            changed,
            `version bump on ${op.kind} at ${nowMs}`,
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  test('after a sweep no active member has been silent for the timeout', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        const table = newTable();
        let nowMs = 0;
        for (const [gapMs, op] of events) {
          nowMs += gapMs;
          apply(table, op, nowMs);
          table.sweep(nowMs);
          for (const member of table.active())
            assert.ok(nowMs - member.lastHeartbeatMs < TIMEOUT_MS);
          for (const member of table.list((m) => m.status === 'inactive')) {
            assert.ok(
              member.inactiveSinceMs !== undefined && nowMs - member.inactiveSinceMs < RETENTION_MS,
            );
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
