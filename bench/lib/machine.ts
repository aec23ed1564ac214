import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

/** The machine a result was measured on (figures mean little without it). */
export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly os: string;
  /** 1-minute load average when the run started: other work competing for the cores. */
  readonly loadAverage1m: number;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    cpus: cores.length,
    model: cores[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
