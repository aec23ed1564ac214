/**
 * CPU time of the node processes, from Linux's /proc (utime + stime): what a workload cost the
 * cluster whatever else ran on the machine, so that figures measured on a shared, loaded
 * machine can be read next to the load-independent cost per document or per query.
 */
import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU times in ticks of 10 ms. */
const TICKS_PER_S = 100;

/** utime + stime of one process in milliseconds, or undefined where /proc is not readable. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start with the state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_S : undefined;
  } catch {
    return undefined;
  }
}

/** The summed CPU milliseconds of processes (those not readable count 0). */
export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
}

/** Busy CPU time of the whole machine in milliseconds (all cores; /proc/stat, idle and iowait excluded). */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return Number.isFinite(total) ? ((total - idle) * 1000) / TICKS_PER_S : undefined;
  } catch {
    return undefined;
  }
}

/** What a measured window cost: the nodes' CPU, and the cores other work kept busy meanwhile. */
export interface CpuWindowResult {
  readonly nodeCpuMs: number;
  /** Average cores busy with anything but the nodes and this process during the window. */
  readonly otherCores: number;
}

/** Starts measuring a window over the given node processes; `end()` answers its cost. */
export function cpuWindow(pids: readonly number[]): { end(): CpuWindowResult } {
  const startedMs = performance.now();
  const nodesBefore = totalCpuMs(pids);
  const selfBefore = process.cpuUsage();
  const machineBefore = machineBusyMs();
  return {
    end(): CpuWindowResult {
      const elapsedMs = Math.max(1, performance.now() - startedMs);
      const nodeCpuMs = totalCpuMs(pids) - nodesBefore;
      const self = process.cpuUsage(selfBefore);
      const selfMs = (self.user + self.system) / 1000;
      const machineAfter = machineBusyMs();
      const machineMs =
        machineBefore === undefined || machineAfter === undefined
          ? 0
          : machineAfter - machineBefore;
      return { nodeCpuMs, otherCores: Math.max(0, (machineMs - nodeCpuMs - selfMs) / elapsedMs) };
    },
  };
}
