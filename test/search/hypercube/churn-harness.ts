/**
 * Routing over the simulated network while nodes crash and restart: each node routes with the
 * registry's view of live ids, which lags behind the truth, plus its own suspicions (a refused
 * send marks that hop dead for a while). During churn only safety is checked (no loops, hop
 * bound, cube edges); once churn stops and views converge, every message must end exactly as the
 * checker's BFS on the final live set says.
 */
import {
  createRouteMessage,
  popcount,
  routeStep,
  viewFromLiveIds,
  type RoutedMessage,
} from '../../../src/search/hypercube/index.js';
import { SimNetwork, type NetworkFaults, type Simulation } from '../../sim/index.js';
import {
  checkerDistances,
  expectOutcome,
  randomLiveSet,
  type RouteOutcome,
} from './routing-harness.js';

/** Options of one churn run. */
export interface ChurnOptions {
  readonly dimensions: number;
  readonly deadFraction: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly churnMs: number;
  /** How long the registry takes to notice a crash or a restart. */
  readonly registryLagMs: number;
  /** How long a node avoids a hop whose send was refused. */
  readonly suspicionMs: number;
  readonly messagesDuringChurn: number;
  readonly messagesAfter: number;
  readonly hopLimit: number;
  readonly faults: NetworkFaults;
}

/** What a churn run measured. */
export interface ChurnRun {
  readonly during: { delivered: number; dropped: number; lost: number };
  readonly after: RouteOutcome[];
  readonly refusedSends: number;
}

interface Tracked {
  readonly src: number;
  readonly dst: number;
  readonly stable: boolean;
  outcome: RouteOutcome | null;
}

/** The ids `node` believes alive: the registry's list minus its current suspicions. */
class Views {
  readonly registry: Set<number>;
  private readonly suspicions = new Map<number, Map<number, number>>();

  constructor(
    initial: ReadonlySet<number>,
    private readonly sim: Simulation,
    private readonly suspicionMs: number,
  ) {
    this.registry = new Set(initial);
  }

  suspect(node: number, peer: number): void {
    const own = this.suspicions.get(node) ?? new Map<number, number>();
    own.set(peer, this.sim.nowMs + this.suspicionMs);
    this.suspicions.set(node, own);
  }

  liveFor(node: number): ReadonlySet<number> {
    const active = [...(this.suspicions.get(node) ?? [])].filter(
      ([, untilMs]) => untilMs > this.sim.nowMs,
    );
    if (active.length === 0) return this.registry;
    const live = new Set(this.registry);
    for (const [peer] of active) live.delete(peer);
    return live;
  }
}

/** One seeded churn run; throws on any broken invariant. */
export function runChurn(sim: Simulation, o: ChurnOptions): ChurnRun {
  const d = o.dimensions;
  const live = randomLiveSet(sim, d, o.deadFraction);
  const views = new Views(live, sim, o.suspicionMs);
  const tracked = new Map<number, Tracked>();
  let refusedSends = 0;
  const net = new SimNetwork<number, RoutedMessage<number>>(
    sim,
    (e) => handle(e.to, e.msg),
    o.faults,
  );
  for (let id = 0; id < 2 ** d; id++) if (!live.has(id)) net.crash(id);

  function handle(at: number, msg: RoutedMessage<number>): void {
    for (let attempt = 0; attempt <= d + 1; attempt++) {
      const decision = routeStep(msg, at, viewFromLiveIds(at, d, views.liveFor(at)));
      if (decision.msg.hops > o.hopLimit)
        throw new Error(`message ${msg.payload}: hop bound broken`);
      if (decision.action !== 'forward')
        return settle(decision.msg, decision.action === 'deliver' ? 'deliver' : decision.reason);
      if (popcount(at ^ decision.next) !== 1)
        throw new Error(`hop ${at} -> ${decision.next} is not a cube edge`);
      if (!decision.backtrack && msg.visited.includes(decision.next))
        throw new Error(`loop at ${decision.next}`);
      if (net.send(at, decision.next, decision.msg) === 'sent') return;
      refusedSends++;
      views.suspect(at, decision.next);
    }
    throw new Error(`message ${msg.payload}: more refused sends than neighbours`);
  }

  function settle(msg: RoutedMessage<number>, result: RouteOutcome['result']): void {
    const t = tracked.get(msg.payload);
    if (t === undefined) throw new Error(`unknown message ${msg.payload}`);
    const shortest = t.stable ? (checkerDistances(t.src, d, live).get(t.dst) ?? null) : null;
    // Each backtrack spends a hop and pops the path: hops = (path length - 1) + 2 * backtracks.
    const backtracks = (msg.hops - msg.path.length + 1) / 2;
    const outcome: RouteOutcome = {
      src: t.src,
      dst: t.dst,
      shortest,
      result,
      hops: msg.hops,
      backtracks,
    };
    if (t.stable) expectOutcome(outcome, 'view', o.hopLimit);
    t.outcome ??= outcome;
  }

  function inject(stable: boolean): void {
    const sources = [...live];
    if (sources.length === 0) return;
    const src = sim.pick(sources);
    const dst = sim.random.int(2 ** d);
    const id = tracked.size;
    tracked.set(id, { src, dst, stable, outcome: null });
    handle(src, createRouteMessage(src, dst, id, { hopLimit: o.hopLimit }));
  }

  scheduleChurn(sim, o, live, views, net);
  for (let i = 0; i < o.messagesDuringChurn; i++)
    sim.schedule(sim.uniform(0, o.churnMs), () => inject(false));
  const stableAtMs = o.churnMs + o.registryLagMs + o.suspicionMs + 1;
  for (let i = 0; i < o.messagesAfter; i++) sim.at(stableAtMs + i, () => inject(true));
  sim.runUntilIdle();
  return summarizeChurn(tracked, refusedSends);
}

function scheduleChurn(
  sim: Simulation,
  o: ChurnOptions,
  live: Set<number>,
  views: Views,
  net: SimNetwork<number, RoutedMessage<number>>,
): void {
  for (let i = 0; i < o.crashes + o.restarts; i++) {
    const crash = i < o.crashes;
    sim.schedule(sim.uniform(0, o.churnMs), () => {
      const ids = Array.from({ length: 2 ** o.dimensions }, (_, id) => id).filter(
        (id) => live.has(id) === crash,
      );
      if (ids.length === 0) return;
      const id = sim.pick(ids);
      if (crash) {
        live.delete(id);
        net.crash(id);
      } else {
        live.add(id);
        net.restart(id);
      }
      sim.schedule(o.registryLagMs, () =>
        live.has(id) ? views.registry.add(id) : views.registry.delete(id),
      );
    });
  }
}

function summarizeChurn(tracked: Map<number, Tracked>, refusedSends: number): ChurnRun {
  const during = { delivered: 0, dropped: 0, lost: 0 };
  const after: RouteOutcome[] = [];
  for (const [id, t] of tracked) {
    if (t.stable) {
      if (t.outcome === null)
        throw new Error(`message ${id} (${t.src} -> ${t.dst}) sent after churn was lost`);
      after.push(t.outcome);
    } else if (t.outcome === null) during.lost++;
    else if (t.outcome.result === 'deliver') during.delivered++;
    else during.dropped++;
  }
  return { during, after, refusedSends };
}
