// Rule checked (docs/mqtt.md, "Disconnections"; issue 5: the bridge keeps publishing across broker
// restarts): messages produced while the broker is away wait in a queue of at most `limit`
// messages, oldest dropped first and counted; a message with a coalescing key (a job's state or
// progress) replaces the waiting one with the same key; drained messages keep their order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  OfflineQueue,
  type OutgoingMessage,
} from '../../../src/mapreduce/mqtt/offline-queue.pure.js';

function message(topic: string, payload = topic): OutgoingMessage {
  return { topic, payload, qos: 1, retain: false };
}

describe('OfflineQueue', () => {
  test('keeps order and drains empty', () => {
    const queue = new OfflineQueue(10);
    for (const topic of ['a', 'b', 'c']) queue.push(message(topic));
    assert.deepEqual(
      queue.drain().map((m) => m.topic),
      ['a', 'b', 'c'],
    );
    assert.equal(queue.size, 0);
    assert.deepEqual(queue.drain(), []);
  });

  test('drops the oldest past the limit and counts the drops', () => {
    const queue = new OfflineQueue(3);
    for (const topic of ['a', 'b', 'c', 'd', 'e']) queue.push(message(topic));
    assert.equal(queue.size, 3);
    assert.equal(queue.dropped, 2);
    assert.deepEqual(
      queue.drain().map((m) => m.topic),
      ['c', 'd', 'e'],
    );
  });

  test('a newer message with the same key replaces the waiting one and moves to the back', () => {
    const queue = new OfflineQueue(10);
    queue.push(message('state', 'queued'), 'state:j1');
    queue.push(message('task'));
    queue.push(message('state', 'running'), 'state:j1');
    assert.deepEqual(
      queue.drain().map((m) => m.payload),
      ['task', 'running'],
    );
    assert.equal(queue.dropped, 0);
  });

  test('a dropped keyed message frees its key', () => {
    const queue = new OfflineQueue(1);
    queue.push(message('s1'), 'k');
    queue.push(message('t'));
    queue.push(message('s2'), 'k');
    assert.deepEqual(
      queue.drain().map((m) => m.topic),
      ['s2'],
    );
    assert.equal(queue.dropped, 2);
  });

  test('rejects a limit below 1', () => {
    assert.throws(() => new OfflineQueue(0));
  });

  test('agrees with a plain array model (property)', () => {
    const op = fc.record({
      topic: fc.string({ maxLength: 3 }),
      key: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 40 }), (limit, ops) => {
        const queue = new OfflineQueue(limit);
        let model: { topic: string; key: string | undefined }[] = [];
        let dropped = 0;
        for (const { topic, key } of ops) {
          queue.push(message(topic), key);
          if (key !== undefined) model = model.filter((entry) => entry.key !== key);
          if (model.length >= limit) {
            model.shift();
            dropped += 1;
          }
          model.push({ topic, key });
          assert.ok(queue.size <= limit);
        }
        assert.equal(queue.dropped, dropped);
        assert.deepEqual(
          queue.drain().map((m) => m.topic),
          model.map((entry) => entry.topic),
        );
      }),
      { numRuns: 300 },
    );
  });
});
