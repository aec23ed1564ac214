// Rule (issue 6, Search page; docs/search.md "Partial answers after nodes leave"): the page warns
// that documents may be missing exactly when a node says so, naming the departed peers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lossWarning } from '../../src/web/search-loss.pure.js';

describe('lossWarning', () => {
  test('no warning while no node reports missing documents (older nodes lack the field)', () => {
    assert.equal(lossWarning([]), null);
    assert.equal(
      lossWarning([
        { node_id: 0 },
        { node_id: 1, departed_uncovered: [3], documents_may_be_missing: false },
      ]),
      null,
    );
  });

  test('names the departed peers and the nodes that see them', () => {
    assert.equal(
      lossWarning([
        { node_id: 1, departed_uncovered: [3, 2], documents_may_be_missing: true },
        { node_id: 0, departed_uncovered: [2, 3], documents_may_be_missing: true },
      ]),
      'Nodes 2, 3 left before a repair covered their copies, as seen by nodes 0, 1. ' +
        'Documents whose every copy is on them are missing, and searches answer partial, ' +
        'until enough of them are back.',
    );
  });
});
