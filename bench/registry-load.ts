/**
 * The load process of the HTTP benchmarks, run apart from the benchmark (and from the server)
 * so that the client's work is not charged to the server's event loop. Forked by
 * `runLoadProcess` (bench/lib/load-protocol.ts): it receives one `LoadRequest` over IPC, drives
 * an undici Pool of keep-alive connections with a fixed number of requests in flight, warms up,
 * measures a window, and answers one `LoadResult`.
 */
import { readFileSync } from 'node:fs';
import { createHistogram, performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { LoadRequest, LoadResult } from './lib/load-protocol.js';

type Phase = 'warmup' | 'measure' | 'done';

interface Tally {
  phase: Phase;
  requests: number;
  failures: Record<string, number>;
  next: number;
}

const HEADERS = { 'content-type': 'application/json' };

async function measure(request: LoadRequest): Promise<LoadResult> {
  const pool = new Pool(request.url, {
    connections: request.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
  });
  const bodies = request.bodies.map((body) => Buffer.from(body));
  const latencyUs = createHistogram();
  const tally: Tally = { phase: 'warmup', requests: 0, failures: {}, next: 0 };

  const worker = async (): Promise<void> => {
    while (tally.phase !== 'done') {
      const body = bodies[tally.next++ % bodies.length] ?? Buffer.from('{}');
      const startedMs = performance.now();
      const outcome = await send(pool, request.path, body);
      if (outcome !== '200') {
        // An error may come back without any I/O: yield, or this loop would starve the timers.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (tally.phase !== 'measure') continue;
      if (outcome === '200') {
        tally.requests += 1;
        latencyUs.record(Math.max(1, Math.round((performance.now() - startedMs) * 1000)));
      } else {
        tally.failures[outcome] = (tally.failures[outcome] ?? 0) + 1;
      }
    }
  };
  const workers = Array.from({ length: request.inFlight }, worker);

  await sleep(request.warmupMs);
  tally.phase = 'measure';
  const cpuBefore = process.cpuUsage();
  const serverTicksBefore = cpuTicks(request.serverPid);
  const machineBefore = machineBusyTicks();
  const windowStartMs = performance.now();
  await sleep(request.durationMs);
  const windowS = (performance.now() - windowStartMs) / 1000;
  const requests = tally.requests;
  const failures = { ...tally.failures };
  const cpu = process.cpuUsage(cpuBefore);
  const serverTicksAfter = cpuTicks(request.serverPid);
  const machineAfter = machineBusyTicks();
  tally.phase = 'done';
  await Promise.all(workers);
  await pool.close();

  const cores = (ticks: number): number => Math.round((ticks / 100 / windowS) * 100) / 100;
  const ms = (us: number): number => Math.round(us / 10) / 100;
  return {
    requests,
    requestsPerS: Math.round(requests / windowS),
    failures,
    p50Ms: ms(latencyUs.percentile(50)),
    p90Ms: ms(latencyUs.percentile(90)),
    p99Ms: ms(latencyUs.percentile(99)),
    maxMs: ms(latencyUs.max),
    windowS: Math.round(windowS * 100) / 100,
    loadCpuCores: Math.round(((cpu.user + cpu.system) / 1e6 / windowS) * 100) / 100,
    ...(serverTicksBefore !== undefined && serverTicksAfter !== undefined
      ? { serverCpuCores: cores(serverTicksAfter - serverTicksBefore) }
      : {}),
    ...(machineBefore !== undefined && machineAfter !== undefined
      ? { machineBusyCores: cores(machineAfter - machineBefore) }
      : {}),
  };
}

/**
 * Sends one POST through the Pool's low-level `dispatch` (no response stream is built, which
 * keeps the client's own CPU cost low); answers the status as a string, or the error's code.
 */
function send(pool: Pool, path: string, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    let status = 0;
    pool.dispatch(
      { method: 'POST', path, headers: HEADERS, body },
      {
        onRequestStart: () => undefined,
        onResponseStart: (_controller, statusCode) => {
          status = statusCode;
        },
        onResponseData: () => undefined,
        onResponseEnd: () => resolve(String(status)),
        onResponseError: (_controller, error) =>
          resolve((error as { code?: string }).code ?? 'error'),
      },
    );
  });
}

/**
 * utime + stime of a process from /proc/PID/stat, in clock ticks (USER_HZ, 100 on Linux).
 * The command name (field 2) may hold spaces, so fields are counted after its closing paren.
 */
function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Busy (not idle, not waiting for I/O) clock ticks of the whole machine, from /proc/stat. */
function machineBusyTicks(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    return total - (ticks[3] ?? 0) - (ticks[4] ?? 0);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

process.once('message', (request: LoadRequest) => {
  measure(request).then(
    (result) => process.send?.({ result }),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
