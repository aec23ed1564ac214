// Rule checked (issue 5: the bridge is tested against a real Mosquitto; docs/mqtt.md,
// "Disconnections"): when the broker goes away the bridge reconnects with backoff and keeps
// publishing and accepting submissions; what the master produced meanwhile waits in a bounded
// queue (oldest dropped and counted) and is published on reconnection; a broker absent at start is
// not an error; stop() returns promptly even while the broker is away.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { afterEach, describe, test } from 'node:test';
import { silentLogger } from '../../../src/core/logger.js';
import type {
  JobStateEvent,
  SubmitJob,
  TaskStateEvent,
} from '../../../src/mapreduce/mqtt/index.js';
import { startMqttBridge, type MqttBridge } from '../../../src/mapreduce/mqtt/index.js';
import {
  freeTcpPort,
  MqttTestClient,
  startMosquitto,
  type MosquittoBroker,
} from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/processes.js';

const fastReconnect = { baseMs: 50, maxMs: 400, jitter: 0.2 };
const submitOk: SubmitJob = () => Promise.resolve({ id: 'job-after-restart' });

function jobEvent(id: string, state: JobStateEvent['state']): JobStateEvent {
  return { id, state, name: 'wordcount', output: `/out/${id}`, at_ms: 1 };
}

function taskEvent(jobId: string, taskId: string): TaskStateEvent {
  return { job_id: jobId, task_id: taskId, phase: 'reduce', state: 'succeeded', attempt: 1 };
}

describe('MQTT bridge across broker outages', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function broker(port?: number): Promise<MosquittoBroker> {
    const started = await startMosquitto(port === undefined ? {} : { port });
    cleanups.push(() => started.dispose());
    return started;
  }

  async function bridge(events: EventEmitter, url: string, extra = {}): Promise<MqttBridge> {
    const started = await startMqttBridge(events, submitOk, url, {
      logger: silentLogger(),
      reconnect: fastReconnect,
      ...extra,
    });
    cleanups.push(() => started.stop());
    return started;
  }

  async function client(url: string, topics: string[]): Promise<MqttTestClient> {
    const tester = await MqttTestClient.connect(url, topics);
    cleanups.push(() => tester.close());
    return tester;
  }

  test('the broker restarts: queued messages are published, then live ones and submissions', async () => {
    const mosquitto = await broker();
    const events = new EventEmitter();
    const running = await bridge(events, mosquitto.url);
    const before = await client(mosquitto.url, ['tessera/jobs/#']);
    events.emit('job', jobEvent('job-r', 'running'));
    await before.waitFor('state before the crash', (m) => m.text.includes('"running"'));
    await before.close();

    await mosquitto.stop('SIGKILL');
    await waitFor('the bridge notices', () => !running.stats().connected);
    events.emit('task', taskEvent('job-r', 'reduce-0'));
    events.emit('job', jobEvent('job-r', 'succeeded'));
    assert.equal(running.stats().queued, 2);

    await mosquitto.start();
    assert.equal(await running.waitConnected(10_000), true);
    assert.ok(running.stats().reconnectAttempts >= 1);
    assert.equal(running.stats().queued, 0);
    // The broker keeps no state across this restart (no persistence): the retained state can
    // only come from the bridge's queue.
    const after = await client(mosquitto.url, ['tessera/jobs/#', 'clients/r']);
    const state = await after.waitFor('state queued during the outage', (m) =>
      m.topic.endsWith('/state'),
    );
    assert.deepEqual(state.json(), jobEvent('job-r', 'succeeded'));
    events.emit('task', taskEvent('job-r', 'reduce-1'));
    await after.waitFor('a live task', (m) => m.topic === 'tessera/jobs/job-r/tasks/reduce-1');
    // The bridge subscribed again: submissions work after the restart.
    await after.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/o', reply_to: 'clients/r' }),
    );
    const reply = await after.waitFor('reply', (m) => m.topic === 'clients/r');
    assert.deepEqual(reply.json(), { id: 'job-after-restart' });
  });

  test('a broker absent at start is retried in the background; the queue is bounded', async () => {
    const port = await freeTcpPort();
    const url = `mqtt://127.0.0.1:${port}`;
    const events = new EventEmitter();
    const started = Date.now();
    const waiting = await bridge(events, url, { initialConnectWaitMs: 100, maxQueuedMessages: 5 });
    assert.ok(Date.now() - started < 2000);
    assert.equal(waiting.stats().connected, false);
    for (let i = 0; i < 8; i += 1) events.emit('task', taskEvent('job-q', `map-${i}`));
    // Three states of one job coalesce to the latest, which pushes out the oldest task.
    for (const state of ['queued', 'running', 'failed'] as const)
      events.emit('job', jobEvent('job-q', state));
    assert.deepEqual(
      { queued: waiting.stats().queued, dropped: waiting.stats().dropped },
      { queued: 5, dropped: 4 },
    );

    const publishedBefore = waiting.stats().published;
    const mosquitto = await broker(port);
    assert.equal(await waiting.waitConnected(10_000), true);
    assert.equal(waiting.stats().published - publishedBefore, 5);
    const watcher = await client(mosquitto.url, ['tessera/jobs/job-q/state']);
    const state = await watcher.waitFor('retained state', () => true);
    assert.deepEqual(state.json(), jobEvent('job-q', 'failed'));
  });

  test('stop() returns promptly while the broker is away', async () => {
    const mosquitto = await broker();
    const events = new EventEmitter();
    const running = await bridge(events, mosquitto.url);
    await mosquitto.stop('SIGKILL');
    await waitFor('the bridge notices', () => !running.stats().connected);
    events.emit('job', jobEvent('job-x', 'running'));
    const started = Date.now();
    await running.stop();
    assert.ok(Date.now() - started < 1000, `stop took ${Date.now() - started} ms`);
    assert.equal(events.listenerCount('job'), 0);
  });

  test('a URL that cannot work is a ConfigError', async () => {
    for (const url of ['http://127.0.0.1:1883', 'not a url']) {
      await assert.rejects(
        startMqttBridge(new EventEmitter(), submitOk, url, { logger: silentLogger() }),
        { name: 'ConfigError' },
      );
    }
  });
});
