// Rule (issue 5, "Interfaces" and "Tests"): with `--mqtt-url` the master publishes its job and
// task events under `tessera/jobs/<id>/...` and accepts jobs from `tessera/jobs/submit`, tested
// end to end against a real Mosquitto broker: a job submitted over MQTT runs on the cluster and
// its events arrive, ending with the retained `succeeded` state.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MapReduceCluster } from '../../helpers/mapreduce-cluster.js';
import { MqttTestClient, startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';

describe('mapreduce over MQTT', { timeout: 90_000 }, () => {
  let broker: MosquittoBroker;
  let cluster: MapReduceCluster;

  before(async () => {
    broker = await startMosquitto();
    cluster = new MapReduceCluster({
      datanodes: 1,
      workers: 1,
      masterArgs: ['--mqtt-url', broker.url],
    });
    await cluster.start();
    await cluster.dfs.client.putBuffer(
      'to be or not to be\nthat is the question\n',
      '/in/hamlet.txt',
      {
        replication: 1,
      },
    );
  });
  after(async () => {
    await cluster.stop();
    await broker.dispose();
  });

  test('a job submitted on tessera/jobs/submit runs, and its events are published', async () => {
    const client = await MqttTestClient.connect(broker.url, [
      'tessera/jobs/#',
      'clients/test/replies',
    ]);
    try {
      await client.publish(
        'tessera/jobs/submit',
        JSON.stringify({
          builtin: 'wordcount',
          input: ['/in/hamlet.txt'],
          output: '/out/mqtt',
          reply_to: 'clients/test/replies',
          correlation_id: 'req-1',
        }),
      );
      const reply = (
        await client.waitFor('the reply', (m) => m.topic === 'clients/test/replies', 15_000)
      ).json() as {
        id: string;
        correlation_id: string;
      };
      assert.equal(reply.correlation_id, 'req-1');
      assert.ok(reply.id.startsWith('job-'));
      const final = await client.waitFor(
        'the succeeded state',
        (m) =>
          m.topic === `tessera/jobs/${reply.id}/state` &&
          (m.json() as { state: string }).state === 'succeeded',
        30_000,
      );
      assert.equal((final.json() as { output: string }).output, '/out/mqtt');
      const tasks = client.messages.filter((m) =>
        m.topic.startsWith(`tessera/jobs/${reply.id}/tasks/`),
      );
      assert.ok(tasks.some((m) => (m.json() as { state: string }).state === 'succeeded'));
      assert.ok(client.on(`tessera/jobs/${reply.id}/progress`).length > 0);
      const output = await cluster.readOutput('/out/mqtt');
      assert.match(output, /^be\t2$/m);
      await client.publish(
        'tessera/jobs/submit',
        JSON.stringify({ input: [], reply_to: 'clients/test/replies' }),
      );
      const refused = await client.waitFor(
        'the refusal',
        (m) => m.topic === 'clients/test/replies' && m.text.includes('error'),
      );
      assert.equal((refused.json() as { error: { status: number } }).error.status, 400);
    } finally {
      await client.close();
    }
  });
});
