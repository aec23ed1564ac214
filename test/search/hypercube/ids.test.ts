// Rule checked (distrisearch-architecture.md, "Topología Hipercubo"): a node's id is a d-bit
// number, its neighbours are the ids one bit flip away (000 -> 001, 010, 100), and the XOR of
// two ids measures how far apart they are.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  areNeighbors,
  binaryId,
  highestDifferingBit,
  isValidId,
  neighbors,
  popcount,
  slotCount,
  xorDistance,
} from '../../../src/search/hypercube/index.js';

describe('hypercube ids', () => {
  test('binaryId pads to d bits, most significant bit first', () => {
    assert.equal(binaryId(0, 3), '000');
    assert.equal(binaryId(2, 3), '010');
    assert.equal(binaryId(7, 3), '111');
    assert.equal(binaryId(5, 4), '0101');
    assert.equal(binaryId(1023, 10), '1111111111');
  });

  test('ids outside 0..2^d-1 are rejected', () => {
    assert.throws(() => binaryId(8, 3), RangeError);
    assert.throws(() => binaryId(-1, 3), RangeError);
    assert.throws(() => neighbors(1.5, 3), RangeError);
    assert.throws(() => neighbors(0, 0), RangeError);
    assert.equal(isValidId(15, 4), true);
    assert.equal(isValidId(16, 4), false);
    assert.equal(slotCount(10), 1024);
  });

  test("the seed's example: the neighbours of 000 are 001, 010, 100", () => {
    assert.deepEqual(
      neighbors(0, 3).map((n) => binaryId(n, 3)),
      ['001', '010', '100'],
    );
  });

  test('neighbours differ in exactly one bit, and neighbourhood is symmetric', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.nat(), (d, raw) => {
        const id = raw % 2 ** d;
        const ns = neighbors(id, d);
        assert.equal(ns.length, d);
        assert.equal(new Set(ns).size, d);
        for (const n of ns) {
          assert.equal(popcount(n ^ id), 1);
          assert.ok(areNeighbors(n, id));
          assert.ok(neighbors(n, d).includes(id));
        }
      }),
    );
  });

  test('xorDistance and highestDifferingBit', () => {
    assert.equal(xorDistance(2, 7), 5);
    assert.equal(highestDifferingBit(2, 7), 2);
    assert.equal(highestDifferingBit(6, 7), 0);
    assert.equal(highestDifferingBit(3, 3), -1);
    assert.equal(popcount(2 ^ 7), 2);
    fc.assert(
      fc.property(fc.nat(2 ** 20), fc.nat(2 ** 20), (a, b) => {
        assert.equal(xorDistance(a, b), xorDistance(b, a));
        assert.equal(xorDistance(a, b) === 0, a === b);
      }),
    );
  });
});
