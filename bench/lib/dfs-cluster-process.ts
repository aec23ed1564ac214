/**
 * A real local DFS for the benchmark: `tessera registry`, `tessera meta` and N `tessera
 * datanode` as child processes on 127.0.0.1, with their data dirs under one temporary dir, and
 * with the services' default settings (heartbeats, scrubbing) except for ports and node ids
 * (`dn-0`, `dn-1`, ...). The sources run through tsx, so the checkout's code is measured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { spawnService, type ChildService, type SpawnServiceOptions } from './child-service.js';

const SERVICE_ENV = {
  TESSERA_FROM_SOURCE: '1',
  TESSERA_LOG_FORMAT: 'json',
  TESSERA_LOG_LEVEL: 'info',
};

/** Process ids of the services this benchmark started and has not stopped yet. */
const running = new Set<number>();

/** `spawnService`, remembering the child until it is stopped (for `killRunningServices`). */
export async function spawnTrackedService(options: SpawnServiceOptions): Promise<ChildService> {
  const service = await spawnService(options);
  running.add(service.pid);
  return {
    ...service,
    async stop(graceMs) {
      await service.stop(graceMs);
      running.delete(service.pid);
    },
  };
}

/** SIGKILLs every service still running (when the benchmark itself is interrupted). */
export function killRunningServices(): void {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

/**
 * While a benchmark runs: on SIGINT or SIGTERM (Ctrl-C, a timeout) kill every service it
 * started and run `cleanup`, so that no service outlives the run and no temp dir stays.
 * Answers the function that removes the handlers when the run ends.
 */
export function cleanUpOnSignals(cleanup: () => void): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    killRunningServices();
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A temporary directory on the same disk as the data, removed by `cleanup`. */
export function benchTempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'tessera-bench-dfs-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Starts a `tessera` service command with extra node flags (e.g. `--cpu-prof`). */
export function startTesseraService(
  args: readonly string[],
  nodeFlags: readonly string[] = [],
): Promise<ChildService> {
  return spawnTrackedService({
    args: [...nodeFlags, 'bin/tessera.js', ...args, '--host', '127.0.0.1'],
    env: SERVICE_ENV,
  });
}

/** Registry, master and datanodes of one benchmark run. */
export class BenchDfsCluster {
  registry!: ChildService;
  meta!: ChildService;
  readonly datanodes: ChildService[] = [];

  constructor(
    private readonly dir: string,
    private readonly datanodeCount: number,
    /** Node flags of the master (e.g. `--cpu-prof`, to profile the metadata load). */
    private readonly metaNodeFlags: readonly string[] = [],
  ) {}

  /** Node ids of the datanodes, as the master knows them. */
  get nodeIds(): string[] {
    return Array.from({ length: this.datanodeCount }, (_v, index) => `dn-${index}`);
  }

  async start(): Promise<void> {
    this.registry = await startTesseraService(['registry', '--port', '0', '--in-memory']);
    this.meta = await startTesseraService(
      [
        'meta',
        '--port',
        '0',
        '--data-dir',
        join(this.dir, 'meta'),
        '--registry',
        this.registry.url,
      ],
      this.metaNodeFlags,
    );
    for (let index = 0; index < this.datanodeCount; index += 1) {
      this.datanodes[index] = await this.startDatanode(index, 0);
    }
    await this.waitForActiveDatanodes();
  }

  /**
   * Stops datanode `index` gracefully and starts it again on its port, with `nodeFlags` for
   * node and `extraArgs` for the datanode.
   */
  async restartDatanode(
    index: number,
    nodeFlags: readonly string[],
    extraArgs: readonly string[] = [],
  ): Promise<ChildService> {
    const current = this.datanodes[index];
    if (!current) throw new Error(`no datanode ${index}`);
    await current.stop(30_000);
    const port = Number(new URL(current.url).port);
    const restarted = await this.startDatanode(index, port, nodeFlags, extraArgs);
    this.datanodes[index] = restarted;
    await this.waitForActiveDatanodes();
    return restarted;
  }

  /** Stops every service gracefully (so that profiled ones write their profiles). */
  async stop(): Promise<void> {
    await Promise.all(this.datanodes.map((datanode) => datanode.stop(30_000)));
    await this.meta?.stop();
    await this.registry?.stop();
  }

  private startDatanode(
    index: number,
    port: number,
    nodeFlags: readonly string[] = [],
    extraArgs: readonly string[] = [],
  ): Promise<ChildService> {
    return startTesseraService(
      [
        'datanode',
        '--port',
        String(port),
        '--data-dir',
        join(this.dir, `datanode-${index}`),
        '--registry',
        this.registry.url,
        '--meta',
        this.meta.url,
        '--node-id',
        `dn-${index}`,
        ...extraArgs,
      ],
      nodeFlags,
    );
  }

  private async waitForActiveDatanodes(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const live = new Set(this.datanodes.map((datanode) => datanode.url));
    while (performance.now() < deadline) {
      const response = await request(`${this.meta.url}/api/v1/nodes`);
      const { nodes } = (await response.body.json()) as {
        nodes: { node_id: string; state: string; url: string }[];
      };
      const active = nodes.filter((node) => node.state === 'active' && live.has(node.url));
      if (active.length >= this.datanodeCount) return;
      await sleep(100);
    }
    throw new Error(`the master did not see ${this.datanodeCount} active datanodes in time`);
  }
}
