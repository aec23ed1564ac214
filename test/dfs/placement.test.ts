// Rule (dfs-architecture.md, "Algoritmo de Placement", the sophisticated variant; issue 3):
// a chunk's replicas go to min(factor, eligible) distinct live nodes with room, on distinct
// racks when racks are declared and enough exist (otherwise as evenly as possible), preferring
// free space and low load, round-robin among near-equals, so that load spreads evenly.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  chooseReplacementTarget,
  DEFAULT_RACK,
  INITIAL_PLACEMENT_STATE,
  placeChunks,
  placeReplicas,
  toPlacementNode,
  type PlacementNode,
  type PlacementState,
} from '../../src/dfs/meta/placement.js';
import { asNodeId, type NodeId, type NodeState } from '../../src/dfs/meta/types.js';

const GB = 1024 ** 3;

function node(id: string, extra: Partial<PlacementNode> = {}): PlacementNode {
  return {
    nodeId: asNodeId(id),
    rack: null,
    state: 'active',
    freeBytes: 100 * GB,
    load: 0,
    ...extra,
  };
}

function racked(racks: number, perRack: number): PlacementNode[] {
  const nodes: PlacementNode[] = [];
  for (let r = 0; r < racks; r++) {
    for (let i = 0; i < perRack; i++) nodes.push(node(`r${r}n${i}`, { rack: `rack${r}` }));
  }
  return nodes;
}

const rackOf = (nodes: readonly PlacementNode[], id: NodeId): string =>
  nodes.find((n) => n.nodeId === id)?.rack ?? DEFAULT_RACK;

const place = (nodes: readonly PlacementNode[], factor = 3, state = INITIAL_PLACEMENT_STATE) =>
  placeReplicas(nodes, { chunkSizeBytes: 64 * 1024 * 1024, factor }, state);

describe('placeReplicas: examples', () => {
  test('three distinct nodes out of five', () => {
    const { targets } = place(['a', 'b', 'c', 'd', 'e'].map((id) => node(id)));
    assert.equal(targets.length, 3);
    assert.equal(new Set(targets).size, 3);
  });

  test('the factor is capped by the live datanodes', () => {
    const nodes = [node('a'), node('b'), node('c', { state: 'dead' })];
    assert.deepEqual([...place(nodes).targets].sort(), ['a', 'b']);
  });

  test('never a dead, inactive, full or excluded node', () => {
    const nodes = [
      node('dead', { state: 'dead' }),
      node('inactive', { state: 'inactive' }),
      node('full', { freeBytes: 1024 }),
      node('excluded'),
      node('ok'),
    ];
    const result = placeReplicas(
      nodes,
      { chunkSizeBytes: 1 << 20, excluded: [asNodeId('excluded')] },
      INITIAL_PLACEMENT_STATE,
    );
    assert.deepEqual(result.targets, ['ok']);
  });

  test('reservedBytes makes a nearly full node full', () => {
    const nodes = [node('a', { freeBytes: 10 }), node('b', { freeBytes: 100 })];
    const result = placeReplicas(nodes, { chunkSizeBytes: 5 }, INITIAL_PLACEMENT_STATE, {
      reservedBytes: 20,
    });
    assert.deepEqual(result.targets, ['b']);
  });

  test('one replica per rack when there are enough racks', () => {
    const nodes = racked(3, 3);
    for (let i = 0, state = INITIAL_PLACEMENT_STATE; i < 20; i++) {
      const result = place(nodes, 3, state);
      state = result.state;
      assert.equal(new Set(result.targets.map((id) => rackOf(nodes, id))).size, 3);
    }
  });

  test('two racks and three replicas: two on one rack, one on the other', () => {
    const nodes = racked(2, 3);
    const counts = new Map<string, number>();
    for (const id of place(nodes).targets) {
      counts.set(rackOf(nodes, id), (counts.get(rackOf(nodes, id)) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()].sort(), [1, 2]);
  });

  test('nodes without a rack share the default rack when others declare one', () => {
    const nodes = [node('x1'), node('x2'), node('y', { rack: 'y' })];
    const targets = place(nodes, 2).targets;
    assert.ok(targets.includes(asNodeId('y')), `${targets.join()} must use rack y`);
  });

  test('prefers the node with clearly more free space', () => {
    const nodes = [node('small', { freeBytes: 10 * GB }), node('big', { freeBytes: 500 * GB })];
    assert.deepEqual(place(nodes, 1).targets, ['big']);
  });

  test('among near-equal free space, prefers the lower load', () => {
    const nodes = [node('busy', { load: 1 }), node('idle', { freeBytes: 95 * GB })];
    assert.deepEqual(place(nodes, 1).targets, ['idle']);
  });

  test('avoids an overloaded node even if it has the most space', () => {
    const nodes = [
      node('hot', { freeBytes: 1000 * GB, load: 9 }),
      node('a', { load: 1 }),
      node('b', { load: 1 }),
    ];
    assert.ok(!place(nodes, 2).targets.includes(asNodeId('hot')));
  });

  test('round-robin among equals: two placements over six nodes use all six', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => node(id));
    const first = place(nodes);
    const second = place(nodes, 3, first.state);
    assert.equal(new Set([...first.targets, ...second.targets]).size, 6);
  });

  test('the cursor survives a JSON round trip (the master persists it)', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((id) => node(id));
    const first = place(nodes);
    const restored = JSON.parse(JSON.stringify(first.state)) as PlacementState;
    assert.deepEqual(place(nodes, 3, restored).targets, place(nodes, 3, first.state).targets);
  });

  test('toPlacementNode reads the seed NodeInfo fields', () => {
    const info = { node_id: asNodeId('n1'), rack: 'r1', state: 'active' as const, free_space: 42 };
    assert.deepEqual(toPlacementNode(info, 2), {
      nodeId: 'n1',
      rack: 'r1',
      state: 'active',
      freeBytes: 42,
      load: 2,
    });
  });
});

