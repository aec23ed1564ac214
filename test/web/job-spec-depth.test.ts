// Rule checked (DESIGN.md rule 6; found by `npm run fuzz`): the dashboard passes a submitted
// job spec on to the MapReduce master; a spec nested thousands of levels deep overflowed the
// stack while being serialized (a 500). Such a spec is refused (400) before it is forwarded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nestsDeeperThan } from '../../src/web/job-routes.js';

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level += 1) value = level % 2 === 0 ? { a: value } : [value];
  return value;
}

describe('job spec nesting depth', () => {
  test('real specs pass', () => {
    const spec = { input: ['/a'], output: '/o', mapper: { kind: 'command', command: ['wc'] } };
    assert.equal(nestsDeeperThan(spec, 32), false);
    assert.equal(nestsDeeperThan(nested(32), 32), false);
  });

  test('deeper values are caught without overflowing the stack', () => {
    assert.equal(nestsDeeperThan(nested(33), 32), true);
    assert.equal(nestsDeeperThan(nested(200_000), 32), true);
  });
});
