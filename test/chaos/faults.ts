/**
 * The fault injector: carries out the seeded schedule against the supervised cluster until the
 * fault window ends — pause, SIGKILL the episode's targets at once, keep them down, restart them
 * on their ports and data dirs — and counts every fault per target.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosCluster, ProcessTarget } from './cluster.js';
import { targetName, type FaultEpisode, type FaultTarget } from './schedule.pure.js';

export interface FaultLog {
  /** Faults injected per target name (`search-leader` counted apart from the node it was). */
  readonly faults: Map<string, number>;
  /** One line per episode: when, what was killed, how the restarts went. */
  readonly events: string[];
  /** Targets that could not be restarted at the end of their episode. */
  readonly failedRestarts: string[];
}

export function newFaultLog(): FaultLog {
  return { faults: new Map(), events: [], failedRestarts: [] };
}

/** Runs episodes until `deadlineMs` (wall clock) passes or the schedule ends. */
export async function injectFaults(
  cluster: ChaosCluster,
  episodes: readonly FaultEpisode[],
  deadlineMs: number,
  log: FaultLog,
): Promise<void> {
  const startedMs = Date.now();
  for (const episode of episodes) {
    const remainingMs = deadlineMs - Date.now();
    if (remainingMs <= 0) return;
    await sleep(Math.min(episode.pauseMs, remainingMs));
    if (Date.now() >= deadlineMs) return;
    const targets = await resolveTargets(cluster, episode.targets);
    const killed = await killAll(cluster, targets, log);
    await sleep(episode.downMs);
    const restarted = await Promise.all(killed.map(({ target }) => cluster.restart(target)));
    const failed = killed.filter((_, i) => restarted[i] !== true).map((k) => k.label);
    log.failedRestarts.push(...failed);
    const at = ((Date.now() - startedMs) / 1000).toFixed(1);
    const labels = killed.map((k) => k.label).join(', ') || '(nothing running)';
    const outcome = failed.length === 0 ? 'restarted' : `restart failed: ${failed.join(', ')}`;
    log.events.push(`+${at}s killed ${labels} for ${episode.downMs} ms, ${outcome}`);
  }
}

async function killAll(
  cluster: ChaosCluster,
  targets: readonly Resolved[],
  log: FaultLog,
): Promise<Resolved[]> {
  const killed = await Promise.all(targets.map(({ target }) => cluster.kill(target)));
  const done = targets.filter((_, i) => killed[i] === true);
  for (const { name } of done) log.faults.set(name, (log.faults.get(name) ?? 0) + 1);
  return done;
}

interface Resolved {
  readonly target: ProcessTarget;
  /** The name faults are counted under. */
  readonly name: string;
  /** What the event log says. */
  readonly label: string;
}

/** Resolves `search-leader` to the node that leads now, and drops a target named twice. */
async function resolveTargets(
  cluster: ChaosCluster,
  targets: readonly FaultTarget[],
): Promise<Resolved[]> {
  const resolved: Resolved[] = [];
  for (const target of targets) {
    if (target.kind !== 'search-leader') {
      resolved.push({ target, name: targetName(target), label: targetName(target) });
      continue;
    }
    const leader = await cluster.searchLeader();
    if (leader === undefined || leader >= cluster.shape.searchNodes) continue;
    const node = { kind: 'search-node', index: leader } as const;
    resolved.push({
      target: node,
      name: 'search-leader',
      label: `search-leader=${targetName(node)}`,
    });
  }
  return resolved.filter(
    (entry, i) =>
      resolved.findIndex((other) => targetName(other.target) === targetName(entry.target)) === i,
  );
}
