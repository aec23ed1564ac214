/**
 * The registry with real processes (tbfs-registry.md, "Flujo de Operación"): backends register
 * and heartbeat; a backend silent for HEARTBEAT_TIMEOUT is marked inactive within one cleanup
 * interval; a heartbeat from an inactive backend makes it active again and counts a recovery;
 * a registry restarted with its data dir keeps its table and the agents carry on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { HttpClient } from '../../src/core/http-client.js';
import type { ServerList, ServerRecord } from '../../src/registry/index.js';
import {
  PROJECT_ROOT,
  startProcess,
  startTessera,
  tempDir,
  waitFor,
  type RunningProcess,
} from '../helpers/processes.js';

const HEARTBEAT_MS = 200;
const TIMEOUT_S = 1;
const CLEANUP_S = 0.25;
const AGENT = join(PROJECT_ROOT, 'test', 'fixtures', 'agent-process.ts');

describe('registry with real processes', () => {
  const dir = tempDir('registry');
  const http = new HttpClient({
    maxRetries: 0,
    timeoutMs: 5_000,
    breaker: { failureThreshold: 1e9 },
  });
  let registry: RunningProcess;
  let registryPort = 0;
  const agents: RunningProcess[] = [];

  const startRegistry = (port: number): Promise<RunningProcess> =>
    startTessera([
      'registry',
      '--port',
      String(port),
      '--data-dir',
      join(dir.path, 'registry'),
      '--heartbeat-timeout',
      String(TIMEOUT_S),
      '--cleanup-interval',
      String(CLEANUP_S),
    ]);
  const startAgent = (name: string): Promise<RunningProcess> =>
    startProcess(
      AGENT,
      [registry.url, 'test-backend', join(dir.path, name), String(HEARTBEAT_MS)],
      {
        nodeArgs: ['--import', 'tsx'],
      },
    );
  const serverId = (agent: RunningProcess): string => {
    for (const line of agent.lines) {
      const match = /"server_id":"([^"]+)"/.exec(line);
      if (match?.[1]) return match[1];
    }
    throw new Error('agent logged no server_id');
  };
  const record = (id: string): Promise<ServerRecord> =>
    http.getJson<ServerRecord>(`${registry.url}/servers/${encodeURIComponent(id)}`);
  const active = (): Promise<ServerList> =>
    http.getJson<ServerList>(`${registry.url}/servers/active?role=test-backend`);

  before(async () => {
    registry = await startRegistry(0);
    registryPort = Number(new URL(registry.url).port);
    agents.push(...(await Promise.all(['a', 'b', 'c'].map(startAgent))));
  });

  after(async () => {
    await Promise.all([...agents, registry].map((process) => process.kill('SIGKILL')));
    await http.close();
    dir.cleanup();
  });

  test('three agents register and are active', async () => {
    await waitFor('three active backends', async () => (await active()).count === 3);
    const ids = agents.map(serverId);
    for (const id of ids) assert.equal((await record(id)).status, 'active');
  });

  test('a SIGKILLed agent becomes inactive within timeout + cleanup interval, and recovers', async () => {
    const victim = agents[0];
    assert.ok(victim);
    const id = serverId(victim);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await waitFor(
      'the killed agent to be inactive',
      async () => (await record(id)).status === 'inactive',
      {
        timeoutMs: 10_000,
        intervalMs: 25,
      },
    );
    const detectionMs = Date.now() - killedAt;
    // One heartbeat may have just been sent before the kill: allow one interval more.
    assert.ok(
      detectionMs <= (TIMEOUT_S + CLEANUP_S) * 1000 + HEARTBEAT_MS + 500,
      `detected after ${detectionMs} ms`,
    );
    const restarted = await startAgent('a');
    agents[0] = restarted;
    assert.equal(serverId(restarted), id, 'the id is kept in the data dir across restarts');
    const recovered = await waitFor('recovery', async () => {
      const current = await record(id);
      return current.status === 'active' ? current : undefined;
    });
    assert.equal(recovered.recoveries, 1);
  });

  test('a registry SIGKILLed and restarted with its data dir keeps its table; agents carry on', async () => {
    const before = await http.getJson<ServerList>(`${registry.url}/servers`);
    await registry.kill('SIGKILL');
    registry = await startRegistry(registryPort);
    const afterRestart = await http.getJson<ServerList>(`${registry.url}/servers`);
    assert.deepEqual(
      afterRestart.servers.map((server) => server.server_id).sort(),
      before.servers.map((server) => server.server_id).sort(),
      'the table survived the crash',
    );
    assert.ok(afterRestart.index >= before.index, 'the change index does not go backwards');
    await waitFor('every agent active again', async () => (await active()).count === 3, {
      timeoutMs: 10_000,
    });
    // Stay active over more than one timeout: heartbeats really flow to the new process.
    await new Promise((resolve) => setTimeout(resolve, TIMEOUT_S * 1000 + 500));
    assert.equal((await active()).count, 3);
  });

  test('a blocking query returns as soon as a server joins', async () => {
    const current = await active();
    const started = Date.now();
    const pending = http.getJson<ServerList>(
      `${registry.url}/servers/active?role=test-backend&index=${current.index}&wait=20s`,
      { timeoutMs: 30_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const joined = await startAgent('d');
    agents.push(joined);
    const answer = await pending;
    assert.ok(Date.now() - started < 15_000, 'answered long before the wait ended');
    assert.ok(answer.index > current.index);
    assert.ok(answer.servers.some((server) => server.server_id === serverId(joined)));
  });

  test('a graceful stop deregisters the agent', async () => {
    const leaving = agents.pop();
    assert.ok(leaving);
    const id = serverId(leaving);
    const exit = await leaving.kill('SIGTERM');
    assert.equal(exit.code, 0);
    await assert.rejects(record(id), /404|not found|no server/i);
  });
});
