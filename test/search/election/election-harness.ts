/**
 * Simulation harness for the Bully election, shared by the CI tests and scripts/sim-search.ts.
 * It drives each node's pure state machine over the simulated network and timers, injects faults
 * (delay, drop, duplicate, crash, restart, partition) for a while, then stops them and checks
 * that the cluster settles on exactly one leader, the highest live id, that every live node
 * follows, and that it stays settled.
 */
import {
  DEFAULT_ELECTION_CONFIG,
  electionStep,
  initialElectionState,
  type ElectionConfig,
  type ElectionInput,
  type ElectionMessage,
  type ElectionState,
  type NodeId,
  type TimerName,
} from '../../../src/search/election/index.js';
import { SimNetwork, SimTimers, type NetworkFaults, type Simulation } from '../../sim/index.js';

/** Options of one election run. */
export interface ElectionRunOptions {
  readonly ids: readonly NodeId[];
  readonly config: ElectionConfig;
  /** Faults last this long; then the network is reliable and nothing crashes. */
  readonly faultMs: number;
  readonly faults: NetworkFaults;
  readonly crashes: number;
  readonly restarts: number;
  readonly partitions: number;
  /** Time after the faults stop by which the cluster must have settled. */
  readonly settleMs: number;
  /** Time after settling during which nothing may change. */
  readonly holdMs: number;
}

/** What one run measured. */
export interface ElectionRun {
  readonly leader: NodeId;
  /** The highest id of the cluster, live or not. */
  readonly highestId: NodeId;
  /** Time from the end of the faults until every live node followed the final leader. */
  readonly convergedAfterMs: number;
  readonly messages: number;
  readonly elections: number;
}

/** Run options drawn from the seed: 3-9 nodes with ids in 0..15, faults of every kind. */
export function randomElectionOptions(sim: Simulation): ElectionRunOptions {
  const count = 3 + sim.random.int(7);
  const ids = sim.shuffle(Array.from({ length: 16 }, (_, i) => i)).slice(0, count);
  return {
    ids,
    config: DEFAULT_ELECTION_CONFIG,
    faultMs: 20_000,
    faults: {
      minDelayMs: 1,
      maxDelayMs: 5 + sim.random.int(200),
      dropRate: sim.random.next() * 0.3,
      duplicateRate: sim.random.next() * 0.2,
    },
    crashes: sim.random.int(6),
    restarts: sim.random.int(6),
    partitions: sim.random.int(3),
    settleMs: 20_000,
    holdMs: 10_000,
  };
}

/** The driver of one node: the pure state machine plus whether its process is up. */
interface SimNode {
  state: ElectionState;
  up: boolean;
}

/** Drives a cluster of election state machines over a simulated network. */
export class ElectionCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly net: SimNetwork<NodeId, ElectionMessage>;
  readonly timers: SimTimers<NodeId, TimerName>;
  lastLeaderChangeMs = 0;
  elections = 0;
  /** Every message sent, when `record` is on (for scenario tests). */
  readonly log: ElectionMessage[] = [];
  record = false;

  constructor(
    readonly sim: Simulation,
    readonly ids: readonly NodeId[],
    readonly config: ElectionConfig,
    faults: NetworkFaults,
  ) {
    this.net = new SimNetwork(
      sim,
      (e) => this.input(e.to, { kind: 'message', msg: e.msg }),
      faults,
    );
    this.timers = new SimTimers(sim);
    for (const id of ids) this.nodes.set(id, { state: initialElectionState(), up: false });
  }

  /** Boots (or reboots) `id` with a fresh state. */
  start(id: NodeId): void {
    const node = this.node(id);
    node.state = initialElectionState();
    node.up = true;
    this.net.restart(id);
    this.input(id, { kind: 'start' });
  }

  /** Kills `id`: its state and timers are gone, messages to it are lost. */
  crash(id: NodeId): void {
    this.node(id).up = false;
    this.net.crash(id);
    this.timers.clear(id);
  }

  /** Live ids, ascending. */
  liveIds(): NodeId[] {
    return this.ids.filter((id) => this.node(id).up).sort((a, b) => a - b);
  }

  /** Feeds one input to a live node and performs its outputs. */
  input(id: NodeId, input: ElectionInput): void {
    const node = this.node(id);
    if (!node.up) return;
    const out = electionStep(node.state, input, {
      self: id,
      peers: this.ids,
      nowMs: this.sim.nowMs,
      config: this.config,
    });
    node.state = out.state;
    checkLocalInvariants(id, node.state);
    for (const event of out.events) {
      if (event.kind === 'leader-changed') this.lastLeaderChangeMs = this.sim.nowMs;
      if (event.kind === 'election-started') this.elections++;
    }
    for (const msg of out.send) {
      if (this.record) this.log.push(msg);
      this.net.send(id, msg.to, msg);
    }
    for (const timer of out.timers) {
      this.timers.set(id, timer.name, timer.afterMs, () =>
        this.input(id, { kind: 'timeout', timer }),
      );
    }
  }

  /** Fails unless exactly one node leads, it is the highest live id, and every live node follows it. */
  checkSettled(): NodeId {
    const live = this.liveIds();
    const highest = live[live.length - 1];
    if (highest === undefined) throw new Error('no live node');
    const leaders = live.filter((id) => this.node(id).state.role === 'leader');
    if (leaders.length !== 1 || leaders[0] !== highest) {
      throw new Error(
        `leaders ${JSON.stringify(leaders)}, expected [${highest}]; ${this.describe()}`,
      );
    }
    for (const id of live) {
      const { leaderId } = this.node(id).state;
      if (leaderId !== highest)
        throw new Error(`node ${id} follows ${leaderId}, not ${highest}; ${this.describe()}`);
    }
    return highest;
  }

  /** One line per node, for failure messages. */
  describe(): string {
    return this.ids
      .map((id) => {
        const n = this.node(id);
        return `${id}:${n.up ? `${n.state.role}->${n.state.leaderId}` : 'down'}`;
      })
      .join(' ');
  }

  private node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`unknown node ${id}`);
    return node;
  }
}

