/**
 * A priority queue of timed events for deterministic simulations: events run in order of time,
 * and events at the same time in the order they were scheduled, so a seed replays exactly.
 */

/** One scheduled event. */
export interface SimEvent {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A binary min-heap ordered by (atMs, seq). */
export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private readonly cancelled = new Set<number>();
  private readonly pending = new Set<number>();
  private nextSeq = 0;

  /** Number of events scheduled and not yet run or cancelled. */
  get size(): number {
    return this.pending.size;
  }

  /** Schedules `run` at `atMs`; returns a handle for `cancel`. */
  push(atMs: number, run: () => void): number {
    const seq = this.nextSeq++;
    this.heap.push({ atMs, seq, run });
    this.pending.add(seq);
    this.siftUp(this.heap.length - 1);
    return seq;
  }

  /** Cancels a scheduled event; cancelling one that already ran does nothing. */
  cancel(handle: number): void {
    if (this.pending.delete(handle)) this.cancelled.add(handle);
  }

  /** The time of the next live event, or undefined when none is left. */
  peekTimeMs(): number | undefined {
    this.skipCancelled();
    return this.heap[0]?.atMs;
  }

  /** Removes and returns the next live event. */
  pop(): SimEvent | undefined {
    this.skipCancelled();
    const event = this.popRaw();
    if (event !== undefined) this.pending.delete(event.seq);
    return event;
  }

  private skipCancelled(): void {
    let top = this.heap[0];
    while (top !== undefined && this.cancelled.has(top.seq)) {
      this.cancelled.delete(top.seq);
      this.popRaw();
      top = this.heap[0];
    }
  }

  private popRaw(): SimEvent | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a];
    const y = this.heap[b];
    if (x === undefined || y === undefined) return false;
    return x.atMs < y.atMs || (x.atMs === y.atMs && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const x = this.heap[a];
    const y = this.heap[b];
    if (x === undefined || y === undefined) return;
    this.heap[a] = y;
    this.heap[b] = x;
  }

  private siftUp(index: number): void {
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(index: number): void {
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
