/**
 * DFS benchmark (issue 3, "Benchmark"), in one run on 127.0.0.1 with real processes:
 *
 * 1. The ceiling: three minimal Node `http` receivers (child processes) each store one
 *    streamed PUT of a 1 GiB local file, fanned out from one read by the same undici style of
 *    client as `DfsClient`, fsynced; then one plain streamed GET of it.
 * 2. Tessera: `DfsClient.putFile` (replication 3, 64 MiB chunks) and `getFile` of a 256 MiB
 *    file, then of a 1 GiB file in `--rounds` rounds, against registry + meta + 3 datanodes,
 *    in a client process of its own. A ceiling pass follows each round, so that every round
 *    is bracketed by two ceiling passes taken in the same state of the machine; the share of
 *    the ceiling is the median over rounds of the round's rate over its two ceilings' mean
 *    (dfs-report.ts says why), with the best against the best printed next to it.
 * 3. Memory: peak RSS of the client and of each datanode during every transfer (VmHWM from
 *    /proc, reset before each transfer, and sampled), compared between the two sizes.
 * 4. Metadata: upload-init + commit of 100,000 one-chunk files, 64 in flight, then the time to
 *    list them under one prefix; and the replication planner's tick over as many healthy chunks,
 *    with and without skipping settled chunks (in this process, bench/lib/dfs-planner.ts).
 * When a transfer target is missed (or with `--profile`), one more 1 GiB upload and download
 * runs with the client and datanode 0 under `--cpu-prof`, and their profiles are summarised.
 *
 * Run: `npm run bench -- dfs [--size-mib=1024] [--small-mib=256] [--files=100000]
 * [--in-flight=64] [--rounds=3] [--parallel-chunks=N] [--variants=2,8] [--profile | --profile=off]`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchDfsCluster, benchTempDir, cleanUpOnSignals } from './lib/dfs-cluster-process.js';
import {
  measureCeiling,
  measureListing,
  measureMetadata,
  measureTessera,
  writeRandomFile,
  type TransferPair,
} from './lib/dfs-phases.js';
import { measurePlannerTick } from './lib/dfs-planner.js';
import { profileCategories, profileTables } from './lib/dfs-profile.js';
import {
  buildDfsReport,
  DFS_TARGETS,
  transferShares,
  type DfsMeasurements,
} from './lib/dfs-report.js';
import { startWorker, type DfsWorker } from './lib/dfs-worker-protocol.js';
import {
  numberOption,
  RESULTS_DIR,
  type BenchContext,
  type BenchOptions,
  type BenchReport,
  type Benchmark,
} from './lib/harness.js';
import { ProfileCollector } from './lib/profile-summary.js';

const PROFILED_CLIENT = 'client (putFile + getFile)';
const PROFILED_DATANODE = 'datanode dn-0 (from its restart to its stop)';
const PROFILED_META = 'meta (whole run, mostly the metadata load)';

interface DfsSettings {
  readonly largeBytes: number;
  readonly smallBytes: number;
  readonly files: number;
  readonly inFlight: number;
  readonly parallelChunks: number | undefined;
  readonly variants: number[];
  /** Large-file rounds, each bracketed by two ceiling passes (see dfs-report.ts). */
  readonly rounds: number;
  readonly profile: 'auto' | 'on' | 'off';
}

function settingsOf(options: BenchOptions): DfsSettings {
  const variants = options['variants'];
  const profile = options['profile'];
  return {
    largeBytes: numberOption(options, 'size-mib', 1024) * 2 ** 20,
    smallBytes: numberOption(options, 'small-mib', 256) * 2 ** 20,
    files: numberOption(options, 'files', 100_000),
    inFlight: numberOption(options, 'in-flight', 64),
    parallelChunks:
      options['parallel-chunks'] === undefined
        ? undefined
        : numberOption(options, 'parallel-chunks', 4),
    variants: typeof variants === 'string' ? variants.split(',').map(Number) : [],
    rounds: Math.max(1, numberOption(options, 'rounds', 3)),
    profile: profile === 'off' ? 'off' : profile === undefined ? 'auto' : 'on',
  };
}

