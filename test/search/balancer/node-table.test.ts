/**
 * The node registry of distrisearch-balancer.md ("node_registry.py"): register, unregister,
 * heartbeat with document and term counts, active nodes, and HEARTBEAT_TIMEOUT = 30 s: a node
 * without a heartbeat for 30 s is dead; a heartbeat brings it back.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_DEAD_AFTER_MS, SearchNodeTable } from '../../../src/search/balancer/index.js';

const figures = { docCount: 150, termCount: 500, totalLength: 9000 };

describe('SearchNodeTable', () => {
  test('register, heartbeat and activeNodes', () => {
    const table = new SearchNodeTable();
    assert.deepEqual(table.register(2, 'http://h:9302', 0), {
      created: true,
      becameActive: true,
      urlChanged: false,
    });
    table.register(1, 'http://h:9301', 0);
    table.heartbeat(1, 'http://h:9301', figures, 10);
    assert.deepEqual(
      table
        .activeNodes()
        .map((node) => [node.nodeId, node.url, node.docCount, node.lastHeartbeatMs]),
      [
        [1, 'http://h:9301', 150, 10],
        [2, 'http://h:9302', 0, 0],
      ],
    );
    assert.equal(table.size, 2);
  });

  test('re-registering keeps the figures and reports a url change', () => {
    const table = new SearchNodeTable();
    table.heartbeat(1, 'http://h:9301', figures, 0);
    assert.deepEqual(table.register(1, 'http://other:9301', 5), {
      created: false,
      becameActive: false,
      urlChanged: true,
    });
    assert.equal(table.get(1)?.docCount, 150);
    assert.equal(table.get(1)?.url, 'http://other:9301');
  });

  test('a node is dead after 30 s without a heartbeat and comes back with one', () => {
    const table = new SearchNodeTable();
    assert.equal(DEFAULT_DEAD_AFTER_MS, 30_000);
    table.heartbeat(1, 'http://h:9301', figures, 0);
    table.heartbeat(2, 'http://h:9302', figures, 0);
    table.heartbeat(2, 'http://h:9302', figures, 20_000);
    assert.deepEqual(table.sweep(29_999), { expired: [], removed: [] });
    assert.deepEqual(table.sweep(30_000), { expired: [1], removed: [] });
    assert.equal(table.isActive(1), false);
    assert.equal(table.activeUrl(1), undefined);
    assert.deepEqual(
      table.activeNodes().map((node) => node.nodeId),
      [2],
    );
    const back = table.heartbeat(1, 'http://h:9301', figures, 31_000);
    assert.equal(back.becameActive, true);
    assert.equal(table.isActive(1), true);
  });

  test('a dead node is removed after forgetAfterMs; unregister removes at once', () => {
    const table = new SearchNodeTable({ deadAfterMs: 1000, forgetAfterMs: 2000 });
    table.register(1, 'http://h:9301', 0);
    table.register(2, 'http://h:9302', 0);
    table.sweep(1000);
    assert.deepEqual(table.sweep(3000), { expired: [], removed: [1, 2] });
    table.register(3, 'http://h:9303', 3000);
    assert.equal(table.unregister(3), true);
    assert.equal(table.unregister(3), false);
    assert.equal(table.size, 0);
  });

  test('touch refreshes a known node and ignores an unknown one', () => {
    const table = new SearchNodeTable({ deadAfterMs: 1000 });
    assert.equal(table.touch(1, 0), undefined);
    table.register(1, 'http://h:9301', 0);
    table.touch(1, 900);
    assert.deepEqual(table.sweep(1500).expired, []);
  });
});
