/**
 * The registry benchmark's figures, targets and tables, built from what bench/registry.ts
 * measured.
 */
import { round, type BenchReport } from './harness.js';
import type { LoadResult } from './load-protocol.js';
import type { DetectionResult } from './registry-detection.js';
import type { RegistryStorage } from './registry-process.js';
import type { Table } from './table.js';

/** Registered servers for each throughput measurement. */
export const SERVER_COUNTS = [10, 1_000, 10_000] as const;
/** Issue 2: at least this many heartbeats/s with 10,000 servers. */
export const TARGET_HEARTBEATS_PER_S = 15_000;
/** The registry and agents of the detection trials (victims fall silent; survivors do not). */
export const DETECTION = {
  heartbeatTimeoutMs: 2_000,
  cleanupIntervalMs: 500,
  heartbeatIntervalMs: 250,
  victims: 6,
  survivors: 3,
} as const;

/** How the load process drives a server. */
export interface LoadSettings {
  readonly connections: number;
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** One measured heartbeat load. */
export interface Scenario extends LoadResult {
  readonly storage: RegistryStorage | 'baseline';
  readonly servers: number;
}

/** The loads on one registry process, and how fast it took the registrations. */
export interface StorageRun {
  readonly scenarios: Scenario[];
  readonly registrationsPerS: number;
}

export interface RegistryMeasurements {
  readonly settings: LoadSettings;
  /** The baseline, measured before and after the registries. */
  readonly baselines: readonly [Scenario, Scenario];
  readonly memory: StorageRun;
  readonly sqlite: StorageRun;
  readonly detection: DetectionResult;
}

/** A scenario with the derived figures. */
interface ScenarioFigures extends Scenario {
  /** Heartbeats/s divided by the baseline's (mean of before and after). */
  readonly ratioToBaseline: number;
  /** Microseconds of server CPU per request. */
  readonly serverCpuUsPerRequest?: number;
  /**
   * Requests/s the server would sustain with one core to itself at this CPU cost per request
   * (the server is single-threaded): an estimate for a machine where nothing competes.
   */
  readonly oneCoreEstimatePerS?: number;
  /**
   * Server CPU per request divided by the baseline's (mean of the two runs): what a heartbeat
   * costs next to raw Node HTTP. Steadier than `ratioToBaseline` when other work competes.
   */
  readonly cpuCostRatioToBaseline?: number;
}

/** Builds figures, targets and tables. */
export function buildRegistryReport(measured: RegistryMeasurements): BenchReport {
  const [before, after] = measured.baselines;
  const baselinePerS = (before.requestsPerS + after.requestsPerS) / 2;
  const baselineUs = (cpuUsPerRequest(before) + cpuUsPerRequest(after)) / 2;
  const withRatios = (scenario: Scenario): ScenarioFigures =>
    derive(scenario, baselinePerS, baselineUs);
  const memory = measured.memory.scenarios.map(withRatios);
  const sqlite = measured.sqlite.scenarios.map(withRatios);
  const at10k = (scenarios: ScenarioFigures[]): number =>
    scenarios.find((s) => s.servers === 10_000)?.requestsPerS ?? 0;
  const delays = measured.detection.trials.map((trial) => trial.delayS);
  const maxDelayS = delays.length > 0 ? Math.max(...delays) : Infinity;
  const allowedS = (DETECTION.heartbeatTimeoutMs + DETECTION.cleanupIntervalMs) / 1000 + 1;
  return {
    figures: {
      settings: {
        ...measured.settings,
        registryCode: 'sources through tsx (TESSERA_FROM_SOURCE=1)',
      },
      baseline: {
        meanPerS: Math.round(baselinePerS),
        before: withRatios(before),
        after: withRatios(after),
      },
      inMemory: { scenarios: memory, registrationsPerS: measured.memory.registrationsPerS },
      sqlite: { scenarios: sqlite, registrationsPerS: measured.sqlite.registrationsPerS },
      detection: {
        heartbeatTimeoutS: DETECTION.heartbeatTimeoutMs / 1000,
        cleanupIntervalS: DETECTION.cleanupIntervalMs / 1000,
        heartbeatIntervalS: DETECTION.heartbeatIntervalMs / 1000,
        minDelayS: delays.length > 0 ? Math.min(...delays) : null,
        maxDelayS: Number.isFinite(maxDelayS) ? maxDelayS : null,
        ...measured.detection,
      },
    },
    targets: {
      heartbeatsPerSWith10kServers: TARGET_HEARTBEATS_PER_S,
      detectionMaxDelayS: `<= timeout + cleanup interval + 1 s = ${allowedS}`,
    },
    passed: {
      heartbeatsPerSWith10kServers:
        Math.min(at10k(memory), at10k(sqlite)) >= TARGET_HEARTBEATS_PER_S,
      detectionMaxDelayS:
        maxDelayS <= allowedS &&
        measured.detection.undetected === 0 &&
        measured.detection.falsePositives === 0,
    },
    tables: [
      throughputTable([withRatios(before), ...memory, ...sqlite, withRatios(after)]),
      detectionTable(measured),
    ],
  };
}

function cpuUsPerRequest(scenario: Scenario): number {
  return ((scenario.serverCpuCores ?? NaN) * 1e6) / scenario.requestsPerS;
}

function derive(scenario: Scenario, baselinePerS: number, baselineUs: number): ScenarioFigures {
  const usPerRequest = cpuUsPerRequest(scenario);
  return {
    ...scenario,
    ratioToBaseline: round(scenario.requestsPerS / baselinePerS, 3),
    ...(Number.isFinite(usPerRequest) && usPerRequest > 0
      ? {
          serverCpuUsPerRequest: round(usPerRequest, 1),
          oneCoreEstimatePerS: Math.round(1e6 / usPerRequest),
          ...(Number.isFinite(baselineUs)
            ? { cpuCostRatioToBaseline: round(usPerRequest / baselineUs, 2) }
            : {}),
        }
      : {}),
  };
}

function throughputTable(scenarios: ScenarioFigures[]): Table {
  const rows = scenarios.map((s) => [
    s.storage === 'baseline' ? 'node http (ceiling)' : `registry ${s.storage}`,
    s.servers,
    s.requestsPerS,
    s.ratioToBaseline,
    s.p50Ms,
    s.p99Ms,
    s.serverCpuCores ?? '-',
    s.serverCpuUsPerRequest ?? '-',
    s.cpuCostRatioToBaseline ?? '-',
    s.oneCoreEstimatePerS ?? '-',
    s.loadCpuCores,
    s.machineBusyCores === undefined
      ? '-'
      : round(Math.max(0, s.machineBusyCores - s.loadCpuCores - (s.serverCpuCores ?? 0)), 2),
    Object.values(s.failures).reduce((sum, n) => sum + n, 0),
  ]);
  return {
    title: 'heartbeats from a separate load process (keep-alive, undici Pool)',
    columns: [
      'server',
      'servers',
      'heartbeats/s',
      'x ceiling',
      'p50 ms',
      'p99 ms',
      'server cores',
      'server CPU us/req',
      'x CPU cost',
      '1-core est./s',
      'load cores',
      'other cores',
      'failures',
    ],
    rows,
  };
}

function detectionTable(measured: RegistryMeasurements): Table {
  const { detection } = measured;
  return {
    title:
      `detection (timeout ${DETECTION.heartbeatTimeoutMs / 1000} s, cleanup ` +
      `${DETECTION.cleanupIntervalMs / 1000} s) and registration`,
    columns: ['figure', 'value'],
    rows: [
      ...detection.trials.map((trial, at) => [
        `trial ${at + 1}: silent at +${trial.stopOffsetMs} ms, ${trial.confirmedStatus} after (s)`,
        trial.delayS,
      ]),
      ['undetected victims', detection.undetected],
      ['survivors wrongly marked inactive', detection.falsePositives],
      ['registrations/s in memory', measured.memory.registrationsPerS],
      ['registrations/s SQLite (durable)', measured.sqlite.registrationsPerS],
    ],
  };
}