async function run(context: BenchContext): Promise<BenchReport> {
  const settings = settingsOf(context.options);
  const temp = benchTempDir();
  const profiler = new ProfileCollector(join(RESULTS_DIR, 'tmp', 'dfs-profiles'));
  // With --profile the master runs under --cpu-prof from the start (its profile is mostly the
  // metadata load); the transfer processes are profiled in a pass of their own.
  const metaFlags = settings.profile === 'on' ? profiler.nodeFlags() : [];
  const cluster = new BenchDfsCluster(join(temp.path, 'cluster'), 3, metaFlags);
  let profiled: { clientPid: number; datanodePid: number } | undefined;
  const removeSignalHandlers = cleanUpOnSignals(() => temp.cleanup());
  try {
    const files = await prepareFiles(temp.path, settings, context);
    const ceilings = [await ceilingPass(temp.path, files.large, context, 1)];
    context.log('starting registry, meta and 3 datanodes');
    await cluster.start();
    const transfers = await transferRounds(
      cluster,
      files,
      temp.path,
      settings,
      async () => {
        ceilings.push(await ceilingPass(temp.path, files.large, context, ceilings.length + 1));
      },
      context,
    );
    const metadata = await metadataPhase(cluster, settings, context);
    const measurements: DfsMeasurements = {
      ceilings,
      ...transfers,
      parallelChunks: settings.parallelChunks,
      ...metadata,
    };
    const shares = transferShares(measurements);
    const missed =
      shares.upload < DFS_TARGETS.uploadShareOfCeiling ||
      shares.download < DFS_TARGETS.downloadShareOfCeiling;
    if (settings.profile === 'on' || (settings.profile === 'auto' && missed)) {
      profiled = await profilePass(cluster, profiler, files.large, temp.path, settings, context);
    }
    const report = buildDfsReport(measurements);
    await cluster.stop();
    if (!profiled) return report;
    context.log(`CPU profiles in ${profiler.dir}`);
    const metaPid = metaFlags.length > 0 ? cluster.meta.pid : undefined;
    return withProfiles(report, profiler, { ...profiled, metaPid });
  } finally {
    removeSignalHandlers();
    await cluster.stop().catch(() => undefined);
    temp.cleanup();
  }
}

/**
 * Tessera's transfers in one client process: the small file, then `rounds` of the large one,
 * each followed by a ceiling pass (with the pass before it, each round is bracketed by two
 * ceilings measured in the same state of the machine), then the `--variants`.
 */
async function transferRounds(
  cluster: BenchDfsCluster,
  files: { small: string; large: string },
  dir: string,
  settings: DfsSettings,
  afterRound: () => Promise<void>,
  context: BenchContext,
): Promise<Pick<DfsMeasurements, 'small' | 'large' | 'variants'>> {
  const worker = await startWorker();
  const pair = (local: string, remote: string, parallelChunks: number | undefined) =>
    tesseraPair(worker, cluster, local, remote, dir, parallelChunks);
  try {
    context.log('tessera: putFile + getFile of the small file');
    const small = await pair(files.small, '/data/small', settings.parallelChunks);
    const large: TransferPair[] = [];
    for (let round = 1; round <= settings.rounds; round += 1) {
      context.log(`tessera: putFile + getFile of the large file, round ${round}`);
      large.push(await pair(files.large, `/data/large-${round}`, settings.parallelChunks));
      await afterRound();
    }
    const variants: DfsMeasurements['variants'][number][] = [];
    for (const parallelChunks of settings.variants) {
      context.log(`tessera: large file with parallelChunks=${parallelChunks}`);
      const measured = await pair(files.large, `/data/large-p${parallelChunks}`, parallelChunks);
      variants.push({ ...measured, parallelChunks });
    }
    return { small, large, variants };
  } finally {
    await worker.stop();
  }
}

