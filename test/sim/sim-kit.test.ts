// Rule checked (DESIGN.md, rule 2; tigerbeetle's packet simulator): a simulation driven by one
// seed replays exactly; the network delays within its bounds, drops, duplicates, loses messages
// to crashed or partitioned nodes; timers replace and clear; a failing seed names itself.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventQueue,
  SimNetwork,
  SimTimers,
  Simulation,
  forEachSeed,
  seedRange,
  summarize,
  type Envelope,
} from './index.js';

function trace(seed: number): string[] {
  const sim = new Simulation(seed);
  const log: string[] = [];
  const net = new SimNetwork<number, string>(
    sim,
    (e) => log.push(`${sim.nowMs.toFixed(3)} ${e.from}->${e.to} ${e.msg}`),
    { minDelayMs: 1, maxDelayMs: 50, dropRate: 0.2, duplicateRate: 0.2 },
  );
  for (let i = 0; i < 50; i++) net.send(i % 3, (i + 1) % 3, `m${i}`);
  sim.runUntilIdle();
  return log;
}

describe('event queue', () => {
  test('runs events by time, then by scheduling order, and skips cancelled ones', () => {
    const queue = new EventQueue();
    const order: string[] = [];
    queue.push(5, () => order.push('b'));
    queue.push(1, () => order.push('a'));
    const cancelled = queue.push(3, () => order.push('x'));
    queue.push(5, () => order.push('c'));
    queue.cancel(cancelled);
    assert.equal(queue.size, 3);
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) e.run();
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(queue.size, 0);
  });
});

describe('simulation', () => {
  test('one seed replays the same trace; another seed gives another', () => {
    assert.deepEqual(trace(7), trace(7));
    assert.notDeepEqual(trace(7), trace(8));
  });

  test('the clock moves only with events and runUntil', () => {
    const sim = new Simulation(1);
    const seen: number[] = [];
    sim.schedule(10, () => seen.push(sim.nowMs));
    sim.schedule(30, () => seen.push(sim.nowMs));
    sim.runUntil(20);
    assert.deepEqual(seen, [10]);
    assert.equal(sim.nowMs, 20);
    sim.runUntilIdle();
    assert.deepEqual(seen, [10, 30]);
  });

  test('an endless event chain hits the event budget instead of hanging', () => {
    const sim = new Simulation(1);
    const loop = (): void => void sim.schedule(1, loop);
    loop();
    assert.throws(() => sim.runUntilIdle({ maxEvents: 100 }), /seed=1: event budget/);
  });
});

describe('network', () => {
  function setup(faults = { minDelayMs: 5, maxDelayMs: 20, dropRate: 0, duplicateRate: 0 }) {
    const sim = new Simulation(42);
    const got: Envelope<string, number>[] = [];
    const net = new SimNetwork<string, number>(sim, (e) => got.push(e), faults);
    return { sim, got, net };
  }

  test('delivery times stay within the delay bounds and reorder messages', () => {
    const sim = new Simulation(3);
    const times: number[] = [];
    const order: number[] = [];
    const net = new SimNetwork<number, number>(
      sim,
      (e) => {
        times.push(sim.nowMs - e.sentAtMs);
        order.push(e.msg);
      },
      { minDelayMs: 5, maxDelayMs: 20, dropRate: 0, duplicateRate: 0 },
    );
    for (let i = 0; i < 100; i++) net.send(1, 2, i);
    sim.runUntilIdle();
    const s = summarize(times);
    assert.ok(s.min >= 5 && s.max <= 20, `delays ${s.min}..${s.max}`);
    assert.notDeepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  test('drops and duplicates at roughly the configured rates', () => {
    const { sim, got, net } = setup({
      minDelayMs: 1,
      maxDelayMs: 2,
      dropRate: 0.3,
      duplicateRate: 0.2,
    });
    for (let i = 0; i < 2000; i++) net.send('a', 'b', i);
    sim.runUntilIdle();
    assert.ok(net.stats.dropped > 500 && net.stats.dropped < 700, `dropped ${net.stats.dropped}`);
    assert.ok(net.stats.duplicated > 200 && net.stats.duplicated < 360);
    assert.equal(got.length, 2000 - net.stats.dropped + net.stats.duplicated);
  });

  test('a crashed node refuses new messages and loses those in flight, even after restart', () => {
    const { sim, got, net } = setup();
    net.send('a', 'b', 1);
    net.crash('b');
    assert.equal(net.send('a', 'b', 2), 'refused');
    net.restart('b');
    sim.runUntilIdle();
    assert.equal(got.length, 0);
    assert.equal(net.send('a', 'b', 3), 'sent');
    sim.runUntilIdle();
    assert.deepEqual(
      got.map((e) => e.msg),
      [3],
    );
  });

  test('a partition cuts groups apart until healed', () => {
    const { sim, got, net } = setup();
    net.partition([['a', 'b'], ['c']]);
    assert.equal(net.canReach('a', 'b'), true);
    assert.equal(net.canReach('a', 'c'), false);
    assert.equal(net.canReach('d', 'e'), true, 'unlisted nodes share a group');
    net.send('a', 'c', 1);
    net.send('a', 'b', 2);
    sim.runUntilIdle();
    assert.deepEqual(
      got.map((e) => e.msg),
      [2],
    );
    net.heal();
    net.send('a', 'c', 3);
    sim.runUntilIdle();
    assert.deepEqual(
      got.map((e) => e.msg),
      [2, 3],
    );
  });
});

describe('timers', () => {
  test('setting a timer again replaces it; clear cancels all of a node', () => {
    const sim = new Simulation(1);
    const timers = new SimTimers<number, 'x' | 'y'>(sim);
    const fired: string[] = [];
    timers.set(1, 'x', 10, () => fired.push('x1'));
    timers.set(1, 'x', 20, () => fired.push('x2'));
    timers.set(1, 'y', 5, () => fired.push('y'));
    timers.set(2, 'x', 5, () => fired.push('other'));
    assert.deepEqual(timers.pending(1).sort(), ['x', 'y']);
    timers.clear(2);
    sim.runUntilIdle();
    assert.deepEqual(fired, ['y', 'x2']);
    assert.deepEqual(timers.pending(1), []);
  });
});

describe('seeds', () => {
  test('a failure names its seed', () => {
    assert.throws(
      () =>
        forEachSeed(seedRange(10, 5), (seed) => {
          if (seed === 12) throw new Error('boom');
        }),
      /seed=12: boom/,
    );
  });
});
