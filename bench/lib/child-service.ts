/**
 * Services under test run as real child processes (DESIGN.md, rule 3): started here, found
 * ready by the JSON log line that carries their `url`, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Children still running; killed if the benchmark process exits first (e.g. on a crash). */
const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** A running child service. */
export interface ChildService {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnServiceOptions {
  /** Arguments after `node` (node flags, script, script arguments). */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Longest wait for the `url` line (default 30 s: tsx compiles the sources on first start). */
  readonly readyTimeoutMs?: number;
}

/** Starts `node ...args` and resolves when it logs a JSON line with a `url` field. */
export function spawnService(options: SpawnServiceOptions): Promise<ChildService> {
  const child = spawn(process.execPath, [...options.args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  createInterface({ input: child.stderr }).on('line', remember);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not report its url in time:\n${tail.join('\n')}`));
    }, options.readyTimeoutMs ?? 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`service exited (${code ?? signal}) before it was ready:\n${tail.join('\n')}`),
      );
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      remember(line);
      const url = urlOf(line);
      if (url === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ url, pid: child.pid ?? -1, stop: (graceMs) => stopChild(child, graceMs ?? 5_000) });
    });
  });
}

function urlOf(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { url?: unknown };
    return typeof parsed.url === 'string' ? parsed.url : undefined;
  } catch {
    return undefined;
  }
}

/** After SIGKILL, how long to wait for the exit event before giving up on it. */
const AFTER_KILL_MS = 5_000;

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves on the exit event, and in any case
 * `AFTER_KILL_MS` after the SIGKILL (a benchmark must not wait forever for one lost event).
 */
function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    let giveUp: NodeJS.Timeout | undefined;
    const kill = setTimeout(() => {
      child.kill('SIGKILL');
      giveUp = setTimeout(() => {
        process.stderr.write(`bench: pid ${child.pid ?? '?'} sent no exit event after SIGKILL\n`);
        resolve();
      }, AFTER_KILL_MS);
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      clearTimeout(giveUp);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
