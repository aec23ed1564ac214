/**
 * The master's datanode table tells the edge when a node declared dead heartbeats again, or
 * restarted (a new start time in its heartbeat), so the master's HTTP client stops refusing
 * calls to it (an open circuit from the time it was down would otherwise fail re-replication
 * copies to it for up to 60 s).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ManualClock } from '../../src/core/clock.js';
import { MetaStore } from '../../src/dfs/meta/store.js';
import { asNodeId } from '../../src/dfs/meta/types.js';
import { testMetaMaster } from '../helpers/meta-master.js';
import { tempDir } from '../helpers/processes.js';

describe('NodeTable.onNodeBack', () => {
  const dir = tempDir('node-table');
  const store = new MetaStore(`${dir.path}/meta.db`);
  after(() => {
    store.close();
    dir.cleanup();
  });

  test('fires once when a dead node heartbeats again, never on ordinary heartbeats', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const master = testMetaMaster(store, clock, 3);
    const back: string[] = [];
    master.nodes.onNodeBack = (nodeId, url) => back.push(`${nodeId} ${url}`);
    const beat = () =>
      master.nodes.heartbeat(
        {
          node_id: 'dn1',
          url: 'http://127.0.0.1:9201/',
          host: '127.0.0.1',
          port: 9201,
          free_space: 1e9,
          total_space: 2e9,
          chunk_ids: [],
        },
        10_000,
      );
    await beat();
    clock.advance(10_000);
    await beat();
    assert.deepEqual(back, [], 'a live node is not "back"');
    clock.advance(30_001);
    assert.deepEqual(master.nodes.sweep(), ['dn1']);
    assert.equal(master.nodes.replicaState(asNodeId('dn1'), 'ok'), 'dead');
    await beat();
    assert.deepEqual(back, ['dn1 http://127.0.0.1:9201']);
    assert.equal(master.nodes.replicaState(asNodeId('dn1'), 'ok'), 'active');
    clock.advance(10_000);
    await beat();
    assert.equal(back.length, 1);
  });

  test('fires when a node restarted before it was declared dead (a new start time)', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const master = testMetaMaster(store, clock, 4);
    const back: string[] = [];
    master.nodes.onNodeBack = (nodeId) => back.push(nodeId);
    const beat = (startedAtMs?: number) =>
      master.nodes.heartbeat(
        {
          node_id: 'dn2',
          url: 'http://127.0.0.1:9202',
          host: '127.0.0.1',
          port: 9202,
          free_space: 1e9,
          total_space: 2e9,
          chunk_ids: [],
          ...(startedAtMs === undefined ? {} : { started_at_ms: startedAtMs }),
        },
        10_000,
      );
    await beat(1_000);
    clock.advance(5_000);
    await beat(1_000);
    assert.deepEqual(back, [], 'the same process');
    clock.advance(5_000);
    await beat(9_000);
    assert.deepEqual(back, ['dn2'], 'a new process, within the dead-node timeout');
    await beat();
    await beat();
    assert.deepEqual(back, ['dn2'], 'a heartbeat without a start time says nothing');
  });
});
