// Rule (issue 7, "Optional JWT authentication on every API"): a master started with --auth
// accepts a job over MQTT only with the submitter's token in the payload (`token`), with the
// writer role; without one the reply is a 401 problem, with a reader's a 403. The broker's own
// access control only decides who may publish.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { issueApiToken } from '../../../src/security/tokens.js';
import { MapReduceCluster } from '../../helpers/mapreduce-cluster.js';
import { tempDir } from '../../helpers/processes.js';
import { MqttTestClient, startMosquitto, type MosquittoBroker } from '../../helpers/mosquitto.js';
import { writeSecret } from '../../security/secure-cluster.js';

interface Reply {
  id?: string;
  correlation_id?: string;
  error?: { status: number; code: string };
}

describe('MQTT job submission to a master with --auth', { timeout: 90_000 }, () => {
  let broker: MosquittoBroker;
  let cluster: MapReduceCluster;
  let client: MqttTestClient;
  const keyDir = tempDir('mqtt-auth');
  const secret = writeSecret(keyDir.path);

  before(async () => {
    broker = await startMosquitto();
    cluster = new MapReduceCluster({
      datanodes: 1,
      workers: 0,
      masterArgs: ['--mqtt-url', broker.url, '--auth', '--auth-secret-file', secret.path],
    });
    await cluster.start();
    client = await MqttTestClient.connect(broker.url, ['clients/auth/replies']);
  });
  after(async () => {
    await client?.close();
    await cluster?.stop();
    await broker?.dispose();
    keyDir.cleanup();
  });

  const submit = async (correlation: string, token?: string): Promise<Reply> => {
    await client.publish(
      'tessera/jobs/submit',
      JSON.stringify({
        builtin: 'wordcount',
        input: ['/in/none.txt'],
        output: `/out/${correlation}`,
        reply_to: 'clients/auth/replies',
        correlation_id: correlation,
        ...(token === undefined ? {} : { token }),
      }),
    );
    const message = await client.waitFor(
      `the reply to ${correlation}`,
      (m) =>
        m.topic === 'clients/auth/replies' && (m.json() as Reply).correlation_id === correlation,
      15_000,
    );
    return message.json() as Reply;
  };
  const token = (role: 'reader' | 'writer'): Promise<string> =>
    issueApiToken(secret.keys, { subject: 'mq', role, ttlMs: 600_000 }, Date.now());

  test('no token is refused with 401, a reader with 403, a writer passes', async () => {
    assert.equal((await submit('none')).error?.status, 401);
    assert.equal((await submit('reader', await token('reader'))).error?.status, 403);
    const writer = await submit('writer', await token('writer'));
    // Past authorization the master judges the spec itself (the input does not exist).
    assert.ok(
      writer.error === undefined || (writer.error.status !== 401 && writer.error.status !== 403),
      JSON.stringify(writer),
    );
  });
});