describe('placeChunks and chooseReplacementTarget', () => {
  test('a four-chunk upload spreads over six nodes, two replicas each', () => {
    const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => node(id));
    const { targets } = placeChunks(
      nodes,
      { chunkSizesBytes: [1, 1, 1, 1] },
      INITIAL_PLACEMENT_STATE,
    );
    const counts = new Map<string, number>();
    for (const id of targets.flat()) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [2, 2, 2, 2, 2, 2]);
    for (const chunkTargets of targets) assert.equal(new Set(chunkTargets).size, 3);
  });

  test('placeChunks stops placing on a node once the plan has filled it', () => {
    const nodes = [node('a', { freeBytes: 10 }), node('b', { freeBytes: 10 })];
    const { targets } = placeChunks(
      nodes,
      { chunkSizesBytes: [6, 6], factor: 1 },
      INITIAL_PLACEMENT_STATE,
    );
    assert.notEqual(targets[0]?.[0], targets[1]?.[0]);
  });

  test('a replacement avoids existing and failed nodes and prefers an unused rack', () => {
    const nodes = [
      node('a1', { rack: 'a' }),
      node('a2', { rack: 'a' }),
      node('b1', { rack: 'b' }),
      node('c1', { rack: 'c' }),
      node('c2', { rack: 'c' }),
    ];
    const request = {
      chunkSizeBytes: 1,
      existing: ['a1', 'b1'].map(asNodeId),
      excluded: [asNodeId('c1')],
    };
    const { target } = chooseReplacementTarget(nodes, request, INITIAL_PLACEMENT_STATE);
    assert.equal(target, 'c2');
  });

  test('no replacement when no node is eligible', () => {
    const nodes = [node('a'), node('b', { state: 'dead' })];
    const request = { chunkSizeBytes: 1, existing: [asNodeId('a')], excluded: [] };
    assert.equal(chooseReplacementTarget(nodes, request, INITIAL_PLACEMENT_STATE).target, null);
  });
});

// ---- properties ----

const states: NodeState[] = ['active', 'active', 'active', 'inactive', 'dead'];

const clusterArb = fc
  .record({
    specs: fc.array(
      fc.record({
        rack: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
        state: fc.constantFrom(...states),
        freeBytes: fc.integer({ min: 0, max: 1000 }),
        load: fc.integer({ min: 0, max: 6 }),
        excluded: fc.boolean(),
      }),
      { maxLength: 14 },
    ),
    racksOn: fc.boolean(),
  })
  .map(({ specs, racksOn }) =>
    specs.map((s, i) => ({
      node: node(`n${i}`, {
        rack: racksOn && s.rack !== null ? `rack${s.rack}` : null,
        state: s.state,
        freeBytes: s.freeBytes,
        load: s.load,
      }),
      excluded: s.excluded && i % 3 === 0,
    })),
  );

const requestArb = fc.record({
  chunkSizeBytes: fc.integer({ min: 0, max: 400 }),
  factor: fc.integer({ min: 1, max: 6 }),
});

