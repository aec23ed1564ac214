// Rule checked (poneglyph-reduce.md, "Circuit Breakers"): CLOSED -> OPEN after 5 consecutive
// failures -> HALF_OPEN after a 60 s recovery timeout -> CLOSED after 3 successful calls;
// a failure while HALF_OPEN opens the circuit again. Time is a fake clock: no test sleeps.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CircuitBreaker,
  breakerAllows,
  breakerPeerBack,
  breakerRetryAfterMs,
  breakerStep,
  circuitStateValue,
  defaultBreakerConfig,
  initialBreaker,
  resolveBreakerConfig,
  type Breaker,
  type BreakerEvent,
  type CircuitState,
} from '../../src/core/breaker.js';
import { ManualClock } from '../../src/core/clock.js';

/** One line of a script: at time `atMs`, report an event or just ask; then expect. */
interface Step {
  readonly atMs: number;
  readonly event?: BreakerEvent;
  readonly expect: CircuitState;
  /** Whether a call would be admitted after this step (checked with breakerAllows). */
  readonly allowed?: boolean;
  readonly consecutiveFailures?: number;
}

const fail = (atMs: number, expect: CircuitState, consecutiveFailures?: number): Step =>
  consecutiveFailures === undefined
    ? { atMs, event: 'failure', expect }
    : { atMs, event: 'failure', expect, consecutiveFailures };
const succeed = (atMs: number, expect: CircuitState): Step => ({ atMs, event: 'success', expect });
const ask = (atMs: number, expect: CircuitState, allowed: boolean): Step => ({
  atMs,
  expect,
  allowed,
});

const scripts: Record<string, Step[]> = {
  'five consecutive failures open the circuit': [
    fail(0, 'CLOSED', 1),
    fail(1, 'CLOSED', 2),
    fail(2, 'CLOSED', 3),
    fail(3, 'CLOSED', 4),
    ask(3, 'CLOSED', true),
    fail(4, 'OPEN', 5),
    ask(5, 'OPEN', false),
  ],
  'a success resets the count of consecutive failures': [
    fail(0, 'CLOSED', 1),
    fail(0, 'CLOSED', 2),
    fail(0, 'CLOSED', 3),
    fail(0, 'CLOSED', 4),
    succeed(1, 'CLOSED'),
    fail(2, 'CLOSED', 1),
    fail(2, 'CLOSED', 2),
    fail(2, 'CLOSED', 3),
    fail(2, 'CLOSED', 4),
    ask(2, 'CLOSED', true),
  ],
  'open refuses calls until 60 s have passed, then lets trials through': [
    ...Array.from({ length: 4 }, () => fail(1_000, 'CLOSED')),
    fail(1_000, 'OPEN'),
    ask(30_000, 'OPEN', false),
    ask(60_999, 'OPEN', false),
    ask(61_000, 'HALF_OPEN', true),
  ],
  'three successes in half-open close the circuit': [
    ...Array.from({ length: 4 }, () => fail(0, 'CLOSED')),
    fail(0, 'OPEN'),
    succeed(60_000, 'HALF_OPEN'),
    succeed(60_001, 'HALF_OPEN'),
    succeed(60_002, 'CLOSED'),
    ask(60_003, 'CLOSED', true),
  ],
  'a failure in half-open reopens at once and restarts the 60 s': [
    ...Array.from({ length: 4 }, () => fail(0, 'CLOSED')),
    fail(0, 'OPEN'),
    succeed(60_000, 'HALF_OPEN'),
    succeed(60_000, 'HALF_OPEN'),
    fail(70_000, 'OPEN', 1),
    ask(129_999, 'OPEN', false),
    ask(130_000, 'HALF_OPEN', true),
    succeed(130_000, 'HALF_OPEN'),
    succeed(130_000, 'HALF_OPEN'),
    succeed(130_000, 'CLOSED'),
  ],
  'outcomes reported while open (calls admitted earlier) change nothing': [
    ...Array.from({ length: 4 }, () => fail(0, 'CLOSED')),
    fail(0, 'OPEN', 5),
    succeed(10, 'OPEN'),
    succeed(20, 'OPEN'),
    succeed(30, 'OPEN'),
    fail(40, 'OPEN', 5),
    ask(59_999, 'OPEN', false),
    ask(60_000, 'HALF_OPEN', true),
  ],
};

function replay(steps: readonly Step[]): Breaker {
  const config = defaultBreakerConfig;
  let breaker = initialBreaker;
  steps.forEach((step, index) => {
    const where = `step ${index} at ${step.atMs} ms`;
    if (step.event) breaker = breakerStep(breaker, step.event, step.atMs, config);
    const gate = breakerAllows(breaker, step.atMs, config);
    breaker = gate.breaker;
    assert.equal(breaker.state, step.expect, where);
    if (step.allowed !== undefined) assert.equal(gate.allowed, step.allowed, where);
    if (step.consecutiveFailures !== undefined) {
      assert.equal(breaker.consecutiveFailures, step.consecutiveFailures, where);
    }
  });
  return breaker;
}

