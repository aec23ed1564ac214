/**
 * The MQTT bridge of the MapReduce master (docs/mqtt.md): publishes the master's job events
 * (`<prefix>/jobs/<id>/state` retained QoS 1, `<prefix>/jobs/<id>/tasks/<task_id>` QoS 1,
 * `<prefix>/jobs/<id>/progress` QoS 0, throttled) and accepts jobs on `<prefix>/jobs/submit`.
 * The broker may come and go: the bridge reconnects with exponential backoff and jitter, and what
 * the master produces meanwhile waits in a bounded queue (oldest dropped past the bound).
 */
import { connect, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { resolveBackoffConfig, backoffDelayMs, type BackoffConfig } from '../../core/backoff.js';
import { systemClock, type Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { systemRandom, type Random } from '../../core/random.js';
import type { JobEventMap } from '../master/events.js';
import { OfflineQueue, type OutgoingMessage } from './offline-queue.pure.js';
import { ProgressThrottle } from './progress-throttle.pure.js';
import {
  acceptedBody,
  parseSubmission,
  problem,
  problemOf,
  refusedBody,
  type ReplyRoute,
  type SubmitProblem,
} from './submission.pure.js';
import { isTopicLevel, type JobTopics } from './topics.pure.js';

/** A job state change, as the master emits it. */
export type JobStateEvent = JobEventMap['job'];
/** A task state change, as the master emits it. */
export type TaskStateEvent = JobEventMap['task'];
/** Tasks done per phase, as the master emits it. */
export type JobProgressEvent = JobEventMap['progress'];

/**
 * What the bridge listens to: the master's `JobEvents`, or any EventEmitter that emits the same
 * three events (tests use a plain one). Structural, so the bridge imports no master code.
 */
export interface JobEventSource {
  on(event: 'job', listener: (event: JobStateEvent) => void): unknown;
  on(event: 'task', listener: (event: TaskStateEvent) => void): unknown;
  on(event: 'progress', listener: (event: JobProgressEvent) => void): unknown;
  off(event: 'job', listener: (event: JobStateEvent) => void): unknown;
  off(event: 'task', listener: (event: TaskStateEvent) => void): unknown;
  off(event: 'progress', listener: (event: JobProgressEvent) => void): unknown;
}

/** Submits a job spec; resolves to the new job (its `id` at least); throws `TesseraError`s. */
/** Submits a job for the payload's spec; `token` is the submitter's, when the payload had one. */
export type SubmitJob = (spec: unknown, token?: string) => Promise<{ readonly id: string }>;

/** Counters of a running bridge. */
export interface MqttBridgeStats {
  readonly connected: boolean;
  /** Messages waiting for the broker to come back. */
  readonly queued: number;
  /** Messages dropped because the queue was full. */
  readonly dropped: number;
  /** Messages handed to the broker connection. */
  readonly published: number;
  /** Reconnection attempts scheduled since the start. */
  readonly reconnectAttempts: number;
  /** Events not published because an id cannot be a topic level. */
  readonly unpublishable: number;
  readonly submissionsAccepted: number;
  readonly submissionsRefused: number;
}

/** Resolved settings of a bridge (see `MqttBridgeOptions` in index.ts for the defaults). */
export interface BridgeSettings {
  readonly topics: JobTopics;
  readonly clientId: string;
  /** Shared-subscription group for the submit topic; undefined = a plain subscription. */
  readonly submitShareGroup: string | undefined;
  readonly progressIntervalMs: number;
  readonly maxQueuedMessages: number;
  readonly maxInFlightSubmissions: number;
  readonly maxSubmitBytes: number;
  readonly reconnect: BackoffConfig;
  readonly connectTimeoutMs: number;
  readonly keepaliveS: number;
  readonly stopTimeoutMs: number;
}

/** Dependencies of a bridge. */
export interface BridgeDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
}

const TERMINAL_JOB_STATES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

/** One bridge: one MQTT client, the event listeners, the reconnection loop. */
export class MqttJobBridge {
  private readonly client: MqttClient;
  private readonly queue: OfflineQueue;
  private readonly throttle: ProgressThrottle<JobProgressEvent>;
  private readonly wakeTimers = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private stopping: Promise<void> | undefined;
  private inFlightSubmissions = 0;
  private readonly connectedWaiters = new Set<() => void>();
  private readonly counters = {
    published: 0,
    reconnectAttempts: 0,
    unpublishable: 0,
    submissionsAccepted: 0,
    submissionsRefused: 0,
  };

  constructor(
    private readonly source: JobEventSource,
    private readonly submitJob: SubmitJob,
    url: string,
    private readonly settings: BridgeSettings,
    deps: BridgeDeps,
  ) {
    this.logger = deps.logger;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? systemRandom;
    this.queue = new OfflineQueue(settings.maxQueuedMessages);
    this.throttle = new ProgressThrottle(settings.progressIntervalMs);
    // reconnectPeriod 0: mqtt.js retries at a fixed period; the bridge drives its own backoff.
    this.client = connect(url, {
      protocolVersion: 5,
      clientId: settings.clientId,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: settings.connectTimeoutMs,
      keepalive: settings.keepaliveS,
      queueQoSZero: false,
      resubscribe: false,
    });
    this.client.on('connect', () => this.onConnect());
    this.client.on('close', () => this.onClose());
    this.client.on('error', (error) => this.onError(error));
    this.client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
    source.on('job', this.onJob);
    source.on('task', this.onTask);
    source.on('progress', this.onProgress);
  }

  /** Counters and the connection state. */
  stats(): MqttBridgeStats {
    return {
      connected: this.client.connected,
      queued: this.queue.size,
      dropped: this.queue.dropped,
      ...this.counters,
    };
  }

  /** Resolves true once connected, or false after `timeoutMs`. */
  waitConnected(timeoutMs: number): Promise<boolean> {
    if (this.client.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (connected: boolean): void => {
        clearTimeout(timer);
        this.connectedWaiters.delete(onConnected);
        resolve(connected);
      };
      const onConnected = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.connectedWaiters.add(onConnected);
    });
  }

  /** Detaches from the events and disconnects (cleanly when connected). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.source.off('job', this.onJob);
    this.source.off('task', this.onTask);
    this.source.off('progress', this.onProgress);
    clearTimeout(this.reconnectTimer);
    for (const timer of this.wakeTimers.values()) clearTimeout(timer);
    this.wakeTimers.clear();
    this.throttle.clear();
    for (const waiter of [...this.connectedWaiters]) waiter();
    const lost = this.queue.drain().length;
    if (lost > 0) this.logger.warn({ messages: lost }, 'mqtt bridge stopped with messages queued');
    await this.disconnect();
    this.logger.info('mqtt bridge stopped');
  }

  /** A clean DISCONNECT once in-flight QoS 1 messages are acknowledged; forced past a deadline. */
  private async disconnect(): Promise<void> {
    if (!this.client.connected) {
      await this.client.endAsync(true);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.settings.stopTimeoutMs);
    });
    const outcome = await Promise.race([this.client.endAsync(false), deadline]);
    clearTimeout(timer);
    if (outcome === 'late') await this.client.endAsync(true);
  }

  private onConnect(): void {
    if (this.stopping) return;
    this.reconnectAttempt = 0;
    this.logger.info({ clientId: this.settings.clientId }, 'mqtt bridge connected');
    // A clean session forgets subscriptions: subscribe on every connection. A shared subscription
    // hands each submission to one master of the group; a plain one sets No Local (the bridge
    // never receives its own messages; v5 forbids No Local on shared subscriptions).
    const group = this.settings.submitShareGroup;
    const filter =
      group === undefined
        ? this.settings.topics.submit
        : `$share/${group}/${this.settings.topics.submit}`;
    this.client.subscribe(filter, { qos: 1, nl: group === undefined }, (error) => {
      if (error) this.logger.error({ err: error, filter }, 'mqtt bridge could not subscribe');
    });
    for (const message of this.queue.drain()) this.publishNow(message);
    for (const waiter of [...this.connectedWaiters]) waiter();
  }

  private onClose(): void {
    if (this.stopping || this.reconnectTimer !== undefined) return;
    const delayMs = backoffDelayMs(
      Math.min(this.reconnectAttempt, 30),
      this.settings.reconnect,
      this.random,
    );
    const log = this.reconnectAttempt === 0 ? this.logger.warn : this.logger.debug;
    log.call(this.logger, { retryInMs: Math.round(delayMs) }, 'mqtt broker unreachable');
    this.reconnectAttempt += 1;
    this.counters.reconnectAttempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopping) this.client.connect();
    }, delayMs);
  }

  private onError(error: Error): void {
    // Connection errors are followed by 'close', which schedules the retry.
    this.logger.debug({ err: error }, 'mqtt bridge connection error');
  }

  private readonly onJob = (event: JobStateEvent): void => {
    this.guard('job', () => {
      if (!this.publishableIds(event.id)) return;
      if (TERMINAL_JOB_STATES.has(event.state)) this.flushProgress(event.id);
      const topic = this.settings.topics.state(event.id);
      this.send({ topic, payload: JSON.stringify(event), qos: 1, retain: true }, `state:${topic}`);
    });
  };

  private readonly onTask = (event: TaskStateEvent): void => {
    this.guard('task', () => {
      if (!this.publishableIds(event.job_id, event.task_id)) return;
      const topic = this.settings.topics.task(event.job_id, event.task_id);
      this.send({ topic, payload: JSON.stringify(event), qos: 1, retain: false });
    });
  };

  private readonly onProgress = (event: JobProgressEvent): void => {
    this.guard('progress', () => {
      if (!this.publishableIds(event.job_id)) return;
      const decision = this.throttle.offer(event.job_id, event, this.clock.nowMs());
      if (decision.publish !== undefined) this.sendProgress(decision.publish);
      if (decision.wakeInMs !== undefined) this.scheduleWake(event.job_id, decision.wakeInMs);
    });
  };

  private scheduleWake(jobId: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.wakeTimers.delete(jobId);
      const pending = this.throttle.wake(jobId, this.clock.nowMs());
      if (pending !== undefined) this.sendProgress(pending);
    }, delayMs);
    this.wakeTimers.set(jobId, timer);
  }

  /** A job ended: its last progress goes out now, before its terminal state. */
  private flushProgress(jobId: string): void {
    clearTimeout(this.wakeTimers.get(jobId));
    this.wakeTimers.delete(jobId);
    const pending = this.throttle.finish(jobId);
    if (pending !== undefined) this.sendProgress(pending);
  }

  private sendProgress(event: JobProgressEvent): void {
    const topic = this.settings.topics.progress(event.job_id);
    this.send(
      { topic, payload: JSON.stringify(event), qos: 0, retain: false },
      `progress:${topic}`,
    );
  }

  private publishableIds(...ids: string[]): boolean {
    if (ids.every((id) => typeof id === 'string' && isTopicLevel(id))) return true;
    this.counters.unpublishable += 1;
    this.logger.warn({ ids }, 'mqtt bridge: id cannot be a topic level; event not published');
    return false;
  }

  /** Event listeners run inside the master's step: they log, never throw. */
  private guard(event: string, body: () => void): void {
    try {
      if (!this.stopping) body();
    } catch (error) {
      this.logger.error({ err: error, event }, 'mqtt bridge failed to handle an event');
    }
  }

  /** Publishes now when connected, else queues (with `key`, a newer message replaces an older). */
  private send(message: OutgoingMessage, key?: string): void {
    if (this.stopping) return;
    if (this.client.connected) {
      this.publishNow(message);
      return;
    }
    const droppedBefore = this.queue.dropped;
    this.queue.push(message, key);
    if (
      this.queue.dropped > droppedBefore &&
      (this.queue.dropped & (this.queue.dropped - 1)) === 0
    ) {
      // Logged at powers of two: visible, yet no flood while the broker stays away.
      this.logger.warn(
        { dropped: this.queue.dropped, limit: this.queue.limit },
        'mqtt bridge queue full; oldest messages dropped',
      );
    }
  }

  private publishNow(message: OutgoingMessage): void {
    const options: IClientPublishOptions = { qos: message.qos, retain: message.retain };
    if (message.correlationData !== undefined) {
      options.properties = { correlationData: message.correlationData };
    }
    this.counters.published += 1;
    this.client.publish(message.topic, message.payload, options, (error) => {
      // QoS 1 messages cut off by a lost connection stay in mqtt.js's store and are resent.
      if (error) this.logger.debug({ err: error, topic: message.topic }, 'mqtt publish failed');
    });
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (topic !== this.settings.topics.submit || this.stopping) return;
    this.handleSubmission(payload, packet).catch((error: unknown) => {
      this.logger.error({ err: error }, 'mqtt bridge failed to handle a submission');
    });
  }

  private async handleSubmission(payload: Buffer, packet: IPublishPacket): Promise<void> {
    const parsed = parseSubmission(
      payload,
      packet.properties,
      this.settings.topics,
      this.settings.maxSubmitBytes,
    );
    if (!parsed.ok) {
      this.refuse(parsed.problem, parsed.reply, payload);
      return;
    }
    if (this.inFlightSubmissions >= this.settings.maxInFlightSubmissions) {
      const detail = `at most ${this.settings.maxInFlightSubmissions} submissions are handled at once`;
      this.refuse(problem('TOO_MANY_REQUESTS', detail), parsed.reply, payload);
      return;
    }
    this.inFlightSubmissions += 1;
    try {
      const job = await this.submitJob(parsed.spec, parsed.token);
      if (typeof job?.id !== 'string') throw new TypeError('submitJob answered without an id');
      this.counters.submissionsAccepted += 1;
      this.logger.info({ jobId: job.id }, 'job submitted over mqtt');
      if (parsed.reply !== undefined) this.reply(parsed.reply, acceptedBody(job.id, parsed.reply));
    } catch (error) {
      const failure = problemOf(error);
      if (failure.status >= 500) this.logger.error({ err: error }, 'mqtt submission failed');
      this.refuse(failure, parsed.reply, payload);
    } finally {
      this.inFlightSubmissions -= 1;
    }
  }

  private refuse(failure: SubmitProblem, route: ReplyRoute | undefined, payload: Buffer): void {
    this.counters.submissionsRefused += 1;
    this.logger.warn(
      {
        status: failure.status,
        detail: failure.detail,
        replyTo: route?.topic ?? null,
        payloadBytes: payload.length,
      },
      'mqtt submission refused',
    );
    if (route !== undefined) this.reply(route, refusedBody(failure, route));
  }

  private reply(route: ReplyRoute, body: string): void {
    const base = { topic: route.topic, payload: body, qos: 1, retain: false } as const;
    this.send(
      route.correlationData === undefined
        ? base
        : { ...base, correlationData: route.correlationData },
    );
  }
}

/** Fills unset backoff fields: 250 ms first retry, doubling up to 10 s, ±20% jitter. */
export function bridgeBackoff(partial: Partial<BackoffConfig> = {}): BackoffConfig {
  return resolveBackoffConfig({ baseMs: 250, maxMs: 10_000, jitter: 0.2, ...partial });
}