describe('placeReplicas: properties', () => {
  test('distinct, eligible nodes; count = min(factor, eligible); racks as even as possible', () => {
    fc.assert(
      fc.property(clusterArb, requestArb, (cluster, req) => {
        const nodes = cluster.map((c) => c.node);
        const excluded = cluster.filter((c) => c.excluded).map((c) => c.node.nodeId);
        const { targets } = placeReplicas(nodes, { ...req, excluded }, INITIAL_PLACEMENT_STATE);
        const eligible = nodes.filter(
          (n) =>
            n.state === 'active' &&
            n.freeBytes >= req.chunkSizeBytes &&
            !excluded.includes(n.nodeId),
        );
        assert.equal(new Set(targets).size, targets.length, 'two replicas on one node');
        assert.equal(targets.length, Math.min(req.factor, eligible.length));
        for (const id of targets)
          assert.ok(
            eligible.some((n) => n.nodeId === id),
            `${id} not eligible`,
          );
        assertRackSpread(nodes, eligible, targets);
      }),
      { numRuns: 500 },
    );
  });

  test('balanced spread: per-node counts stay within 1 (2 with racks) at every step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        (racks, perRack, useRacks, factorWanted) => {
          let nodes = racked(racks, perRack).map((n) => (useRacks ? n : { ...n, rack: null }));
          const factor = Math.min(factorWanted, useRacks ? racks : nodes.length);
          const counts = new Map<string, number>(nodes.map((n) => [n.nodeId, 0]));
          let state = INITIAL_PLACEMENT_STATE;
          for (let i = 0; i < nodes.length * 10; i++) {
            const result = placeReplicas(nodes, { chunkSizeBytes: 1024, factor }, state);
            state = result.state;
            for (const id of result.targets) counts.set(id, (counts.get(id) ?? 0) + 1);
            const chosen = new Set(result.targets);
            nodes = nodes.map((n) =>
              chosen.has(n.nodeId) ? { ...n, freeBytes: n.freeBytes - 1024 } : n,
            );
            // Rack rotation and node rotation can be out of phase by one pick, never more.
            const values = [...counts.values()];
            const spread = Math.max(...values) - Math.min(...values);
            assert.ok(
              spread <= (useRacks ? 2 : 1),
              `unbalanced after ${i + 1}: ${values.join(',')}`,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a replacement target is never existing, excluded, or ineligible', () => {
    fc.assert(
      fc.property(clusterArb, fc.integer({ min: 0, max: 300 }), (cluster, chunkSizeBytes) => {
        const nodes = cluster.map((c) => c.node);
        const existing = nodes.filter((_, i) => i % 4 === 1).map((n) => n.nodeId);
        const excluded = cluster.filter((c) => c.excluded).map((c) => c.node.nodeId);
        const request = { chunkSizeBytes, existing, excluded };
        const { target } = chooseReplacementTarget(nodes, request, INITIAL_PLACEMENT_STATE);
        const eligible = nodes.filter(
          (n) =>
            n.state === 'active' &&
            n.freeBytes >= chunkSizeBytes &&
            !existing.includes(n.nodeId) &&
            !excluded.includes(n.nodeId),
        );
        if (eligible.length === 0) assert.equal(target, null);
        else assert.ok(eligible.some((n) => n.nodeId === target));
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * With racks declared: distinct racks when enough eligible racks exist, and in general no rack
 * holds two more replicas than another rack that still had an unused eligible node.
 */
function assertRackSpread(
  nodes: readonly PlacementNode[],
  eligible: readonly PlacementNode[],
  targets: readonly NodeId[],
): void {
  if (!nodes.some((n) => n.rack !== null)) return;
  const rackKey = (n: PlacementNode): string => n.rack ?? DEFAULT_RACK;
  const eligibleRacks = new Set(eligible.map(rackKey));
  const targetRacks = targets.map((id) => rackOf(nodes, id));
  if (eligibleRacks.size >= targets.length) {
    assert.equal(
      new Set(targetRacks).size,
      targets.length,
      `two replicas on one rack: ${targetRacks.join()}`,
    );
  }
  const count = (rack: string): number => targetRacks.filter((r) => r === rack).length;
  for (const heavy of eligibleRacks) {
    for (const light of eligibleRacks) {
      const lightHasRoom = eligible.some(
        (n) => rackKey(n) === light && !targets.includes(n.nodeId),
      );
      if (lightHasRoom)
        assert.ok(count(heavy) - count(light) <= 1, `racks ${heavy}/${light} uneven`);
    }
  }
}