describe('breakerStep / breakerAllows (default thresholds 5, 60 s, 3)', () => {
  for (const [name, steps] of Object.entries(scripts)) test(name, () => void replay(steps));

  test('transitions and opens are counted for metrics', () => {
    const end = replay(scripts['a failure in half-open reopens at once and restarts the 60 s']!);
    // CLOSED->OPEN, OPEN->HALF_OPEN, HALF_OPEN->OPEN, OPEN->HALF_OPEN, HALF_OPEN->CLOSED.
    assert.equal(end.transitions, 5);
    assert.equal(end.opens, 2);
    assert.equal(end.openedAtMs, null);
  });

  test('retry-after counts down the open period', () => {
    const opened = replay(scripts['five consecutive failures open the circuit']!);
    assert.equal(opened.openedAtMs, 4);
    assert.equal(breakerRetryAfterMs(opened, 4, defaultBreakerConfig), 60_000);
    assert.equal(breakerRetryAfterMs(opened, 30_004, defaultBreakerConfig), 30_000);
    assert.equal(breakerRetryAfterMs(initialBreaker, 0, defaultBreakerConfig), 0);
  });

  test('thresholds are configurable', () => {
    const config = resolveBreakerConfig({ failureThreshold: 2, openMs: 500, successThreshold: 1 });
    let breaker = breakerStep(initialBreaker, 'failure', 0, config);
    breaker = breakerStep(breaker, 'failure', 0, config);
    assert.equal(breaker.state, 'OPEN');
    assert.equal(breakerAllows(breaker, 499, config).allowed, false);
    breaker = breakerStep(breaker, 'success', 500, config);
    assert.equal(breaker.state, 'CLOSED');
  });

  test('invalid thresholds are programmer mistakes', () => {
    assert.throws(() => resolveBreakerConfig({ failureThreshold: 0 }));
    assert.throws(() => resolveBreakerConfig({ successThreshold: 1.5 }));
    assert.throws(() => resolveBreakerConfig({ openMs: -1 }));
  });

  test('metric encoding: 0 closed, 1 half-open, 2 open', () => {
    assert.deepEqual((['CLOSED', 'HALF_OPEN', 'OPEN'] as const).map(circuitStateValue), [0, 1, 2]);
  });

  test('property: calls are refused exactly while OPEN and younger than openMs; opening takes the threshold', () => {
    const config = resolveBreakerConfig({ failureThreshold: 3, openMs: 100, successThreshold: 2 });
    const input = fc.array(
      fc.record({ gapMs: fc.integer({ min: 0, max: 60 }), failed: fc.boolean() }),
      { maxLength: 200 },
    );
    fc.assert(
      fc.property(input, (events) => {
        let breaker = initialBreaker;
        let nowMs = 0;
        let closedFailureRun = 0;
        for (const { gapMs, failed } of events) {
          nowMs += gapMs;
          const gate = breakerAllows(breaker, nowMs, config);
          const young = breaker.openedAtMs !== null && nowMs - breaker.openedAtMs < config.openMs;
          assert.equal(gate.allowed, !(breaker.state === 'OPEN' && young));
          if (!gate.allowed) continue;
          const before = gate.breaker;
          breaker = breakerStep(before, failed ? 'failure' : 'success', nowMs, config);
          if (before.state === 'CLOSED') closedFailureRun = failed ? closedFailureRun + 1 : 0;
          if (before.state === 'CLOSED' && breaker.state === 'OPEN') {
            assert.equal(closedFailureRun, config.failureThreshold);
          }
          if (breaker.state !== 'CLOSED') closedFailureRun = 0;
          assert.notEqual(before.state === 'CLOSED' && breaker.state === 'HALF_OPEN', true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('CircuitBreaker (stateful wrapper on a Clock)', () => {
  test('opens, half-opens lazily on the clock, closes, and reports each transition', () => {
    const clock = new ManualClock(1_000);
    const seen: string[] = [];
    const breaker = new CircuitBreaker(clock, {}, (from, to) => seen.push(`${from}->${to.state}`));
    for (let i = 0; i < 5; i += 1) {
      assert.equal(breaker.allows(), true);
      breaker.record('failure');
    }
    assert.equal(breaker.allows(), false);
    assert.equal(breaker.retryAfterMs(), 60_000);
    clock.advance(59_999);
    assert.equal(breaker.snapshot().state, 'OPEN');
    clock.advance(1);
    assert.equal(breaker.snapshot().state, 'HALF_OPEN');
    for (let i = 0; i < 3; i += 1) {
      assert.equal(breaker.allows(), true);
      breaker.record('success');
    }
    assert.equal(breaker.snapshot().state, 'CLOSED');
    assert.deepEqual(seen, ['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->CLOSED']);
    assert.equal(breaker.snapshot().transitions, 3);
  });
});

describe('breakerPeerBack (outside evidence that the peer is back)', () => {
  test('an open circuit half-opens at once; three successes close it, a failure opens it again', () => {
    const clock = new ManualClock(1_000);
    const breaker = new CircuitBreaker(clock);
    for (let i = 0; i < 5; i += 1) breaker.record('failure');
    assert.equal(breaker.allows(), false);
    breaker.peerBack();
    assert.equal(breaker.snapshot().state, 'HALF_OPEN');
    assert.equal(breaker.allows(), true);
    breaker.record('failure');
    assert.equal(breaker.snapshot().state, 'OPEN', 'a failed trial opens it for openMs again');
    assert.equal(breaker.retryAfterMs(), 60_000);
    breaker.peerBack();
    for (let i = 0; i < 3; i += 1) breaker.record('success');
    assert.equal(breaker.snapshot().state, 'CLOSED');
  });

  test('changes nothing unless the circuit is open', () => {
    const halfOpen: Breaker = {
      ...initialBreaker,
      state: 'HALF_OPEN',
      halfOpenSuccesses: 2,
      openedAtMs: 0,
    };
    assert.equal(breakerPeerBack(initialBreaker), initialBreaker);
    assert.equal(breakerPeerBack(halfOpen), halfOpen);
  });
});
