// Rule checked (poneglyph-reduce.md, "Dead Letter Queue"): capacity 1000 by default, entries
// carry the categorized reason and the failing record, recovery takes an entry out, statistics
// count entries per reason; when full, the OLDEST entry is evicted (documented policy) and
// returned; a task is in the queue at most once; memory per entry is bounded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createDeadLetterQueue,
  DEFAULT_DLQ_CAPACITY,
  dlqAdd,
  dlqGet,
  dlqList,
  dlqRemove,
  dlqRemoveJob,
  dlqStats,
  type DeadLetterEntry,
  type DeadLetterQueue,
} from '../../src/mapreduce/master/dlq.js';
import type { FailureReason, JobId, TaskId } from '../../src/mapreduce/master/scheduler.js';

function entry(task: string, at: number, extra: Partial<DeadLetterEntry> = {}): DeadLetterEntry {
  return {
    task_id: task as TaskId,
    job_id: 'job-a' as JobId,
    reason: 'user-code',
    error: 'boom',
    attempts: 4,
    at,
    ...extra,
  };
}

function fill(queue: DeadLetterQueue, entries: DeadLetterEntry[]): DeadLetterQueue {
  return entries.reduce((q, e) => dlqAdd(q, e).queue, queue);
}

describe('dead-letter queue', () => {
  test('the default capacity is the seed’s 1000', () => {
    assert.equal(DEFAULT_DLQ_CAPACITY, 1000);
    assert.equal(createDeadLetterQueue().capacity, 1000);
  });

  test('a full queue evicts the oldest entry and returns it', () => {
    let queue = fill(createDeadLetterQueue(3), [entry('t1', 10), entry('t2', 20), entry('t3', 30)]);
    const added = dlqAdd(queue, entry('t4', 40));
    queue = added.queue;
    assert.deepEqual(
      added.evicted.map((e) => e.task_id),
      ['t1'],
    );
    assert.deepEqual(
      queue.entries.map((e) => e.task_id),
      ['t2', 't3', 't4'],
    );
    assert.equal(dlqStats(queue).evicted, 1);
  });

  test('eviction goes by failure time, not arrival order', () => {
    const queue = fill(createDeadLetterQueue(2), [entry('late', 50), entry('early', 5)]);
    const added = dlqAdd(queue, entry('newest', 60));
    assert.deepEqual(
      added.evicted.map((e) => e.task_id),
      ['early'],
    );
  });

  test('a task is in the queue once: a new entry replaces its old one', () => {
    const queue = fill(createDeadLetterQueue(), [
      entry('t1', 1),
      entry('t2', 2),
      entry('t1', 3, { reason: 'timeout' }),
    ]);
    assert.deepEqual(
      queue.entries.map((e) => [e.task_id, e.reason]),
      [
        ['t2', 'user-code'],
        ['t1', 'timeout'],
      ],
    );
  });

  test('recovery removes the entry and returns it; an unknown task gives null', () => {
    const queue = fill(createDeadLetterQueue(), [
      entry('t1', 1, { record: 'line 7' }),
      entry('t2', 2),
    ]);
    const removed = dlqRemove(queue, 't1' as TaskId);
    assert.equal(removed.entry?.record, 'line 7');
    assert.equal(dlqGet(removed.queue, 't1' as TaskId), null);
    assert.equal(removed.queue.entries.length, 1);
    const missing = dlqRemove(removed.queue, 't9' as TaskId);
    assert.equal(missing.entry, null);
    assert.equal(missing.queue, removed.queue);
  });

  test('listing is newest first, filtered by job and reason, paged', () => {
    const queue = fill(createDeadLetterQueue(), [
      entry('a1', 1),
      entry('b1', 2, { job_id: 'job-b' as JobId, reason: 'timeout' }),
      entry('a2', 3, { reason: 'timeout' }),
      entry('a3', 4),
    ]);
    assert.deepEqual(
      dlqList(queue).entries.map((e) => e.task_id),
      ['a3', 'a2', 'b1', 'a1'],
    );
    assert.deepEqual(dlqList(queue, { jobId: 'job-a' as JobId, limit: 2 }), {
      entries: [queue.entries[3], queue.entries[2]],
      total: 3,
    });
    assert.deepEqual(
      dlqList(queue, { reason: 'timeout', offset: 1 }).entries.map((e) => e.task_id),
      ['b1'],
    );
  });

  test('statistics count entries per reason, with the utilization in percent', () => {
    const reasons: FailureReason[] = ['timeout', 'crash', 'crash', 'bad-input'];
    const queue = fill(
      createDeadLetterQueue(8),
      reasons.map((reason, i) => entry(`t${i}`, i, { reason })),
    );
    assert.deepEqual(dlqStats(queue), {
      total: 4,
      capacity: 8,
      utilization: 50,
      byReason: { timeout: 1, crash: 2, 'user-code': 0, unreachable: 0, 'bad-input': 1 },
      evicted: 0,
    });
  });

  test('removing a job removes only its entries', () => {
    const queue = fill(createDeadLetterQueue(), [
      entry('a1', 1),
      entry('b1', 2, { job_id: 'job-b' as JobId }),
    ]);
    const { queue: after, removed } = dlqRemoveJob(queue, 'job-a' as JobId);
    assert.equal(removed, 1);
    assert.deepEqual(
      after.entries.map((e) => e.task_id),
      ['b1'],
    );
  });

  test('errors and records are cut to bounded sizes', () => {
    const { queue } = dlqAdd(
      createDeadLetterQueue(),
      entry('t', 1, { error: 'x'.repeat(9000), record: 'y'.repeat(9000) }),
    );
    assert.equal(queue.entries[0]?.error.length, 4096);
    assert.equal(queue.entries[0]?.record?.length, 1024);
  });

  test('capacity must be a positive integer', () => {
    assert.throws(() => createDeadLetterQueue(0));
  });
});
