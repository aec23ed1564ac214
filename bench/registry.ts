/**
 * Registry benchmark (issue 2): heartbeats per second one registry sustains from a separate
 * load process over keep-alive connections, with 10, 1,000 and 10,000 registered servers, in
 * memory and with its SQLite data dir; and the delay between a server's last heartbeat and the
 * registry reporting it inactive. Throughput is also given as a ratio to a minimal Node `http`
 * server measured by the same load process in the same run (the raw Node HTTP ceiling), once
 * before and once after the registries, so that drifting load on the machine shows.
 *
 * Run: `npm run bench -- registry [--duration=5] [--warmup=1] [--connections=32]
 * [--in-flight=32] [--profile]` (`--profile` writes V8 CPU profiles of the servers under
 * bench/results/tmp/profiles/ and prints where their time went).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { spawnService } from './lib/child-service.js';
import {
  numberOption,
  RESULTS_DIR,
  type BenchContext,
  type BenchReport,
  type Benchmark,
} from './lib/harness.js';
import { runLoadProcess, type LoadResult } from './lib/load-protocol.js';
import { ProfileCollector } from './lib/profile-summary.js';
import { measureDetection, type DetectionResult } from './lib/registry-detection.js';
import {
  heartbeatBody,
  registerServers,
  startRegistryProcess,
  type RegistryStorage,
} from './lib/registry-process.js';
import {
  buildRegistryReport,
  DETECTION,
  SERVER_COUNTS,
  type LoadSettings,
  type Scenario,
  type StorageRun,
} from './lib/registry-report.js';

async function run(context: BenchContext): Promise<BenchReport> {
  const settings: LoadSettings = {
    connections: numberOption(context.options, 'connections', 32),
    inFlight: numberOption(context.options, 'in-flight', 32),
    warmupMs: numberOption(context.options, 'warmup', 1) * 1000,
    durationMs: numberOption(context.options, 'duration', 5) * 1000,
  };
  const profiler =
    context.options['profile'] === true
      ? new ProfileCollector(join(RESULTS_DIR, 'tmp', 'profiles'))
      : undefined;

  const baselineBefore = await measureBaseline(settings, context, profiler);
  const memory = await measureStorage('in-memory', settings, context, profiler);
  const sqlite = await measureStorage('sqlite', settings, context, profiler);
  const baselineAfter = await measureBaseline(settings, context, undefined);
  context.log(
    `detection: timeout ${DETECTION.heartbeatTimeoutMs / 1000} s, ` +
      `cleanup ${DETECTION.cleanupIntervalMs / 1000} s`,
  );
  const detection = await runDetection();
  const report = buildRegistryReport({
    settings,
    baselines: [baselineBefore, baselineAfter],
    memory,
    sqlite,
    detection,
  });
  if (!profiler) return report;
  context.log(`CPU profiles in ${profiler.dir}`);
  return {
    ...report,
    figures: { ...report.figures, profiles: profiler.summaries },
    tables: [...report.tables, ...profiler.tables],
  };
}

/** The raw Node HTTP ceiling: the baseline server under the same load. */
async function measureBaseline(
  settings: LoadSettings,
  context: BenchContext,
  profiler: ProfileCollector | undefined,
): Promise<Scenario> {
  context.log('baseline: minimal Node http server');
  const server = await spawnService({
    args: [...(profiler?.nodeFlags() ?? []), '--import', 'tsx', 'bench/lib/baseline-server.ts'],
  });
  try {
    const bodies = Array.from({ length: 10_000 }, (_v, at) => heartbeatBody(randomUUID(), at));
    const result = await load(server.url, server.pid, bodies, {
      ...settings,
      warmupMs: settings.warmupMs * 2,
    });
    return { storage: 'baseline', servers: bodies.length, ...result };
  } finally {
    await server.stop();
    profiler?.collect('node http baseline', server.pid);
  }
}

/** One registry process: register up to each server count, then heartbeat all of them. */
async function measureStorage(
  storage: RegistryStorage,
  settings: LoadSettings,
  context: BenchContext,
  profiler: ProfileCollector | undefined,
): Promise<StorageRun> {
  const registry = await startRegistryProcess({
    storage,
    flags: ['--heartbeat-timeout', '120'],
    ...(profiler ? { nodeFlags: profiler.nodeFlags() } : {}),
  });
  const scenarios: Scenario[] = [];
  const ids: string[] = [];
  let registrationSeconds = 0;
  try {
    for (const count of SERVER_COUNTS) {
      const added = await registerServers(registry.url, ids.length, count);
      registrationSeconds += added.ids.length / added.perS;
      ids.push(...added.ids);
      context.log(`${storage}: ${count} servers registered; heartbeating`);
      const bodies = ids.map((id, at) => heartbeatBody(id, at));
      // The first load of a fresh process also warms up V8's JIT: give it twice the warm-up.
      const warmupMs = scenarios.length === 0 ? settings.warmupMs * 2 : settings.warmupMs;
      const result = await load(registry.url, registry.pid, bodies, { ...settings, warmupMs });
      scenarios.push({ storage, servers: count, ...result });
    }
  } finally {
    await registry.stop();
    profiler?.collect(`registry ${storage} (whole run, registrations included)`, registry.pid);
  }
  return { scenarios, registrationsPerS: Math.round(ids.length / registrationSeconds) };
}

function load(
  url: string,
  pid: number,
  bodies: readonly string[],
  settings: LoadSettings,
): Promise<LoadResult> {
  return runLoadProcess({ url, path: '/heartbeat', bodies, serverPid: pid, ...settings });
}

async function runDetection(): Promise<DetectionResult> {
  const registry = await startRegistryProcess({
    storage: 'in-memory',
    flags: [
      '--heartbeat-timeout',
      String(DETECTION.heartbeatTimeoutMs / 1000),
      '--cleanup-interval',
      String(DETECTION.cleanupIntervalMs / 1000),
    ],
  });
  try {
    return await measureDetection({ url: registry.url, ...DETECTION });
  } finally {
    await registry.stop();
  }
}

/** The registry benchmark, for bench/run.ts. */
export const benchmark: Benchmark = {
  name: 'registry',
  description: 'heartbeats/s with 10, 1,000, 10,000 servers; inactive-detection delay',
  run,
};
