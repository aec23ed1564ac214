import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '../../core/http-client.js';
import { colorFor, formatChildLine } from './log-format.js';
import type { ChildSpec } from './plan.js';

/** How the supervisor starts a `tessera` process: the same Node and entry point as itself. */
export interface Launcher {
  readonly command: string;
  readonly baseArgs: readonly string[];
}

export function currentLauncher(): Launcher {
  return {
    command: process.execPath,
    baseArgs: [...process.execArgv, process.argv[1] ?? 'tessera'],
  };
}

interface Running {
  readonly spec: ChildSpec;
  readonly color: number | undefined;
  process: ChildProcess | undefined;
  restarts: number;
  startedAtMs: number;
}

export interface SupervisorOptions {
  readonly launcher: Launcher;
  readonly out: (line: string) => void;
  readonly colors: boolean;
  /** Longest wait for a process to answer `/health`. */
  readonly healthTimeoutMs: number;
}

/**
 * Runs the processes of a local cluster: prefixed, coloured logs; waits for health; restarts
 * a process that dies (with backoff); stops all of them in reverse order on `stop()`.
 */
export class Supervisor {
  private readonly running: Running[] = [];
  private readonly http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 1_000,
    breaker: { failureThreshold: 1_000_000 },
  });
  private stopping = false;
  private readonly nameWidth: number;

  constructor(
    private readonly children: readonly ChildSpec[],
    private readonly options: SupervisorOptions,
  ) {
    this.nameWidth = Math.max(...children.map((child) => child.name.length));
    // Children live in their own process groups: never leave one behind when we exit.
    process.once('exit', () => {
      for (const entry of this.running) {
        const child = entry.process;
        if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  }

  /** Starts every stage in order, each waiting until its processes are healthy. */
  async start(): Promise<void> {
    const stages = [...new Set(this.children.map((child) => child.stage))].sort((a, b) => a - b);
    for (const stage of stages) {
      const batch = this.children.filter((child) => child.stage === stage);
      for (const spec of batch) {
        const index = this.children.indexOf(spec);
        const entry: Running = {
          spec,
          color: this.options.colors ? colorFor(index) : undefined,
          process: undefined,
          restarts: 0,
          startedAtMs: Date.now(),
        };
        this.running.push(entry);
        this.launch(entry);
      }
      await Promise.all(batch.map((spec) => this.waitHealthy(spec)));
    }
  }

  /** Names and PIDs of the running processes (tests kill them). */
  processes(): { name: string; pid: number | undefined; url: string; restarts: number }[] {
    return this.running.map((entry) => ({
      name: entry.spec.name,
      pid: entry.process?.pid,
      url: entry.spec.url,
      restarts: entry.restarts,
    }));
  }

  /** SIGTERM to every process in reverse start order; SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const entry of [...this.running].reverse()) {
      const child = entry.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await this.http.close();
  }

  private launch(entry: Running): void {
    const { launcher } = this.options;
    const child = spawn(launcher.command, [...launcher.baseArgs, ...entry.spec.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TESSERA_LOG_FORMAT: 'json' },
      // Own process group: a terminal's Ctrl-C reaches only the supervisor, which then stops
      // the children one by one (a child hit by both would skip its graceful stop).
      detached: true,
    });

    entry.process = child;
    entry.startedAtMs = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.print(entry, line));
    }
    child.once('exit', (code, signal) => this.onExit(entry, code, signal));
  }

  private print(entry: Running, line: string): void {
    this.options.out(formatChildLine(entry.spec.name, this.nameWidth, line, entry.color));
  }

  private onExit(entry: Running, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    // A process that ran a minute is "healthy again": its restart backoff starts over.
    if (Date.now() - entry.startedAtMs > 60_000) entry.restarts = 0;
    const delayMs = Math.min(30_000, 500 * 2 ** entry.restarts);
    entry.restarts += 1;
    this.print(entry, `!! ${entry.spec.name} ${how}; restarting in ${delayMs / 1000}s`);
    setTimeout(() => {
      if (!this.stopping) this.launch(entry);
    }, delayMs);
  }

  private async waitHealthy(spec: ChildSpec): Promise<void> {
    const deadline = Date.now() + this.options.healthTimeoutMs;
    while (Date.now() < deadline) {
      try {
        await this.http.getJson(`${spec.url}/health`);
        return;
      } catch {
        await sleep(150);
      }
    }
    throw new Error(
      `${spec.name} did not answer ${spec.url}/health within ${this.options.healthTimeoutMs / 1000}s; see its log lines above`,
    );
  }
}
