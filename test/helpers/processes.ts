/**
 * Real processes for integration tests (DESIGN.md, rule 3): services on 127.0.0.1 with
 * ephemeral ports, killed with SIGKILL in fault tests. Waits are on conditions with deadlines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TESSERA_BIN = join(PROJECT_ROOT, 'bin', 'tessera.js');

export interface RunningProcess {
  readonly child: ChildProcess;
  /** The URL the process logged as its listening address. */
  readonly url: string;
  /** Every output line so far (for assertions and for failure messages). */
  readonly lines: string[];
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Defaults of `startProcess`. A suite that starts many processes on a loaded machine (the chaos
 * run) may raise `startTimeoutMs`; each test file runs in its own process, so others keep 30 s.
 */
export const processDefaults = { startTimeoutMs: 30_000 };

/** Environment for children: sources through tsx unless the suite runs on the build. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TESSERA_FROM_SOURCE: process.env['TESSERA_TEST_USE_DIST'] === '1' ? '0' : '1',
    TESSERA_LOG_FORMAT: 'json',
    ...extra,
  };
}

/**
 * Starts `node <script> args...` and resolves once a log line carries a `url` field matching
 * `readyMessage` (services log `"... listening"` with the url).
 */
export async function startProcess(
  script: string,
  args: readonly string[],
  options: {
    readyMessage?: RegExp;
    timeoutMs?: number;
    env?: Record<string, string>;
    nodeArgs?: string[];
    /**
     * A command that execs the node process in place, e.g. `['ip', 'netns', 'exec', NAME]`
     * (it must not fork: `kill` signals the child's pid).
     */
    wrapper?: readonly string[];
  } = {},
): Promise<RunningProcess> {
  const [command = process.execPath, ...commandArgs] = [
    ...(options.wrapper ?? []),
    process.execPath,
    ...(options.nodeArgs ?? []),
    script,
    ...args,
  ];
  const child = spawn(command, commandArgs, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv(options.env ?? {}),
  });
  const lines: string[] = [];
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<string>((resolve, reject) => {
    const onLine = (line: string): void => {
      lines.push(line);
      if (process.env['TESSERA_TEST_VERBOSE'] === '1')
        process.stderr.write(`[child ${child.pid}] ${line}\n`);
      const url = listeningUrl(line, options.readyMessage ?? /listening/);
      if (url) resolve(url);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    void exit.then(({ code, signal }) =>
      reject(
        new Error(`process exited (${code ?? signal}) before it was ready:\n${lines.join('\n')}`),
      ),
    );
  });
  const timeoutMs = options.timeoutMs ?? processDefaults.startTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not ready within ${timeoutMs} ms:\n${lines.join('\n')}`)),
      timeoutMs,
    );
  });
  try {
    const url = await Promise.race([ready, timeout]);
    return {
      child,
      url,
      lines,
      exited: () => exit,
      async kill(signal = 'SIGKILL') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        return exit;
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function listeningUrl(line: string, readyMessage: RegExp): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as { msg?: string; url?: string };
    if (typeof record.url === 'string' && readyMessage.test(record.msg ?? '')) return record.url;
  } catch {
    return undefined;
  }
  return undefined;
}

/** Starts `tessera <args>` (a service command) and waits until it listens. */
export function startTessera(
  args: readonly string[],
  options: { timeoutMs?: number; env?: Record<string, string>; wrapper?: readonly string[] } = {},
): Promise<RunningProcess> {
  return startProcess(TESSERA_BIN, args, options);
}

/**
 * Awaits every start and then throws the first failure, so that a failed start never leaves the
 * others running unawaited: their processes are recorded by then, and `stop()` kills them.
 */
export async function allStarted<T>(starts: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    const reason: unknown = failure.reason;
    throw reason instanceof Error ? reason : new Error(String(reason));
  }
  return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `tessera-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls `condition` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  description: string,
  condition: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(options.intervalMs ?? 50);
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out waiting for ${description}${reason}`);
}
