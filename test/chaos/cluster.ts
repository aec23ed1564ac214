/**
 * The chaos suite's cluster supervisor: every Tessera service as a real process on 127.0.0.1,
 * each with its own data dir — a persistent registry, the DFS master and datanodes, search nodes,
 * the MapReduce master and workers — built from the test helpers (MapReduceCluster for the
 * registry, DFS and engine; SearchCluster for the search nodes, sharing the registry). Any process
 * can be SIGKILLed and restarted with the same data dir and port. Exits the supervisor did not
 * cause are recorded: a service that dies on its own is a finding.
 */
import { MapReduceCluster, FAST_MASTER_ARGS } from '../helpers/mapreduce-cluster.js';
import type { RunningProcess } from '../helpers/processes.js';
import { SearchCluster } from '../helpers/search-cluster.js';
import { targetName, type ClusterShape, type FaultTarget } from './schedule.pure.js';

/** A concrete process (the leader resolved to its node). */
export type ProcessTarget = Exclude<FaultTarget, { kind: 'search-leader' }>;

/** Master flags for chaos: breakers that reopen quickly, so a restarted worker gets work again. */
const CHAOS_MASTER_ARGS = [...FAST_MASTER_ARGS, '--breaker-open', '3'];

/** How many times a restart is tried before the process is left down (convergence tries again). */
const RESTART_ATTEMPTS = 3;

export class ChaosCluster {
  readonly mapreduce: MapReduceCluster;
  private searchCluster: SearchCluster | undefined;
  /** Exits nobody asked for, per process name. */
  readonly unexpectedExits = new Map<string, string[]>();
  private readonly killing = new Set<RunningProcess>();
  private readonly down = new Set<string>();

  constructor(readonly shape: ClusterShape) {
    this.mapreduce = new MapReduceCluster({
      datanodes: shape.datanodes,
      workers: shape.workers,
      masterArgs: CHAOS_MASTER_ARGS,
      dfsOptions: { persistentRegistry: true, leaseTimeoutS: 10 },
    });
  }

  /** The search nodes (there once `start` has started them). */
  get search(): SearchCluster {
    if (this.searchCluster === undefined) throw new Error('the search nodes have not started');
    return this.searchCluster;
  }

  get registryUrl(): string {
    return this.mapreduce.dfs.registry.url;
  }

  get metaUrl(): string {
    return this.mapreduce.dfs.meta.url;
  }

  get masterUrl(): string {
    return this.mapreduce.masterUrl;
  }

  /** Every process the cluster runs. */
  targets(): ProcessTarget[] {
    const indexes = (count: number): number[] => Array.from({ length: count }, (_, i) => i);
    return [
      { kind: 'registry' },
      { kind: 'dfs-meta' },
      ...indexes(this.shape.datanodes).map((index) => ({ kind: 'datanode', index }) as const),
      ...indexes(this.shape.searchNodes).map((index) => ({ kind: 'search-node', index }) as const),
      { kind: 'mapreduce-master' },
      ...indexes(this.shape.workers).map((index) => ({ kind: 'mapreduce-worker', index }) as const),
    ];
  }

  async start(): Promise<void> {
    await this.mapreduce.start();
    this.searchCluster = new SearchCluster({
      nodes: this.shape.searchNodes,
      registryUrl: this.registryUrl,
    });
    await this.search.start();
    for (const target of this.targets()) this.watch(target);
  }

  /** The running process of a target, or undefined when it is down. */
  process(target: ProcessTarget): RunningProcess | undefined {
    if (this.down.has(targetName(target))) return undefined;
    const dfs = this.mapreduce.dfs;
    switch (target.kind) {
      case 'registry':
        return dfs.registry;
      case 'dfs-meta':
        return dfs.meta;
      case 'datanode':
        return dfs.datanodes[target.index];
      case 'search-node':
        return this.search.nodes[target.index];
      case 'mapreduce-master':
        return this.mapreduce.master;
      case 'mapreduce-worker':
        return this.mapreduce.workers[target.index];
    }
  }

  isRunning(target: ProcessTarget): boolean {
    const child = this.process(target)?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** SIGKILLs a target; answers false when it was not running. */
  async kill(target: ProcessTarget): Promise<boolean> {
    const running = this.process(target);
    if (running === undefined || !this.isRunning(target)) return false;
    this.killing.add(running);
    this.down.add(targetName(target));
    if (target.kind === 'search-node') await this.search.kill(target.index);
    else await running.kill('SIGKILL');
    return true;
  }

  /**
   * Restarts a target on its port and data dir (a few attempts: a port can be briefly taken);
   * answers whether it runs again.
   */
  async restart(target: ProcessTarget): Promise<boolean> {
    for (let attempt = 0; attempt < RESTART_ATTEMPTS; attempt += 1) {
      try {
        await this.startProcess(target);
        this.down.delete(targetName(target));
        this.watch(target);
        return true;
      } catch {
        // The helper killed the half-started child; try again.
      }
    }
    return false;
  }

  /** The id of the search leader as a running node reports it, if any node answers. */
  async searchLeader(): Promise<number | undefined> {
    for (const index of this.search.running()) {
      try {
        const status = await this.search.status(index);
        if (status.leader_id !== null) return status.leader_id;
      } catch {
        // Ask the next node.
      }
    }
    return undefined;
  }

  /** Kills every process and removes the data dirs (also after a start that failed half-way). */
  async stop(): Promise<void> {
    if (this.searchCluster !== undefined)
      for (const target of this.targets()) {
        const running = this.process(target);
        if (running !== undefined) this.killing.add(running);
      }
    await this.searchCluster?.stop();
    await this.mapreduce.stop();
  }

  private async startProcess(target: ProcessTarget): Promise<void> {
    const dfs = this.mapreduce.dfs;
    switch (target.kind) {
      case 'registry':
        await dfs.startRegistry();
        return;
      case 'dfs-meta':
        await dfs.startMeta();
        return;
      case 'datanode':
        await dfs.startDatanode(target.index);
        return;
      case 'search-node':
        await this.search.startNode(target.index);
        return;
      case 'mapreduce-master':
        await this.mapreduce.startMaster();
        return;
      case 'mapreduce-worker':
        await this.mapreduce.startWorker(target.index);
        return;
    }
  }

  /** Records the process's exit when the supervisor did not cause it. */
  private watch(target: ProcessTarget): void {
    const running = this.process(target);
    if (running === undefined) return;
    const name = targetName(target);
    void running.exited().then(({ code, signal }) => {
      if (this.killing.has(running)) return;
      this.down.add(name);
      const exits = this.unexpectedExits.get(name) ?? [];
      exits.push(`${code ?? signal}; last lines: ${running.lines.slice(-3).join(' | ')}`);
      this.unexpectedExits.set(name, exits);
    });
  }
}