/** Invariants that hold at every step, whatever the faults. */
function checkLocalInvariants(id: NodeId, s: ElectionState): void {
  if (s.role === 'leader' && s.leaderId !== id) throw new Error(`leader ${id} names ${s.leaderId}`);
  if (s.role === 'follower' && (s.leaderId === null || s.leaderId <= id)) {
    throw new Error(`node ${id} follows ${s.leaderId}, not a higher id`);
  }
  if ((s.role === 'candidate' || s.role === 'awaiting-coordinator') && s.leaderId !== null) {
    throw new Error(`candidate ${id} names leader ${s.leaderId}`);
  }
}

/** One seeded run: boot, faults, then settle and hold. Throws on any broken invariant. */
export function runElection(sim: Simulation, o: ElectionRunOptions): ElectionRun {
  const cluster = new ElectionCluster(sim, o.ids, o.config, o.faults);
  for (const id of o.ids) sim.schedule(sim.uniform(0, 1000), () => cluster.start(id));
  scheduleFaults(sim, cluster, o);
  sim.runUntil(o.faultMs);
  cluster.net.heal();
  cluster.net.setFaults({ dropRate: 0, duplicateRate: 0 });
  for (const id of o.ids) if (!cluster.nodes.get(id)?.up) cluster.crash(id);
  sim.runUntil(o.faultMs + o.settleMs);
  const leader = cluster.checkSettled();
  const convergedAfterMs = Math.max(0, cluster.lastLeaderChangeMs - o.faultMs);
  const settledAtMs = sim.nowMs;
  sim.runUntil(settledAtMs + o.holdMs);
  if (cluster.checkSettled() !== leader || cluster.lastLeaderChangeMs > settledAtMs) {
    throw new Error(`leadership changed after settling; ${cluster.describe()}`);
  }
  return {
    leader,
    highestId: Math.max(...o.ids),
    convergedAfterMs,
    messages: cluster.net.stats.sent,
    elections: cluster.elections,
  };
}

function scheduleFaults(sim: Simulation, cluster: ElectionCluster, o: ElectionRunOptions): void {
  for (let i = 0; i < o.crashes; i++) {
    sim.schedule(sim.uniform(1000, o.faultMs), () => {
      const live = cluster.liveIds();
      if (live.length > 1) cluster.crash(sim.pick(live));
    });
  }
  for (let i = 0; i < o.restarts; i++) {
    sim.schedule(sim.uniform(1000, o.faultMs), () => {
      const down = o.ids.filter((id) => !cluster.liveIds().includes(id));
      if (down.length > 0) cluster.start(sim.pick(down));
    });
  }
  for (let i = 0; i < o.partitions; i++) {
    sim.schedule(sim.uniform(1000, o.faultMs), () => {
      const shuffled = sim.shuffle(o.ids);
      const cut = 1 + sim.random.int(shuffled.length - 1);
      cluster.net.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      sim.schedule(sim.uniform(500, 5000), () => cluster.net.heal());
    });
  }
}
