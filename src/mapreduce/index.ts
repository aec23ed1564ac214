/**
 * Public entry of the MapReduce subsystem (poneglyph-reduce.md): the master and worker
 * services, the job spec, the job event stream (for the MQTT bridge), the built-in jobs and the
 * gRPC job client. The services and the gRPC client are loaded on first use, so that importing
 * this entry (e.g. for a client command's option list) stays cheap.
 */
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import type { JobFunctions } from './builtin/index.js';
import type { JobServiceClient } from './grpc/job-client.js';
import type { MasterConfig } from './master/config.js';
import type { BuiltinJob } from './master/job-spec.js';
import type { MasterHandle } from './master/server.js';
import type { WorkerConfig } from './worker/config.js';
import type { WorkerHandle } from './worker/server.js';

export {
  masterConfigSchema,
  masterSettings,
  MASTER_ROLE,
  type MasterConfig,
} from './master/config.js';
export { workerConfigSchema, WORKER_ROLE, type WorkerConfig } from './worker/config.js';
export type { MasterHandle } from './master/server.js';
export type { WorkerHandle } from './worker/server.js';
export { JobEvents, type JobEventMap, type JobEventName, type JobState } from './master/events.js';
export {
  BUILTIN_JOBS,
  JobSpecSchema,
  parseJobSpec,
  type BuiltinJob,
  type Code,
  type JobSpec,
  type JobSpecInput,
} from './master/job-spec.js';
export type { JobView, TaskView, PhaseView } from './master/views.js';
export type { JobFunctions, Emit } from './builtin/index.js';
export type { JobServiceClient } from './grpc/job-client.js';
export { STRATEGY_NAMES, type StrategyName } from './master/strategies/index.js';

/** Starts the MapReduce master (HTTP, gRPC, state store, scheduler, optional MQTT bridge). */
export async function startMaster(
  config: MasterConfig,
  deps: { logger: Logger; clock?: Clock; random?: Random },
): Promise<MasterHandle> {
  return (await import('./master/server.js')).startMaster(config, deps);
}

/** Starts a MapReduce worker. */
export async function startWorker(
  config: WorkerConfig,
  deps: { logger: Logger },
): Promise<WorkerHandle> {
  return (await import('./worker/server.js')).startWorker(config, deps);
}

/** A client of the master's gRPC JobService at `host:port`. */
export async function createJobServiceClient(address: string): Promise<JobServiceClient> {
  const { JobServiceClient: Client } = await import('./grpc/job-client.js');
  return new Client(address);
}

/** The functions of a built-in job (word count, grep, inverted index, sort). */
export async function builtinJob(
  name: BuiltinJob,
  args: Readonly<Record<string, string | number | boolean>> = {},
): Promise<JobFunctions> {
  return (await import('./builtin/index.js')).builtinJob(name, args);
}
