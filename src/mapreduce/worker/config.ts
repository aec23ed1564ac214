/**
 * The options of `tessera mapreduce worker` (apart from the server, for light imports).
 */
import { availableParallelism } from 'node:os';
import { option, type ConfigOf, type ConfigSchema } from '../../core/config.js';
import { commonServiceOptions, registeredServiceOptions } from '../../core/service.js';

/** The registry role of workers. */
export const WORKER_ROLE = 'mapreduce-worker';

/** The worker's options. */
export const workerConfigSchema = {
  ...commonServiceOptions({
    name: 'mapreduce-worker',
    defaultPort: 9501,
    portEnv: ['TESSERA_WORKER_PORT'],
  }),
  ...registeredServiceOptions(),
  masterAddress: option.optionalString({
    flag: 'master',
    env: ['TESSERA_MAPREDUCE_MASTER'],
    defaultValue: undefined,
    description: 'gRPC address (host:port) of the master (default: found in the registry).',
    valueName: '<host:port>',
  }),
  metaUrl: option.optionalUrl({
    flag: 'meta',
    env: ['TESSERA_META_URL'],
    defaultValue: undefined,
    description: 'DFS metadata master URL (default: found in the registry).',
  }),
  slots: option.int({
    flag: 'slots',
    env: ['TESSERA_WORKER_SLOTS'],
    defaultValue: Math.max(1, availableParallelism()),
    showDefault: 'the number of CPUs',
    description: 'Tasks run at once.',
  }),
  spillMemoryBytes: option.bytes({
    flag: 'sort-buffer',
    env: ['TESSERA_WORKER_SORT_BUFFER'],
    defaultValue: 64 * 1024 * 1024,
    showDefault: '64MiB',
    description: 'Map output held in memory per task before a sorted spill to disk.',
  }),
  parallelFetches: option.int({
    flag: 'parallel-fetches',
    env: ['TESSERA_WORKER_PARALLEL_FETCHES'],
    defaultValue: 5,
    description: 'Map outputs a reducer fetches at once during the shuffle.',
  }),
} satisfies ConfigSchema;

export type WorkerConfig = ConfigOf<typeof workerConfigSchema>;
