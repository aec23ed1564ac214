/**
 * The MQTT bridge's public entry (docs/mqtt.md). The master starts it when `--mqtt-url` (env
 * TESSERA_MQTT_URL) is set: `startMqttBridge(master.events, submitJob, url, options)`.
 */
import type { BackoffConfig } from '../../core/backoff.js';
import type { Clock } from '../../core/clock.js';
import { ConfigError } from '../../core/config.js';
import { createLogger, type Logger } from '../../core/logger.js';
import { systemRandom, type Random } from '../../core/random.js';
import {
  bridgeBackoff,
  MqttJobBridge,
  type JobEventSource,
  type MqttBridgeStats,
  type SubmitJob,
} from './bridge.js';
import { DEFAULT_TOPIC_PREFIX, isTopicLevel, isTopicPrefix, jobTopics } from './topics.pure.js';

export type {
  JobEventSource,
  JobProgressEvent,
  JobStateEvent,
  MqttBridgeStats,
  SubmitJob,
  TaskStateEvent,
} from './bridge.js';
export { DEFAULT_TOPIC_PREFIX, jobTopics, type JobTopics } from './topics.pure.js';

/** Options of `startMqttBridge`; every one has a default. */
export interface MqttBridgeOptions {
  /** Topic prefix (default `tessera`): topics are `<prefix>/jobs/...`. */
  readonly prefix?: string;
  /** Default: a logger named `mapreduce-mqtt`. */
  readonly logger?: Logger;
  /** MQTT client id (default `tessera-mr-<8 hex>`, random: two masters never collide). */
  readonly clientId?: string;
  /**
   * MQTT v5 shared-subscription group for `<prefix>/jobs/submit` (default `tessera-masters`): when
   * several masters share a broker, each submission goes to one of them. `null`: a plain
   * subscription, every bridge gets every submission.
   */
  readonly submitShareGroup?: string | null;
  /** At most one progress message per job per this many ms (default 250, i.e. 4 per second). */
  readonly progressIntervalMs?: number;
  /** Messages kept while the broker is unreachable (default 1000; oldest dropped past it). */
  readonly maxQueuedMessages?: number;
  /** Submissions handled at once (default 16); more are answered 429. */
  readonly maxInFlightSubmissions?: number;
  /** Largest submission payload (default 8 MiB, as the HTTP API's body limit); more is 413. */
  readonly maxSubmitBytes?: number;
  /** Reconnection backoff (default 250 ms first retry, doubling to 10 s, ±20% jitter). */
  readonly reconnect?: Partial<BackoffConfig>;
  /** Time allowed for the broker's CONNACK (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** MQTT keepalive in seconds (default 30). */
  readonly keepaliveS?: number;
  /** `startMqttBridge` waits this long for the first connection, then goes on (default 3000 ms). */
  readonly initialConnectWaitMs?: number;
  /** `stop()` waits this long for in-flight QoS 1 acknowledgements (default 2000 ms). */
  readonly stopTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: Random;
}

/** A running bridge. */
export interface MqttBridge {
  /** Stops listening to the events and disconnects from the broker. Idempotent. */
  stop(): Promise<void>;
  /** Counters and the connection state. */
  stats(): MqttBridgeStats;
  /** Resolves true once connected to the broker, or false after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<boolean>;
}

/** The default shared-subscription group of the submit topic. */
export const DEFAULT_SHARE_GROUP = 'tessera-masters';

const MQTT_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']);

/**
 * Starts the bridge: connects to the broker at `url` (`mqtt://host:1883`, credentials may be in
 * the URL), publishes `events`, and feeds `<prefix>/jobs/submit` to `submitJob`. Resolves once
 * connected or after `initialConnectWaitMs`: an absent broker is retried in the background, not
 * an error. Throws `ConfigError` for a URL or prefix that cannot work.
 */
export async function startMqttBridge(
  events: JobEventSource,
  submitJob: SubmitJob,
  url: string,
  options: MqttBridgeOptions = {},
): Promise<MqttBridge> {
  checkUrl(url);
  const prefix = options.prefix ?? DEFAULT_TOPIC_PREFIX;
  if (!isTopicPrefix(prefix)) throw new ConfigError(`invalid MQTT topic prefix "${prefix}"`);
  const shareGroup =
    options.submitShareGroup === undefined ? DEFAULT_SHARE_GROUP : options.submitShareGroup;
  if (shareGroup !== null && !isTopicLevel(shareGroup)) {
    throw new ConfigError(`invalid MQTT shared-subscription group "${shareGroup}"`);
  }
  const random = options.random ?? systemRandom;
  const logger = options.logger ?? createLogger({ name: 'mapreduce-mqtt' });
  const bridge = new MqttJobBridge(
    events,
    submitJob,
    url,
    {
      topics: jobTopics(prefix),
      clientId: options.clientId ?? `tessera-mr-${random.uuid().slice(0, 8)}`,
      submitShareGroup: shareGroup ?? undefined,
      progressIntervalMs: options.progressIntervalMs ?? 250,
      maxQueuedMessages: options.maxQueuedMessages ?? 1000,
      maxInFlightSubmissions: options.maxInFlightSubmissions ?? 16,
      maxSubmitBytes: options.maxSubmitBytes ?? 8 * 1024 * 1024,
      reconnect: bridgeBackoff(options.reconnect),
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      keepaliveS: options.keepaliveS ?? 30,
      stopTimeoutMs: options.stopTimeoutMs ?? 2000,
    },
    { logger, random, ...(options.clock ? { clock: options.clock } : {}) },
  );
  const connected = await bridge.waitConnected(options.initialConnectWaitMs ?? 3000);
  if (!connected) {
    logger.warn({ url: redact(url) }, 'mqtt broker not reachable yet; retrying in the background');
  }
  return {
    stop: () => bridge.stop(),
    stats: () => bridge.stats(),
    waitConnected: (timeoutMs) => bridge.waitConnected(timeoutMs),
  };
}

function checkUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('invalid MQTT URL (expected mqtt://host:port)');
  }
  if (!MQTT_PROTOCOLS.has(parsed.protocol)) {
    throw new ConfigError(
      `unsupported MQTT URL scheme "${parsed.protocol}" (expected one of ${[...MQTT_PROTOCOLS].join(', ')})`,
    );
  }
}

/** The URL without its password, for logs. */
function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}
