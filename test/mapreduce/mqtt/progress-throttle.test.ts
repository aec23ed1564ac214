// Rule checked (brief of the MQTT bridge; docs/mqtt.md, "Progress"): progress goes out at most
// once per interval per job; the first update after a quiet interval goes out at once, later ones
// are coalesced and the latest goes out when the interval ends; a job's end flushes its pending
// update; jobs are throttled independently; the number of tracked jobs is bounded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProgressThrottle } from '../../../src/mapreduce/mqtt/progress-throttle.pure.js';

describe('ProgressThrottle', () => {
  test('leading update at once, trailing update at the end of the interval', () => {
    const throttle = new ProgressThrottle<number>(250);
    assert.deepEqual(throttle.offer('j1', 1, 1000), { publish: 1 });
    assert.deepEqual(throttle.offer('j1', 2, 1010), { wakeInMs: 240 });
    assert.deepEqual(throttle.offer('j1', 3, 1100), {});
    assert.equal(throttle.wake('j1', 1250), 3);
    assert.equal(throttle.wake('j1', 1500), undefined);
    assert.deepEqual(throttle.offer('j1', 4, 1600), { publish: 4 });
  });

  test('jobs are independent', () => {
    const throttle = new ProgressThrottle<string>(100);
    assert.deepEqual(throttle.offer('a', 'a1', 0), { publish: 'a1' });
    assert.deepEqual(throttle.offer('b', 'b1', 10), { publish: 'b1' });
    assert.deepEqual(throttle.offer('a', 'a2', 20), { wakeInMs: 80 });
  });

  test("a job's end returns its pending update and forgets the job", () => {
    const throttle = new ProgressThrottle<number>(100);
    throttle.offer('j', 1, 0);
    throttle.offer('j', 2, 10);
    assert.equal(throttle.finish('j'), 2);
    assert.equal(throttle.trackedJobs, 0);
    assert.equal(throttle.wake('j', 100), undefined);
    assert.equal(throttle.finish('j'), undefined);
  });

  test('tracks at most maxJobs jobs', () => {
    const throttle = new ProgressThrottle<number>(100, 3);
    for (let i = 0; i < 10; i += 1) throttle.offer(`j${i}`, i, i);
    assert.equal(throttle.trackedJobs, 3);
  });

  test('never more than one publish per interval, and the latest value is never lost (property)', () => {
    const intervalMs = 100;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 60 }),
        (gaps) => {
          const throttle = new ProgressThrottle<number>(intervalMs);
          const sentAt: number[] = [];
          let last = -1;
          let wakeAt: number | undefined;
          let now = 0;
          const runWake = (until: number): void => {
            if (wakeAt !== undefined && wakeAt <= until) {
              const value = throttle.wake('j', wakeAt);
              if (value !== undefined) {
                sentAt.push(wakeAt);
                last = value;
              }
              wakeAt = undefined;
            }
          };
          gaps.forEach((gap, value) => {
            now += gap;
            runWake(now);
            const decision = throttle.offer('j', value, now);
            if (decision.publish !== undefined) {
              sentAt.push(now);
              last = decision.publish;
            }
            if (decision.wakeInMs !== undefined) wakeAt = now + decision.wakeInMs;
          });
          runWake(Number.POSITIVE_INFINITY);
          assert.equal(last, gaps.length - 1);
          for (let i = 1; i < sentAt.length; i += 1) {
            assert.ok(sentAt[i]! - sentAt[i - 1]! >= intervalMs, `sent at ${sentAt.join(',')}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
