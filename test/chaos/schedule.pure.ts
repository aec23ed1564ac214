/**
 * The chaos suite's fault schedule (issue 7, "Chaos"): one seed gives one sequence of fault
 * episodes. An episode waits `pauseMs`, SIGKILLs one or two targets, keeps them down for
 * `downMs`, then restarts them on the same port and data dir. The driver runs episodes one after
 * the other until the fault window ends, so the sequence (not its wall-clock timing, which depends
 * on how fast processes start) replays exactly from the seed.
 *
 * Pure (DESIGN.md, rule 1): no clock, timers, I/O or global randomness; the caller passes the seed.
 */
import { SeededRandom } from '../../src/core/random.js';

/** A process the schedule can kill. `search-leader` is resolved when the fault is injected. */
export type FaultTarget =
  | { readonly kind: 'registry' }
  | { readonly kind: 'dfs-meta' }
  | { readonly kind: 'datanode'; readonly index: number }
  | { readonly kind: 'search-node'; readonly index: number }
  | { readonly kind: 'search-leader' }
  | { readonly kind: 'mapreduce-master' }
  | { readonly kind: 'mapreduce-worker'; readonly index: number };

export type FaultKind = FaultTarget['kind'];

/** How many processes of each replicated role the cluster runs. */
export interface ClusterShape {
  readonly datanodes: number;
  readonly searchNodes: number;
  readonly workers: number;
}

export interface ScheduleConfig {
  readonly seed: number;
  /** The fault window: episodes are planned until their pauses and downtimes fill it. */
  readonly durationMs: number;
  readonly shape: ClusterShape;
  /** Quiet time before each episode, drawn uniformly from [min, max]. */
  readonly pauseMs: readonly [min: number, max: number];
  /** How long the episode's targets stay down, drawn uniformly from [min, max]. */
  readonly downMs: readonly [min: number, max: number];
  /** Probability that an episode kills two processes instead of one. */
  readonly pairProbability: number;
}

/** One fault episode: pause, kill `targets` at once, wait `downMs`, restart them. */
export interface FaultEpisode {
  readonly pauseMs: number;
  readonly targets: readonly FaultTarget[];
  readonly downMs: number;
}

/** Defaults of the schedule (the seed, window and shape come from the caller). */
export const DEFAULT_TIMINGS = {
  pauseMs: [1_000, 4_000],
  downMs: [1_000, 5_000],
  pairProbability: 0.35,
} as const satisfies Pick<ScheduleConfig, 'pauseMs' | 'downMs' | 'pairProbability'>;

/** Every kind the shape has processes for; the schedule draws a kind first, then an index. */
export function faultKinds(shape: ClusterShape): FaultKind[] {
  const kinds: FaultKind[] = ['registry', 'dfs-meta', 'mapreduce-master'];
  if (shape.datanodes > 0) kinds.push('datanode');
  if (shape.searchNodes > 0) kinds.push('search-node', 'search-leader');
  if (shape.workers > 0) kinds.push('mapreduce-worker');
  return kinds;
}

/** A stable, readable name of a target: `datanode-2`, `search-leader`, `registry`. */
export function targetName(target: FaultTarget): string {
  return 'index' in target ? `${target.kind}-${target.index}` : target.kind;
}

/** The episodes of a run. Same config, same episodes. */
export function planSchedule(config: ScheduleConfig): FaultEpisode[] {
  assertValid(config);
  const random = new SeededRandom(config.seed);
  const kinds = faultKinds(config.shape);
  const episodes: FaultEpisode[] = [];
  let plannedMs = 0;
  const maxEpisodes = Math.ceil(config.durationMs / Math.max(1, config.pauseMs[0])) + 1;
  while (plannedMs < config.durationMs && episodes.length < maxEpisodes) {
    const pauseMs = between(random, config.pauseMs);
    const downMs = between(random, config.downMs);
    const first = drawTarget(random, kinds, config.shape);
    const targets = [first];
    if (random.next() < config.pairProbability) {
      const second = drawPartner(random, kinds, config.shape, first);
      if (second !== undefined) targets.push(second);
    }
    episodes.push({ pauseMs, targets, downMs });
    plannedMs += pauseMs + downMs;
  }
  return episodes;
}

/** How many times each target name appears in the episodes. */
export function countTargets(episodes: readonly FaultEpisode[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const episode of episodes)
    for (const target of episode.targets) {
      const name = targetName(target);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  return counts;
}

function drawTarget(
  random: SeededRandom,
  kinds: readonly FaultKind[],
  shape: ClusterShape,
): FaultTarget {
  const kind = kinds[random.int(kinds.length)];
  if (kind === undefined) throw new Error('the shape has no fault kinds');
  switch (kind) {
    case 'datanode':
      return { kind, index: random.int(shape.datanodes) };
    case 'search-node':
      return { kind, index: random.int(shape.searchNodes) };
    case 'mapreduce-worker':
      return { kind, index: random.int(shape.workers) };
    default:
      return { kind };
  }
}

/**
 * A second target distinct from `first`. A search node and the search leader never go together:
 * the leader may be that very node, and the pair would then be one kill.
 */
function drawPartner(
  random: SeededRandom,
  kinds: readonly FaultKind[],
  shape: ClusterShape,
  first: FaultTarget,
): FaultTarget | undefined {
  for (let attempt = 0; attempt < 16; attempt += 1) {
    const candidate = drawTarget(random, kinds, shape);
    if (targetName(candidate) === targetName(first)) continue;
    const kindsOfPair = new Set([candidate.kind, first.kind]);
    if (kindsOfPair.has('search-leader') && kindsOfPair.has('search-node')) continue;
    return candidate;
  }
  return undefined;
}

function between(random: SeededRandom, [min, max]: readonly [number, number]): number {
  return min + random.int(max - min + 1);
}

function assertValid(config: ScheduleConfig): void {
  const ranges = [config.pauseMs, config.downMs];
  if (ranges.some(([min, max]) => !(min >= 0 && max >= min)))
    throw new Error('schedule ranges need 0 <= min <= max');
  if (!(config.durationMs >= 0)) throw new Error('schedule duration must be >= 0');
  if (!(config.pairProbability >= 0 && config.pairProbability <= 1))
    throw new Error('pairProbability must be within [0, 1]');
}
