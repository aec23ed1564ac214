/**
 * The bounded queue of messages produced while the broker is unreachable (docs/mqtt.md,
 * "Disconnections"). At most `limit` messages wait; past that the oldest is dropped and counted.
 * A message may carry a coalescing key (a job's state, a job's progress): a newer message with
 * the same key replaces the waiting one, since only the latest matters, and moves to the back.
 */
import assert from 'node:assert/strict';

/** One message to publish. */
export interface OutgoingMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1;
  readonly retain: boolean;
  /** MQTT v5 correlation data (replies only). */
  readonly correlationData?: Buffer;
}

/** A bounded FIFO with per-key coalescing. */
export class OfflineQueue {
  /** Waiting messages by sequence number; a Map iterates in insertion order. */
  private readonly entries = new Map<number, { message: OutgoingMessage; key?: string }>();
  private readonly sequenceByKey = new Map<string, number>();
  private nextSequence = 0;
  private droppedCount = 0;

  /** `limit`: how many messages may wait at most (>= 1). */
  constructor(readonly limit: number) {
    assert.ok(Number.isInteger(limit) && limit >= 1, 'offline queue limit must be an integer >= 1');
  }

  /** Messages waiting. */
  get size(): number {
    return this.entries.size;
  }

  /** Messages dropped because the queue was full, since it was created. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Appends a message; replaces the waiting one with the same key; drops the oldest when full. */
  push(message: OutgoingMessage, key?: string): void {
    if (key !== undefined) {
      const previous = this.sequenceByKey.get(key);
      if (previous !== undefined) this.entries.delete(previous);
    }
    if (this.entries.size >= this.limit) this.dropOldest();
    const sequence = this.nextSequence;
    this.nextSequence += 1;
    this.entries.set(sequence, key === undefined ? { message } : { message, key });
    if (key !== undefined) this.sequenceByKey.set(key, sequence);
  }

  /** Removes and returns every waiting message, oldest first. */
  drain(): OutgoingMessage[] {
    const messages = [...this.entries.values()].map((entry) => entry.message);
    this.entries.clear();
    this.sequenceByKey.clear();
    return messages;
  }

  private dropOldest(): void {
    const oldest = this.entries.entries().next();
    if (oldest.done === true) return;
    const [sequence, entry] = oldest.value;
    this.entries.delete(sequence);
    if (entry.key !== undefined) this.sequenceByKey.delete(entry.key);
    this.droppedCount += 1;
  }
}
