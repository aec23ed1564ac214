// Rule checked (issue 5, "Interfaces"; poneglyph-reduce.md, "Multi-Protocol: gRPC, HTTP REST y
// MQTT"): job and task events are published under tessera/jobs/<id>/... (state retained QoS 1,
// tasks QoS 1, progress QoS 0 and throttled), and jobs are accepted from tessera/jobs/submit with
// an answer {id} or {error} on the reply topic; malformed submissions are answered and logged,
// never crash the bridge; stop() disconnects cleanly. Against a real Mosquitto broker.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { Logger } from '../../../src/core/logger.js';
import { BadRequestError } from '../../../src/core/errors.js';
import { JobEvents } from '../../../src/mapreduce/master/events.js';
import {
  startMqttBridge,
  type JobEventSource,
  type JobProgressEvent,
  type JobStateEvent,
  type MqttBridge,
  type MqttBridgeOptions,
  type SubmitJob,
  type TaskStateEvent,
} from '../../../src/mapreduce/mqtt/index.js';
import { MqttTestClient, startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/processes.js';

/** A logger whose records the test can read. */
function recordingLogger(): { logger: Logger; records: { level: number; msg: string }[] } {
  const records: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => records.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, records };
}

function jobEvent(id: string, state: JobStateEvent['state']): JobStateEvent {
  return { id, state, name: 'wordcount', output: `/out/${id}`, at_ms: 1_700_000_000_000 };
}

function taskEvent(jobId: string, taskId: string): TaskStateEvent {
  return {
    job_id: jobId,
    task_id: taskId,
    phase: 'map',
    state: 'running',
    attempt: 1,
    worker_id: 'w1',
  };
}

function progressEvent(jobId: string, mapDone: number): JobProgressEvent {
  return { job_id: jobId, map: { done: mapDone, total: 100 }, reduce: { done: 0, total: 2 } };
}

/** A fake submitJob that records specs and answers job-<n>. */
function fakeSubmit(): { submit: SubmitJob; specs: unknown[] } {
  const specs: unknown[] = [];
  const submit: SubmitJob = (spec) => {
    specs.push(spec);
    return Promise.resolve({ id: `job-${specs.length}` });
  };
  return { submit, specs };
}

