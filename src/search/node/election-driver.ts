/**
 * The edge around the pure Bully state machine (src/search/election): real timers, messages
 * over HTTP (`POST /election` on the peer), and the events the node acts on. Messages are
 * fire-and-forget, as the algorithm assumes: a failed send is a lost message, and the state
 * machine's timeouts cover it (docs/search-overlay.md, "Driving the election").
 */
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import {
  electionStep,
  initialElectionState,
  isLeader,
  type ElectionConfig,
  type ElectionInput,
  type ElectionMessage,
  type ElectionState,
  type TimerName,
} from '../election/index.js';

export interface ElectionDriverOptions {
  readonly self: number;
  readonly clock: Clock;
  readonly config: ElectionConfig;
  readonly logger: Logger;
  /** Every peer id this node knows of, dead ones included. */
  readonly peers: () => readonly number[];
  /** Sends one message; a rejection counts as a lost message. */
  readonly send: (msg: ElectionMessage) => Promise<void>;
  /** The leader changed (null: none known). */
  readonly onLeaderChanged: (leaderId: number | null, previous: number | null) => void;
  /** A COORDINATOR arrived from the leader this node already followed (send it a FULL report). */
  readonly onCoordinator?: (leaderId: number) => void;
}

/** Runs the Bully election of one node. */
export class ElectionDriver {
  private state: ElectionState = initialElectionState();
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private stopped = false;
  private messagesSent = 0;
  private messagesLost = 0;

  constructor(private readonly options: ElectionDriverOptions) {}

  /** The current leader, if known. */
  get leaderId(): number | null {
    return this.state.leaderId;
  }

  /** Whether this node leads. */
  get isLeader(): boolean {
    return isLeader(this.state);
  }

  /** The role (idle, candidate, awaiting-coordinator, leader, follower). */
  get role(): string {
    return this.state.role;
  }

  get electionsStarted(): number {
    return this.state.electionsStarted;
  }

  /** Counters for metrics and status. */
  get counters(): { sent: number; lost: number } {
    return { sent: this.messagesSent, lost: this.messagesLost };
  }

  /** Starts (boot): an election at once. */
  start(): void {
    this.feed({ kind: 'start' });
  }

  /** A message from a peer. */
  receive(msg: ElectionMessage): void {
    if (this.stopped) return;
    const before = this.state.leaderId;
    this.feed({ kind: 'message', msg });
    // A COORDINATOR from the leader this node already followed (it restarted, or re-announced
    // itself): the leader-changed event does not fire, but the leader may have lost its state.
    if (msg.type === 'COORDINATOR' && before === msg.from && this.state.leaderId === msg.from) {
      this.options.onCoordinator?.(msg.from);
    }
  }

  /** Clears every timer; later inputs are ignored. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private feed(input: ElectionInput): void {
    if (this.stopped) return;
    const out = electionStep(this.state, input, {
      self: this.options.self,
      peers: this.options.peers().filter((id) => id !== this.options.self),
      nowMs: this.options.clock.nowMs(),
      config: this.options.config,
    });
    this.state = out.state;
    for (const timer of out.timers) this.schedule(timer.name, timer.atMs, timer.afterMs);
    for (const msg of out.send) this.transmit(msg);
    for (const event of out.events) {
      if (event.kind === 'leader-changed') {
        this.options.logger.info(
          { leader_id: event.leaderId, previous: event.previous, self: this.options.self },
          event.leaderId === this.options.self ? 'this node is the leader' : 'leader changed',
        );
        this.options.onLeaderChanged(event.leaderId, event.previous);
      }
    }
  }

  private schedule(name: TimerName, atMs: number, afterMs: number): void {
    const previous = this.timers.get(name);
    if (previous !== undefined) clearTimeout(previous);
    const timer = setTimeout(
      () => {
        this.timers.delete(name);
        // Timers run on a monotonic clock and may fire a millisecond before the wall clock
        // reaches `atMs`; the state machine ignores an early timeout, so wait the rest.
        const remainingMs = atMs - this.options.clock.nowMs();
        if (remainingMs > 0) this.schedule(name, atMs, remainingMs);
        else this.feed({ kind: 'timeout', timer: { name, atMs } });
      },
      Math.max(0, afterMs),
    );
    timer.unref();
    this.timers.set(name, timer);
  }

  private transmit(msg: ElectionMessage): void {
    this.messagesSent += 1;
    this.options.send(msg).catch(() => {
      this.messagesLost += 1;
    });
  }
}
