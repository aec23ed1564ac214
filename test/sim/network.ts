/**
 * A simulated packet network (after tigerbeetle's packet simulator): each message is delayed by
 * a seeded amount, and may be dropped or duplicated; nodes crash and restart; partitions cut the
 * cluster into groups that cannot talk. A message is lost when its recipient is down, or
 * restarted, or cut off by a partition, at delivery time.
 */
import type { Simulation } from './simulation.js';

/** The faults the network injects. */
export interface NetworkFaults {
  /** Smallest one-way delay (ms). */
  readonly minDelayMs: number;
  /** Largest one-way delay (ms); delays are uniform in [min, max], so messages reorder. */
  readonly maxDelayMs: number;
  /** Probability that a message is silently lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  readonly duplicateRate: number;
}

/** A network that delivers everything after 1-10 ms. */
export const RELIABLE_NETWORK: NetworkFaults = {
  minDelayMs: 1,
  maxDelayMs: 10,
  dropRate: 0,
  duplicateRate: 0,
};

/** One message in flight. */
export interface Envelope<Id, M> {
  readonly from: Id;
  readonly to: Id;
  readonly msg: M;
  readonly sentAtMs: number;
}

/**
 * What a sender can observe: 'refused' when the recipient is known down at send time (like a
 * refused connection on loopback); 'sent' otherwise, even if the message is later lost.
 */
export type SendResult = 'sent' | 'refused';

/** Counters of what happened to messages. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  refused: number;
  lostToCrash: number;
  lostToPartition: number;
}

/** A seeded network between nodes identified by `Id`. */
export class SimNetwork<Id extends string | number, M> {
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    refused: 0,
    lostToCrash: 0,
    lostToPartition: 0,
  };
  private faults: NetworkFaults;
  private readonly down = new Set<Id>();
  private readonly incarnations = new Map<Id, number>();
  private groupOf: Map<Id, number> | null = null;

  constructor(
    private readonly sim: Simulation,
    private readonly deliver: (envelope: Envelope<Id, M>) => void,
    faults: NetworkFaults = RELIABLE_NETWORK,
  ) {
    this.faults = faults;
  }

  /** Changes the injected faults (e.g. to a reliable network once faults stop). */
  setFaults(faults: Partial<NetworkFaults>): void {
    this.faults = { ...this.faults, ...faults };
  }

  /** The maximum one-way delay currently configured. */
  get maxDelayMs(): number {
    return this.faults.maxDelayMs;
  }

  /** Sends `msg`; delivery happens later through the `deliver` callback, or never. */
  send(from: Id, to: Id, msg: M): SendResult {
    this.stats.sent++;
    if (this.down.has(to) && this.canReach(from, to)) {
      this.stats.refused++;
      return 'refused';
    }
    if (this.sim.chance(this.faults.dropRate)) {
      this.stats.dropped++;
      return 'sent';
    }
    const envelope: Envelope<Id, M> = { from, to, msg, sentAtMs: this.sim.nowMs };
    const incarnation = this.incarnation(to);
    this.scheduleDelivery(envelope, incarnation);
    if (this.sim.chance(this.faults.duplicateRate)) {
      this.stats.duplicated++;
      this.scheduleDelivery(envelope, incarnation);
    }
    return 'sent';
  }

  /** Marks `id` down: messages to it are lost until it restarts. */
  crash(id: Id): void {
    this.down.add(id);
    this.incarnations.set(id, this.incarnation(id) + 1);
  }

  /** Brings `id` back up; messages sent to its previous incarnation stay lost. */
  restart(id: Id): void {
    this.down.delete(id);
  }

  /** True unless `id` crashed and has not restarted. */
  isUp(id: Id): boolean {
    return !this.down.has(id);
  }

  /**
   * Cuts the network into groups: two nodes can talk only when they are in the same group.
   * Nodes listed in no group form one more group together.
   */
  partition(groups: readonly (readonly Id[])[]): void {
    const groupOf = new Map<Id, number>();
    groups.forEach((group, index) => group.forEach((id) => groupOf.set(id, index + 1)));
    this.groupOf = groupOf;
  }

  /** Removes every partition. */
  heal(): void {
    this.groupOf = null;
  }

  /** True when no partition separates `a` from `b`. */
  canReach(a: Id, b: Id): boolean {
    if (this.groupOf === null) return true;
    return (this.groupOf.get(a) ?? 0) === (this.groupOf.get(b) ?? 0);
  }

  private incarnation(id: Id): number {
    return this.incarnations.get(id) ?? 0;
  }

  private scheduleDelivery(envelope: Envelope<Id, M>, incarnation: number): void {
    const delayMs = this.sim.uniform(this.faults.minDelayMs, this.faults.maxDelayMs);
    this.sim.schedule(delayMs, () => this.arrive(envelope, incarnation));
  }

  private arrive(envelope: Envelope<Id, M>, incarnation: number): void {
    if (this.down.has(envelope.to) || this.incarnation(envelope.to) !== incarnation) {
      this.stats.lostToCrash++;
      return;
    }
    if (!this.canReach(envelope.from, envelope.to)) {
      this.stats.lostToPartition++;
      return;
    }
    this.stats.delivered++;
    this.deliver(envelope);
  }
}