describe('MQTT bridge against a real Mosquitto', () => {
  let broker: MosquittoBroker;
  const open: { close(): Promise<void> }[] = [];

  before(async () => {
    broker = await startMosquitto();
  });
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  after(async () => {
    await broker.dispose();
  });

  async function bridgeWith(
    events: JobEventSource,
    submit: SubmitJob,
    options: MqttBridgeOptions = {},
  ): Promise<MqttBridge> {
    const bridge = await startMqttBridge(events, submit, broker.url, {
      logger: recordingLogger().logger,
      initialConnectWaitMs: 5000,
      ...options,
    });
    open.push({ close: () => bridge.stop() });
    assert.equal(bridge.stats().connected, true);
    return bridge;
  }

  async function client(topics: string[]): Promise<MqttTestClient> {
    const tester = await MqttTestClient.connect(broker.url, topics);
    open.push(tester);
    return tester;
  }

  test("the master's JobEvents drives the bridge", async () => {
    const events = new JobEvents();
    const source: JobEventSource = events;
    await bridgeWith(source, fakeSubmit().submit);
    const watcher = await client(['tessera/jobs/job-m/#']);
    events.emitEvent('job', jobEvent('job-m', 'queued'));
    const state = await watcher.waitFor('state', (m) => m.topic === 'tessera/jobs/job-m/state');
    assert.deepEqual(state.json(), jobEvent('job-m', 'queued'));
  });

  test('events land on their topics with their payloads and QoS; state is retained', async () => {
    const events = new EventEmitter();
    await bridgeWith(events, fakeSubmit().submit);
    const watcher = await client(['tessera/jobs/#']);
    events.emit('job', jobEvent('job-a', 'running'));
    events.emit('task', taskEvent('job-a', 'map-0003'));
    events.emit('progress', progressEvent('job-a', 3));
    const state = await watcher.waitFor('state', (m) => m.topic === 'tessera/jobs/job-a/state');
    const task = await watcher.waitFor(
      'task',
      (m) => m.topic === 'tessera/jobs/job-a/tasks/map-0003',
    );
    const progress = await watcher.waitFor(
      'progress',
      (m) => m.topic === 'tessera/jobs/job-a/progress',
    );
    assert.deepEqual(state.json(), jobEvent('job-a', 'running'));
    assert.equal(state.qos, 1);
    assert.deepEqual(task.json(), taskEvent('job-a', 'map-0003'));
    assert.equal(task.qos, 1);
    assert.deepEqual(progress.json(), progressEvent('job-a', 3));
    assert.equal(progress.qos, 0);

    // A late subscriber gets the retained state, and only the state.
    const late = await client(['tessera/jobs/job-a/#']);
    const retained = await late.waitFor('retained state', (m) => m.topic.endsWith('/state'));
    assert.equal(retained.retain, true);
    assert.deepEqual(retained.json(), jobEvent('job-a', 'running'));
    events.emit('task', taskEvent('job-a', 'map-0004'));
    await late.waitFor('a live task', (m) => m.topic.endsWith('/map-0004'));
    assert.equal(late.messages.filter((m) => m.topic.endsWith('/map-0003')).length, 0);
  });

  test('a custom prefix moves every topic, submission included', async () => {
    const events = new EventEmitter();
    const fake = fakeSubmit();
    await bridgeWith(events, fake.submit, { prefix: 'acme/mr' });
    const watcher = await client(['acme/mr/jobs/#', 'acme/replies']);
    events.emit('job', jobEvent('job-p', 'queued'));
    await watcher.waitFor('prefixed state', (m) => m.topic === 'acme/mr/jobs/job-p/state');
    await watcher.publish(
      'acme/mr/jobs/submit',
      JSON.stringify({ output: '/o', reply_to: 'acme/replies' }),
    );
    const reply = await watcher.waitFor('reply', (m) => m.topic === 'acme/replies');
    assert.deepEqual(reply.json(), { id: 'job-1' });
  });

  test('progress is throttled per job; the latest value arrives, before the final state', async () => {
    const events = new EventEmitter();
    await bridgeWith(events, fakeSubmit().submit, { progressIntervalMs: 300 });
    const watcher = await client(['tessera/jobs/job-t/#']);
    for (let done = 0; done < 50; done += 1) events.emit('progress', progressEvent('job-t', done));
    const last = await watcher.waitFor('trailing progress', (m) => m.text.includes('"done":49,'));
    assert.deepEqual(last.json(), progressEvent('job-t', 49));
    const sent = watcher.on('tessera/jobs/job-t/progress');
    assert.deepEqual(
      sent.map((m) => (m.json() as JobProgressEvent).map.done),
      [0, 49],
    );
    // A burst cut short by the job's end: the pending progress goes out first, then the state.
    events.emit('progress', progressEvent('job-t', 99));
    events.emit('progress', progressEvent('job-t', 100));
    events.emit('job', jobEvent('job-t', 'succeeded'));
    await watcher.waitFor('final state', (m) => m.text.includes('"succeeded"'));
    const topics = watcher.messages.map(
      (m) => `${m.topic} ${m.text.includes('"done":100,') ? 'final' : ''}`,
    );
    const finalProgress = topics.indexOf('tessera/jobs/job-t/progress final');
    assert.ok(finalProgress >= 0, topics.join('\n'));
    assert.ok(finalProgress < topics.indexOf('tessera/jobs/job-t/state '), topics.join('\n'));
  });

  test('a submission calls submitJob without the routing fields and the reply arrives', async () => {
    const fake = fakeSubmit();
    await bridgeWith(new EventEmitter(), fake.submit);
    const submitter = await client(['clients/c1/#']);
    const spec = { builtin: 'wordcount', input: ['/books/*.txt'], output: '/out/wc', reducers: 2 };
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ ...spec, reply_to: 'clients/c1/replies', correlation_id: 'req-7' }),
    );
    const reply = await submitter.waitFor('reply', (m) => m.topic === 'clients/c1/replies');
    assert.deepEqual(reply.json(), { id: 'job-1', correlation_id: 'req-7' });
    assert.deepEqual(fake.specs, [spec]);
  });

  test('MQTT v5 Response Topic and Correlation Data are honoured', async () => {
    const fake = fakeSubmit();
    await bridgeWith(new EventEmitter(), fake.submit);
    const submitter = await client(['clients/v5/#']);
    const correlationData = Buffer.from('corr-\u00e9');
    await submitter.publish('tessera/jobs/submit', JSON.stringify({ output: '/o' }), {
      properties: { responseTopic: 'clients/v5/inbox', correlationData },
    });
    const reply = await submitter.waitFor('reply', (m) => m.topic === 'clients/v5/inbox');
    assert.deepEqual(reply.json(), { id: 'job-1' });
    assert.deepEqual(reply.correlationData, correlationData);
  });

  test('malformed and refused submissions get error replies and are logged; the bridge goes on', async () => {
    const { logger, records } = recordingLogger();
    const specs: unknown[] = [];
    const submit: SubmitJob = (spec) => {
      specs.push(spec);
      const output = (spec as { output?: unknown }).output;
      if (output === undefined)
        return Promise.reject(new BadRequestError('invalid job spec at /output'));
      if (output === '/boom') return Promise.reject(new Error('disk on fire at /var/lib/x'));
      return Promise.resolve({ id: 'job-ok' });
    };
    await bridgeWith(new EventEmitter(), submit, { logger });
    const submitter = await client(['clients/bad/#', 'tessera/jobs/x/#']);
    const v5 = (topic: string) => ({ properties: { responseTopic: `clients/bad/${topic}` } });

    await submitter.publish('tessera/jobs/submit', '{"output": nope', v5('json'));
    await submitter.publish('tessera/jobs/submit', '[1, 2, 3]', v5('array'));
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ reply_to: 'clients/bad/spec' }),
    );
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/boom', reply_to: 'clients/bad/boom' }),
    );
    await submitter.publish('tessera/jobs/submit', 'garbage with nobody to answer');
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/o', reply_to: 'tessera/jobs/x/state' }),
    );

    const error = async (topic: string) =>
      (
        (await submitter.waitFor(topic, (m) => m.topic === `clients/bad/${topic}`)).json() as {
          error: { status: number; title: string; detail: string; code: string };
        }
      ).error;
    assert.equal((await error('json')).code, 'MALFORMED_BODY');
    assert.equal((await error('json')).status, 400);
    assert.equal((await error('array')).status, 400);
    assert.deepEqual(await error('spec'), {
      status: 400,
      title: 'Bad request',
      detail: 'invalid job spec at /output',
      code: 'BAD_REQUEST',
    });
    const internal = await error('boom');
    assert.equal(internal.status, 500);
    assert.ok(!internal.detail.includes('disk on fire'), internal.detail);

    // Still alive: a good submission is answered after all of that.
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/fine', reply_to: 'clients/bad/ok' }),
    );
    const ok = await submitter.waitFor('ok', (m) => m.topic === 'clients/bad/ok');
    assert.deepEqual(ok.json(), { id: 'job-ok' });
    // Refusals were logged (6: json, array, spec, boom, garbage, own-tree reply topic); only the
    // spec, boom and good submissions reached submitJob.
    const refusals = records.filter((r) => r.msg === 'mqtt submission refused');
    assert.equal(refusals.length, 6);
    assert.equal(specs.length, 3);
    // The reply topic in the bridge's own tree got nothing (the ok reply came after it).
    assert.deepEqual(submitter.on('tessera/jobs/x/state'), []);
  });

  test('two masters in one share group: each submission reaches exactly one of them', async () => {
    const first = fakeSubmit();
    const second = fakeSubmit();
    await bridgeWith(new EventEmitter(), first.submit);
    await bridgeWith(new EventEmitter(), second.submit);
    const submitter = await client(['clients/shared/#']);
    for (let i = 0; i < 6; i += 1) {
      const body = { output: `/o${i}`, reply_to: 'clients/shared/r', correlation_id: i };
      await submitter.publish('tessera/jobs/submit', JSON.stringify(body));
    }
    await waitFor('six replies', () => submitter.on('clients/shared/r').length >= 6);
    assert.equal(first.specs.length + second.specs.length, 6);
    const ids = submitter
      .on('clients/shared/r')
      .map((m) => (m.json() as { correlation_id: number }).correlation_id);
    assert.deepEqual([...ids].sort(), [0, 1, 2, 3, 4, 5]);
  });

  test('without a share group, every bridge gets every submission', async () => {
    const first = fakeSubmit();
    const second = fakeSubmit();
    await bridgeWith(new EventEmitter(), first.submit, { submitShareGroup: null });
    await bridgeWith(new EventEmitter(), second.submit, { submitShareGroup: null });
    const submitter = await client(['clients/plain/#']);
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/o', reply_to: 'clients/plain/r' }),
    );
    await waitFor('two replies', () => submitter.on('clients/plain/r').length >= 2);
    assert.deepEqual([first.specs.length, second.specs.length], [1, 1]);
  });

  test('submissions beyond the in-flight bound are answered 429', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const submit: SubmitJob = async () => {
      await gate;
      return { id: 'job-slow' };
    };
    await bridgeWith(new EventEmitter(), submit, { maxInFlightSubmissions: 1 });
    const submitter = await client(['clients/busy/#']);
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/a', reply_to: 'clients/busy/1' }),
    );
    await submitter.publish(
      'tessera/jobs/submit',
      JSON.stringify({ output: '/b', reply_to: 'clients/busy/2' }),
    );
    const busy = await submitter.waitFor('429', (m) => m.topic === 'clients/busy/2');
    assert.equal((busy.json() as { error: { status: number } }).error.status, 429);
    release();
    const done = await submitter.waitFor('accepted', (m) => m.topic === 'clients/busy/1');
    assert.deepEqual(done.json(), { id: 'job-slow' });
  });

  test('stop() detaches from the events and disconnects cleanly', async () => {
    const events = new EventEmitter();
    const clientId = 'tessera-mr-stop-test';
    const bridge = await bridgeWith(events, fakeSubmit().submit, { clientId });
    const watcher = await client(['tessera/jobs/#']);
    events.emit('task', taskEvent('job-s', 'reduce-0'));
    await watcher.waitFor('task before stop', (m) => m.topic.endsWith('/reduce-0'));
    await bridge.stop();
    await bridge.stop();
    assert.equal(bridge.stats().connected, false);
    for (const name of ['job', 'task', 'progress']) assert.equal(events.listenerCount(name), 0);
    // Mosquitto logs "disconnected" for a DISCONNECT packet, "closed its connection" otherwise.
    await waitFor('clean disconnect in the broker log', () =>
      broker.lines.some((line) => line.includes(`Client ${clientId} disconnected.`)),
    );
    assert.ok(
      !broker.lines.some((line) => line.includes(`Client ${clientId} closed its connection`)),
    );
    events.emit('task', taskEvent('job-s', 'reduce-1'));
    assert.equal(bridge.stats().queued, 0);
  });
});
