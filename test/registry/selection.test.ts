// Rule checked (tbfs-registry.md, frontend client: "Selección de servidor (random, first,
// round-robin)"): the client orders the active servers of a role for each call; `first` keeps
// the registry's order, `round-robin` starts one further on each call, `random` starts at a
// random server; in every case all servers follow as fallbacks, each exactly once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SeededRandom } from '../../src/core/random.js';
import { orderCandidates, type SelectionStrategy } from '../../src/registry/selection.js';

const servers = ['s0', 's1', 's2', 's3'] as const;

/** Whether `ordered` is `list` rotated by some offset. */
function isRotation<T>(ordered: readonly T[], list: readonly T[]): boolean {
  if (ordered.length !== list.length) return false;
  if (list.length === 0) return true;
  const start = list.indexOf(ordered[0] as T);
  return start >= 0 && ordered.every((item, i) => item === list[(start + i) % list.length]);
}

describe('orderCandidates', () => {
  test('first keeps the order and the cursor', () => {
    const random = new SeededRandom(1);
    for (let cursor = 0; cursor < 5; cursor += 1) {
      const { ordered, cursor: next } = orderCandidates(servers, 'first', cursor, random);
      assert.deepEqual(ordered, [...servers]);
      assert.equal(next, cursor);
    }
  });

  test('round-robin starts one further on each call and wraps around', () => {
    const random = new SeededRandom(1);
    let cursor = 0;
    const firsts: string[] = [];
    for (let call = 0; call < 6; call += 1) {
      const result = orderCandidates(servers, 'round-robin', cursor, random);
      assert.ok(isRotation(result.ordered, servers));
      firsts.push(result.ordered[0] ?? '');
      assert.equal(result.cursor, cursor + 1);
      cursor = result.cursor;
    }
    assert.deepEqual(firsts, ['s0', 's1', 's2', 's3', 's0', 's1']);
  });

  test('round-robin rotation: cursor 2 gives s2, s3, s0, s1', () => {
    const { ordered } = orderCandidates(servers, 'round-robin', 2, new SeededRandom(1));
    assert.deepEqual(ordered, ['s2', 's3', 's0', 's1']);
  });

  test('random with a seeded source is a rotation, reproducible, and reaches every start', () => {
    const runs = (seed: number): string[] => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 40 }, () => {
        const { ordered, cursor } = orderCandidates(servers, 'random', 7, random);
        assert.ok(isRotation(ordered, servers), ordered.join(','));
        assert.equal(cursor, 7, 'random leaves the cursor alone');
        return ordered[0] ?? '';
      });
    };
    const first = runs(42);
    assert.deepEqual(runs(42), first, 'same seed, same choices');
    assert.deepEqual(new Set(first), new Set(servers), 'every server is chosen first sometimes');
  });

  test('the input list is not modified', () => {
    const list = ['a', 'b', 'c'];
    orderCandidates(list, 'round-robin', 1, new SeededRandom(3));
    assert.deepEqual(list, ['a', 'b', 'c']);
  });

  for (const strategy of ['first', 'round-robin', 'random'] as SelectionStrategy[]) {
    test(`${strategy}: an empty list gives no candidates and keeps the cursor`, () => {
      assert.deepEqual(orderCandidates([], strategy, 3, new SeededRandom(1)), {
        ordered: [],
        cursor: 3,
      });
    });

    test(`${strategy}: every server appears exactly once (property)`, () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.string(), { maxLength: 12 }),
          fc.nat(1_000),
          fc.integer(),
          (list, cursor, seed) => {
            const { ordered } = orderCandidates(list, strategy, cursor, new SeededRandom(seed));
            assert.ok(isRotation(ordered, list));
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});
