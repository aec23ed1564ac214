/**
 * What the DFS benchmark reads about processes from Linux's /proc: resident memory (current,
 * and the peak since a reset through `clear_refs`), CPU time per process and of the machine.
 * Every reader answers `undefined` where /proc is not readable, and the callers fall back.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Resident set size and its high-water mark since the last reset, in bytes. */
export interface RssReading {
  readonly rssBytes: number;
  readonly peakBytes: number;
}

/** Reads VmRSS and VmHWM of `pid` (`'self'` for this process). */
export function readRss(pid: number | 'self'): RssReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number =>
      Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]);
    const rssBytes = kib('VmRSS') * 1024;
    const peakBytes = kib('VmHWM') * 1024;
    return Number.isFinite(rssBytes) && Number.isFinite(peakBytes)
      ? { rssBytes, peakBytes }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Resets the peak RSS (VmHWM) of `pid` to its current RSS (`echo 5 > clear_refs`). */
export function resetPeakRss(pid: number | 'self'): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux). */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Busy (neither idle nor waiting for I/O) clock ticks of the whole machine, from /proc/stat. */
export function machineBusyTicks(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    return total - (ticks[3] ?? 0) - (ticks[4] ?? 0);
  } catch {
    return undefined;
  }
}

/** Peak memory and CPU of watched processes over one window. */
export interface WindowStats {
  /** Per label: peak RSS over the window (VmHWM after a reset, or the sampled maximum). */
  readonly peakRssBytes: Record<string, number>;
  /** Per label: RSS when the window opened. */
  readonly startRssBytes: Record<string, number>;
  /** Per label: CPU used over the window, in cores (1 = one core busy the whole window). */
  readonly cpuCores: Record<string, number>;
  /** CPU the whole machine used over the window, in cores. */
  readonly machineBusyCores: number | undefined;
  readonly windowS: number;
}

/**
 * Watches a set of processes over a window: resets their peak RSS when it opens, samples
 * their RSS every `intervalMs` (in case the reset is refused), and reads their CPU time.
 */
export class ProcessWindow {
  private readonly samples = new Map<string, number>();
  private readonly startRss = new Map<string, number>();
  private readonly startTicks = new Map<string, number>();
  private readonly startMachine: number | undefined;
  private readonly startedMs = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: Readonly<Record<string, number>>,
    intervalMs = 50,
  ) {
    for (const [label, pid] of Object.entries(pids)) {
      resetPeakRss(pid);
      const reading = readRss(pid);
      this.startRss.set(label, reading?.rssBytes ?? 0);
      this.samples.set(label, reading?.rssBytes ?? 0);
      this.startTicks.set(label, cpuTicks(pid) ?? 0);
    }
    this.startMachine = machineBusyTicks();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Closes the window and answers what it saw. */
  close(): WindowStats {
    clearInterval(this.timer);
    this.sample();
    const windowS = (performance.now() - this.startedMs) / 1000;
    const cores = (ticks: number): number => Math.round((ticks / 100 / windowS) * 100) / 100;
    const peakRssBytes: Record<string, number> = {};
    const cpuCores: Record<string, number> = {};
    for (const [label, pid] of Object.entries(this.pids)) {
      const peak = readRss(pid)?.peakBytes ?? 0;
      peakRssBytes[label] = Math.max(peak, this.samples.get(label) ?? 0);
      cpuCores[label] = cores((cpuTicks(pid) ?? 0) - (this.startTicks.get(label) ?? 0));
    }
    const machineEnd = machineBusyTicks();
    return {
      peakRssBytes,
      startRssBytes: Object.fromEntries(this.startRss),
      cpuCores,
      machineBusyCores:
        this.startMachine === undefined || machineEnd === undefined
          ? undefined
          : cores(machineEnd - this.startMachine),
      windowS,
    };
  }

  private sample(): void {
    for (const [label, pid] of Object.entries(this.pids)) {
      const rss = readRss(pid)?.rssBytes ?? 0;
      if (rss > (this.samples.get(label) ?? 0)) this.samples.set(label, rss);
    }
  }
}
