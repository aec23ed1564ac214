// Rule (issue 7, "Chaos"): after the faults, every acknowledged file downloads byte-identical,
// every acknowledged document is found exactly once, every job that reported success has the
// correct output, every chunk is back at its replication factor, every search node agrees on one
// leader, and no process is left dead. The checker must catch each broken observation, or a
// chaos run could never fail.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkInvariants,
  parseCounts,
  wordCounts,
  type InvariantName,
  type Observations,
} from './invariants.pure.js';

const expectedCounts = wordCounts('the cat and the hat');
const goodOutput = 'and\t1\ncat\t1\nhat\t1\nthe\t2\n';

/** Observations of a cluster where every invariant holds. */
const healthy: Observations = {
  files: [{ path: '/f-0', expectedSha256: 'aa', downloaded: { sha256: 'aa' } }],
  replication: [{ path: '/f-0', replicationFactor: 3, minLiveReplicas: 3 }],
  documents: [{ docId: 'd-0', term: 'zqb', resultDocIds: ['d-0', 'd-9'] }],
  jobs: [
    {
      jobId: 'job-1',
      state: 'succeeded',
      reportedSuccess: true,
      expectedCounts,
      output: goodOutput,
    },
    { jobId: 'job-2', state: 'failed', reportedSuccess: false, expectedCounts, output: undefined },
  ],
  leaders: [
    { nodeId: 0, leaderId: 1 },
    { nodeId: 1, leaderId: 1 },
  ],
  processes: [{ name: 'registry', running: true, healthy: true, unexpectedExits: [] }],
};

const broken: [string, Partial<Observations>, InvariantName][] = [
  [
    'a file with other bytes',
    { files: [{ path: '/f-0', expectedSha256: 'aa', downloaded: { sha256: 'bb' } }] },
    'file-identical',
  ],
  [
    'a file that cannot be downloaded',
    { files: [{ path: '/f-0', expectedSha256: 'aa', downloaded: { error: 'gone' } }] },
    'file-identical',
  ],
  [
    'a document found twice',
    { documents: [{ docId: 'd-0', term: 'zqb', resultDocIds: ['d-0', 'd-0'] }] },
    'document-once',
  ],
  [
    'a document lost',
    { documents: [{ docId: 'd-0', term: 'zqb', resultDocIds: ['d-9'] }] },
    'document-once',
  ],
  [
    'a succeeded job with a wrong count',
    {
      jobs: [{ ...healthy.jobs[0]!, output: goodOutput.replace('the\t2', 'the\t3') }],
    },
    'job-output',
  ],
  [
    'a succeeded job with a key written twice',
    { jobs: [{ ...healthy.jobs[0]!, output: `${goodOutput}the\t2\n` }] },
    'job-output',
  ],
  [
    'a succeeded job whose output is missing a key',
    { jobs: [{ ...healthy.jobs[0]!, output: 'and\t1\ncat\t1\nthe\t2\n' }] },
    'job-output',
  ],
  [
    'a job reported succeeded that the master now calls failed',
    { jobs: [{ ...healthy.jobs[0]!, state: 'failed' }] },
    'job-output',
  ],
  [
    'a job still running after convergence',
    { jobs: [{ ...healthy.jobs[1]!, state: 'running' }] },
    'job-finished',
  ],
  [
    'an under-replicated chunk',
    { replication: [{ path: '/f-0', replicationFactor: 3, minLiveReplicas: 2 }] },
    'replication',
  ],
  ['an unreadable listing', { replication: { error: 'refused' } }, 'replication'],
  [
    'two leaders',
    {
      leaders: [
        { nodeId: 0, leaderId: 0 },
        { nodeId: 1, leaderId: 1 },
      ],
    },
    'one-leader',
  ],
  [
    'a leader that is not running',
    {
      leaders: [
        { nodeId: 0, leaderId: 3 },
        { nodeId: 1, leaderId: 3 },
      ],
    },
    'one-leader',
  ],
  ['no leader', { leaders: [{ nodeId: 0, leaderId: null }] }, 'one-leader'],
  [
    'a dead process',
    { processes: [{ name: 'datanode-1', running: false, healthy: false, unexpectedExits: [] }] },
    'process-alive',
  ],
  [
    'a process that crashed on its own',
    {
      processes: [{ name: 'registry', running: true, healthy: true, unexpectedExits: ['1'] }],
    },
    'process-alive',
  ],
];

describe('the chaos invariant checker', () => {
  test('a healthy cluster has no violations', () => {
    assert.deepEqual(checkInvariants(healthy), []);
  });

  for (const [name, change, invariant] of broken) {
    test(`catches ${name}`, () => {
      const violations = checkInvariants({ ...healthy, ...change });
      assert.equal(violations.length, 1, JSON.stringify(violations));
      assert.equal(violations[0]?.invariant, invariant);
    });
  }

  test('word counts follow the builtin: lower-cased runs of ASCII letters', () => {
    assert.deepEqual([...wordCounts("Don't  x-ray, THE the ÉTÉ")].sort(), [
      ['don', 1],
      ['ray', 1],
      ['t', 2],
      ['the', 2],
      ['x', 1],
    ]);
    assert.deepEqual(parseCounts('a\t1\nb\t2\na\t3\n').duplicates, ['a']);
  });
});