/** Adds the profiles of the stopped processes to the report. */
function withProfiles(
  report: BenchReport,
  profiler: ProfileCollector,
  profiled: { clientPid: number; datanodePid: number; metaPid: number | undefined },
): BenchReport {
  const pids: Record<string, number> = {
    [PROFILED_CLIENT]: profiled.clientPid,
    [PROFILED_DATANODE]: profiled.datanodePid,
  };
  if (profiled.metaPid !== undefined) pids[PROFILED_META] = profiled.metaPid;
  for (const [label, pid] of Object.entries(pids)) {
    if (label !== PROFILED_CLIENT) profiler.collect(label, pid);
  }
  return {
    ...report,
    figures: {
      ...report.figures,
      profiles: { categoriesMs: profileCategories(profiler, pids), summaries: profiler.summaries },
    },
    tables: [...report.tables, ...profileTables(profiler, pids)],
  };
}

async function prepareFiles(
  dir: string,
  settings: DfsSettings,
  context: BenchContext,
): Promise<{ small: string; large: string }> {
  const sources = join(dir, 'sources');
  mkdirSync(sources, { recursive: true });
  const small = join(sources, 'small.bin');
  const large = join(sources, 'large.bin');
  context.log(
    `writing ${settings.smallBytes / 2 ** 20} MiB and ${settings.largeBytes / 2 ** 20} MiB random files`,
  );
  await writeRandomFile(small, settings.smallBytes);
  await writeRandomFile(large, settings.largeBytes);
  return { small, large };
}

async function ceilingPass(dir: string, file: string, context: BenchContext, pass: number) {
  context.log(`ceiling pass ${pass}: 3 minimal receivers, one fanned-out PUT, one GET`);
  const worker = await startWorker();
  try {
    return await measureCeiling(worker, file, join(dir, 'ceiling'), join(dir, 'ceiling-get.bin'));
  } finally {
    await worker.stop();
  }
}

function tesseraPair(
  worker: DfsWorker,
  cluster: BenchDfsCluster,
  local: string,
  remote: string,
  dir: string,
  parallelChunks: number | undefined,
): Promise<TransferPair> {
  const downloadPath = join(dir, 'download.bin');
  return measureTessera(worker, cluster, { local, remote, downloadPath }, parallelChunks);
}

async function metadataPhase(
  cluster: BenchDfsCluster,
  settings: DfsSettings,
  context: BenchContext,
) {
  context.log(`metadata: ${settings.files} files, ${settings.inFlight} in flight`);
  const worker = await startWorker();
  let metadata;
  try {
    metadata = await measureMetadata(worker, cluster, {
      files: settings.files,
      inFlight: settings.inFlight,
      prefix: '/bench/',
    });
  } finally {
    await worker.stop();
  }
  context.log('listing /bench/ three times');
  const listings = await measureListing(cluster.meta.url, '/bench/', settings.files, 3);
  context.log(`replication planner: one tick over ${settings.files} healthy chunks, both ways`);
  const planner = measurePlannerTick(settings.files);
  return {
    metadata: { ...metadata, files: settings.files, inFlight: settings.inFlight },
    listings,
    planner,
  };
}

/** One more large upload + download with the client and datanode 0 under `--cpu-prof`. */
async function profilePass(
  cluster: BenchDfsCluster,
  profiler: ProfileCollector,
  large: string,
  dir: string,
  settings: DfsSettings,
  context: BenchContext,
): Promise<{ clientPid: number; datanodePid: number }> {
  context.log('profiling: datanode dn-0 restarted and a client under --cpu-prof, large file again');
  // A datanode scrubs its chunks when it starts; the measured ones started empty, so this one
  // must not scrub either, or its profile would mix the scrubber's reads into the transfers.
  const datanode = await cluster.restartDatanode(0, profiler.nodeFlags(), ['--scrub-rate', '0']);
  context.log('profiling: dn-0 is back; upload and download');
  const worker = await startWorker(profiler.nodeFlags());
  try {
    await tesseraPair(worker, cluster, large, '/data/large-profiled', dir, settings.parallelChunks);
  } finally {
    await worker.stop();
  }
  profiler.collect(PROFILED_CLIENT, worker.pid);
  return { clientPid: worker.pid, datanodePid: datanode.pid };
}

/** The DFS benchmark, for bench/run.ts. */
export const benchmark: Benchmark = {
  name: 'dfs',
  description:
    '1 GiB upload/download vs a minimal-receiver ceiling; memory; metadata creates/s; listing',
  run,
};
