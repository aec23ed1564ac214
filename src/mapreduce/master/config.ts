/**
 * The options of `tessera mapreduce master` (kept apart from the server so that client
 * commands can read them without loading the server's modules), and the scheduler settings
 * they describe.
 */
import { option, type ConfigOf, type ConfigSchema } from '../../core/config.js';
import { commonServiceOptions, registeredServiceOptions } from '../../core/service.js';
import type { MasterSettings } from './master.js';
import { DEFAULT_SCHEDULER_CONFIG, resolveSchedulerConfig } from './scheduler-model.pure.js';
import { DEFAULT_STRATEGY, STRATEGY_NAMES } from './strategies/index.js';

/** The registry role of the master. */
export const MASTER_ROLE = 'mapreduce-master';

/** The master's options. */
export const masterConfigSchema = {
  ...commonServiceOptions({
    name: 'mapreduce-master',
    defaultPort: 9400,
    portEnv: ['TESSERA_MAPREDUCE_PORT', 'PONEGLYPH_FT_API_PORT'],
  }),
  ...registeredServiceOptions(),
  grpcPort: option.port({
    flag: 'grpc-port',
    env: ['PONEGLYPH_GRPC_PORT', 'TESSERA_MAPREDUCE_GRPC_PORT'],
    defaultValue: 50051,
    description: 'Port of the gRPC services (workers, JobService); 0 picks a free one.',
  }),
  metaUrl: option.optionalUrl({
    flag: 'meta',
    env: ['TESSERA_META_URL'],
    defaultValue: undefined,
    description: 'DFS metadata master URL (default: found in the registry).',
  }),
  taskTimeoutMs: option.durationMs({
    flag: 'task-timeout',
    env: ['PONEGLYPH_TASK_TIMEOUT'],
    defaultValue: DEFAULT_SCHEDULER_CONFIG.taskTimeoutMs,
    description: 'A task attempt without progress for this long fails (timeout) and is retried.',
  }),
  maxRetries: option.int({
    flag: 'max-retries',
    env: ['PONEGLYPH_MAX_RETRIES'],
    defaultValue: DEFAULT_SCHEDULER_CONFIG.maxRetries,
    description: 'Retries of a failed task before it goes to the dead-letter queue.',
  }),
  unreachableGraceMs: option.durationMs({
    flag: 'unreachable-grace',
    env: ['PONEGLYPH_UNREACHABLE_GRACE'],
    defaultValue: DEFAULT_SCHEDULER_CONFIG.unreachableGraceMs,
    description:
      'Failures because the DFS or a map output was unreachable use no retry budget for this long (0: they count).',
  }),
  retryBaseDelayMs: option.durationMs({
    flag: 'retry-base-delay',
    env: ['PONEGLYPH_RETRY_BASE_DELAY'],
    defaultValue: DEFAULT_SCHEDULER_CONFIG.backoff.baseMs,
    description: 'Retry delay base: base * 2^attempt, +-20% jitter.',
  }),
  retryMaxDelayMs: option.durationMs({
    flag: 'retry-max-delay',
    env: ['PONEGLYPH_RETRY_MAX_DELAY'],
    defaultValue: DEFAULT_SCHEDULER_CONFIG.backoff.maxMs,
    description: 'Ceiling of the retry delay.',
  }),
  breakerFailures: option.int({
    flag: 'breaker-failures',
    env: ['PONEGLYPH_BREAKER_FAILURES'],
    defaultValue: 5,
    description: 'Consecutive failures on a worker that open its circuit breaker.',
  }),
  breakerOpenMs: option.durationMs({
    flag: 'breaker-open',
    env: ['PONEGLYPH_BREAKER_TIMEOUT'],
    defaultValue: 60_000,
    description: 'How long an open breaker keeps a worker out before trial tasks (HALF_OPEN).',
  }),
  breakerSuccesses: option.int({
    flag: 'breaker-successes',
    env: ['PONEGLYPH_BREAKER_SUCCESSES'],
    defaultValue: 3,
    description: 'Successes in HALF_OPEN that close a worker’s breaker.',
  }),
  workerTimeoutMs: option.durationMs({
    flag: 'worker-timeout',
    env: ['PONEGLYPH_WORKER_TIMEOUT'],
    defaultValue: 30_000,
    description: 'A worker silent this long is lost: its tasks and lost map outputs run elsewhere.',
  }),
  workerHeartbeatMs: option.durationMs({
    flag: 'worker-heartbeat',
    env: ['PONEGLYPH_WORKER_HEARTBEAT'],
    defaultValue: 1_000,
    description: 'Heartbeat period the workers use (they long-poll for tasks in between).',
  }),
  tickIntervalMs: option.durationMs({
    flag: 'tick-interval',
    env: ['TESSERA_MAPREDUCE_TICK_INTERVAL'],
    defaultValue: 250,
    description: 'How often the scheduler checks timeouts, retries and stragglers.',
  }),
  strategy: option.choice({
    flag: 'strategy',
    env: ['PONEGLYPH_LB_STRATEGY'],
    defaultValue: DEFAULT_STRATEGY,
    choices: STRATEGY_NAMES,
    description: 'Default load-balancing strategy (a job may choose its own).',
  }),
  speculation: option.choice({
    flag: 'speculation',
    env: ['TESSERA_MAPREDUCE_SPECULATION'],
    defaultValue: 'on',
    choices: ['on', 'off'] as const,
    description: 'Run backups of straggling tasks (speculative execution).',
  }),
  dlqCapacity: option.int({
    flag: 'dlq-capacity',
    env: ['PONEGLYPH_DLQ_CAPACITY'],
    defaultValue: 1000,
    description: 'Capacity of the dead-letter queue (oldest entries are evicted).',
  }),
  mqttUrl: option.optionalString({
    flag: 'mqtt-url',
    env: ['TESSERA_MQTT_URL'],
    defaultValue: undefined,
    description:
      'MQTT broker (mqtt://host:1883): publish job events, accept jobs on tessera/jobs/submit.',
    valueName: '<url>',
  }),
} satisfies ConfigSchema;

export type MasterConfig = ConfigOf<typeof masterConfigSchema>;

/** The scheduler settings a configuration describes. */
export function masterSettings(config: MasterConfig): MasterSettings {
  return {
    scheduler: resolveSchedulerConfig({
      taskTimeoutMs: config.taskTimeoutMs,
      maxRetries: config.maxRetries,
      unreachableGraceMs: config.unreachableGraceMs,
      backoff: {
        baseMs: config.retryBaseDelayMs,
        maxMs: Math.max(config.retryBaseDelayMs, config.retryMaxDelayMs),
      },
      speculation: { enabled: config.speculation === 'on' },
    }),
    strategy: config.strategy,
    // A worker is stale for the strategies once it would be declared lost.
    strategyConfig: { staleHeartbeatMs: config.workerTimeoutMs },
    breaker: {
      failureThreshold: Math.max(1, config.breakerFailures),
      openMs: config.breakerOpenMs,
      successThreshold: Math.max(1, config.breakerSuccesses),
    },
    workerTimeoutMs: config.workerTimeoutMs,
    heartbeatIntervalMs: config.workerHeartbeatMs,
    dlqCapacity: Math.max(1, config.dlqCapacity),
  };
}
