// Rule checked (distrisearch-architecture.md, "Elección de Líder (Bully)"): a node that suspects
// the leader sends ELECTION to every higher id; live higher ids answer OK, and an OK from a
// higher id stops the lower candidate; a node that hears no OK becomes COORDINATOR and tells
// everyone; the leader heartbeats, and followers that miss heartbeats start an election; a higher
// id that appears takes over. Timers are requests, and a stale one is ignored.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_ELECTION_CONFIG,
  electionStep,
  initialElectionState,
  isLeader,
  type ElectionInput,
  type ElectionMessageType,
  type ElectionOutput,
  type ElectionState,
  type NodeId,
} from '../../../src/search/election/index.js';

const CONFIG = DEFAULT_ELECTION_CONFIG;
const PEERS = [1, 2, 3, 4, 5];

function step(
  state: ElectionState,
  input: ElectionInput,
  self: NodeId,
  nowMs = 0,
  peers = PEERS,
): ElectionOutput {
  return electionStep(state, input, { self, peers, nowMs, config: CONFIG });
}
const msg = (type: ElectionMessageType, from: NodeId, to: NodeId): ElectionInput => ({
  kind: 'message',
  msg: { type, from, to },
});
const sent = (out: ElectionOutput): string[] => out.send.map((m) => `${m.type}->${m.to}`);

/** Node 3 following leader 5, which it last heard at t=0. */
const follower3 = (): ElectionState =>
  step(initialElectionState(), msg('COORDINATOR', 5, 3), 3).state;
/** Node 5 as leader. */
const leader5 = (): ElectionState => step(initialElectionState(), { kind: 'start' }, 5).state;
/** Node 3 as a candidate that sent ELECTION at t=0. */
const candidate3 = (): ElectionState => step(initialElectionState(), { kind: 'start' }, 3).state;

describe('Bully election step', () => {
  test('the highest id that starts becomes leader at once and tells everyone', () => {
    const out = step(initialElectionState(), { kind: 'start' }, 5);
    assert.equal(out.state.role, 'leader');
    assert.ok(isLeader(out.state));
    assert.deepEqual(sent(out), [
      'COORDINATOR->1',
      'COORDINATOR->2',
      'COORDINATOR->3',
      'COORDINATOR->4',
    ]);
    assert.deepEqual(out.timers, [{ name: 'heartbeat', atMs: 1000, afterMs: 1000 }]);
    assert.deepEqual(out.events, [
      { kind: 'election-started' },
      { kind: 'leader-changed', leaderId: 5, previous: null },
    ]);
  });

  test('a lower id that starts sends ELECTION to higher ids only and waits for OK', () => {
    const out = step(initialElectionState(), { kind: 'start' }, 3, 100);
    assert.equal(out.state.role, 'candidate');
    assert.equal(out.state.leaderId, null);
    assert.deepEqual(sent(out), ['ELECTION->4', 'ELECTION->5']);
    assert.deepEqual(out.timers, [{ name: 'ok-wait', atMs: 600, afterMs: 500 }]);
  });

  test('a candidate that hears no OK declares itself COORDINATOR', () => {
    const out = step(
      candidate3(),
      { kind: 'timeout', timer: { name: 'ok-wait', atMs: 500 } },
      3,
      500,
    );
    assert.equal(out.state.role, 'leader');
    assert.equal(out.state.leaderId, 3);
    assert.deepEqual(sent(out), [
      'COORDINATOR->1',
      'COORDINATOR->2',
      'COORDINATOR->4',
      'COORDINATOR->5',
    ]);
  });

  test('an OK from a higher id stops the lower candidate, which waits for COORDINATOR', () => {
    const out = step(candidate3(), msg('OK', 4, 3), 3, 50);
    assert.equal(out.state.role, 'awaiting-coordinator');
    assert.deepEqual(out.send, []);
    assert.deepEqual(out.timers, [{ name: 'coordinator-wait', atMs: 2050, afterMs: 2000 }]);
    const late = step(
      out.state,
      { kind: 'timeout', timer: { name: 'ok-wait', atMs: 500 } },
      3,
      500,
    );
    assert.equal(late.state.role, 'awaiting-coordinator', 'the ok-wait timer was superseded');
  });

  test('an OK from a lower id is ignored', () => {
    assert.equal(step(candidate3(), msg('OK', 2, 3), 3).state.role, 'candidate');
  });

  test('no COORDINATOR after an OK: the candidate starts over', () => {
    const waiting = step(candidate3(), msg('OK', 4, 3), 3, 50).state;
    const out = step(
      waiting,
      { kind: 'timeout', timer: { name: 'coordinator-wait', atMs: 2050 } },
      3,
      2050,
    );
    assert.equal(out.state.role, 'candidate');
    assert.deepEqual(sent(out), ['ELECTION->4', 'ELECTION->5']);
    assert.equal(out.state.electionsStarted, 2);
  });

  test('a COORDINATOR from a higher id is obeyed', () => {
    const out = step(candidate3(), msg('COORDINATOR', 5, 3), 3, 70);
    assert.equal(out.state.role, 'follower');
    assert.equal(out.state.leaderId, 5);
    assert.deepEqual(out.timers, [{ name: 'leader-check', atMs: 3570, afterMs: 3500 }]);
    assert.deepEqual(out.events, [{ kind: 'leader-changed', leaderId: 5, previous: null }]);
  });

  test('an ELECTION from a lower id gets OK, and the receiver runs its own election', () => {
    const out = step(initialElectionState(), msg('ELECTION', 1, 3), 3);
    assert.deepEqual(sent(out), ['OK->1', 'ELECTION->4', 'ELECTION->5']);
    assert.equal(out.state.role, 'candidate');
  });

  test('the leader answers an ELECTION with OK and COORDINATOR and stays leader', () => {
    const out = step(leader5(), msg('ELECTION', 2, 5), 5, 10);
    assert.deepEqual(sent(out), ['OK->2', 'COORDINATOR->2']);
    assert.equal(out.state.role, 'leader');
  });

  test('a follower of a live higher leader answers OK and leaves the rest to the leader', () => {
    const out = step(follower3(), msg('ELECTION', 1, 3), 3, 1000);
    assert.deepEqual(sent(out), ['OK->1']);
    assert.equal(out.state.role, 'follower');
  });

  test('a follower whose leader went silent runs its own election on an ELECTION', () => {
    const out = step(follower3(), msg('ELECTION', 1, 3), 3, 3600);
    assert.deepEqual(sent(out), ['OK->1', 'ELECTION->4', 'ELECTION->5']);
  });

  test('a COORDINATOR from a lower id is bullied: a leader reasserts itself to all', () => {
    const out = step(leader5(), msg('COORDINATOR', 4, 5), 5, 10);
    assert.deepEqual(sent(out), [
      'COORDINATOR->1',
      'COORDINATOR->2',
      'COORDINATOR->3',
      'COORDINATOR->4',
    ]);
  });

  test('a COORDINATOR from a lower id to a node without a live leader starts an election', () => {
    const out = step(initialElectionState(), msg('COORDINATOR', 2, 4), 4);
    assert.equal(out.state.role, 'candidate');
    assert.deepEqual(sent(out), ['ELECTION->5']);
  });

  test("a follower acks its leader's heartbeat and re-arms its leader check", () => {
    const out = step(follower3(), msg('HEARTBEAT', 5, 3), 3, 1000);
    assert.deepEqual(sent(out), ['HEARTBEAT_ACK->5']);
    assert.deepEqual(out.timers, [{ name: 'leader-check', atMs: 4500, afterMs: 3500 }]);
    assert.equal(out.state.leaderHeardAtMs, 1000);
    const early = step(
      out.state,
      { kind: 'timeout', timer: { name: 'leader-check', atMs: 3500 } },
      3,
      3500,
    );
    assert.equal(early.state.role, 'follower', 'the earlier leader check is stale');
  });

  test('missed heartbeats: the leader check fires and the follower starts an election', () => {
    const out = step(
      follower3(),
      { kind: 'timeout', timer: { name: 'leader-check', atMs: 3500 } },
      3,
      3500,
    );
    assert.equal(out.state.role, 'candidate');
    assert.equal(out.state.leaderId, null);
    assert.deepEqual(sent(out), ['ELECTION->4', 'ELECTION->5']);
    assert.deepEqual(out.events, [
      { kind: 'election-started' },
      { kind: 'leader-changed', leaderId: null, previous: 5 },
    ]);
  });

  test('a leader that hears a higher leader steps down and follows it', () => {
    const lead = step(initialElectionState(), { kind: 'start' }, 5, 0, [1, 2]).state;
    const out = step(lead, msg('HEARTBEAT', 7, 5), 5, 100, [1, 2, 7]);
    assert.equal(out.state.role, 'follower');
    assert.equal(out.state.leaderId, 7);
    assert.deepEqual(sent(out), ['HEARTBEAT_ACK->7']);
  });

  test('a heartbeat from a lower leader is ignored by a follower of a live higher leader', () => {
    const out = step(follower3(), msg('HEARTBEAT', 4, 3), 3, 1000);
    assert.deepEqual(out.send, []);
    assert.equal(out.state.leaderId, 5);
  });

  test('a heartbeat from a lower id than the receiver makes it take over', () => {
    const out = step(initialElectionState(), msg('HEARTBEAT', 2, 4), 4);
    assert.equal(out.state.role, 'candidate');
    assert.deepEqual(sent(out), ['ELECTION->5']);
  });

  test('once its leader is silent, a follower adopts the next higher heartbeat', () => {
    const out = step(follower3(), msg('HEARTBEAT', 4, 3), 3, 3600);
    assert.equal(out.state.leaderId, 4);
    assert.deepEqual(sent(out), ['HEARTBEAT_ACK->4']);
  });

  test('the leader heartbeats every peer on its timer and records acks', () => {
    const out = step(
      leader5(),
      { kind: 'timeout', timer: { name: 'heartbeat', atMs: 1000 } },
      5,
      1000,
    );
    assert.deepEqual(sent(out), ['HEARTBEAT->1', 'HEARTBEAT->2', 'HEARTBEAT->3', 'HEARTBEAT->4']);
    assert.deepEqual(out.timers, [{ name: 'heartbeat', atMs: 2000, afterMs: 1000 }]);
    const acked = step(out.state, msg('HEARTBEAT_ACK', 2, 5), 5, 1010);
    assert.deepEqual(acked.state.followerAckAtMs, { 2: 1010 });
  });

  test('tick fires every deadline that has passed, and nothing before', () => {
    assert.equal(step(candidate3(), { kind: 'tick' }, 3, 499).state.role, 'candidate');
    assert.equal(step(candidate3(), { kind: 'tick' }, 3, 500).state.role, 'leader');
  });

  test('start is ignored once started; messages for another node or from self are ignored', () => {
    const out = step(follower3(), { kind: 'start' }, 3, 10);
    assert.equal(out.state.role, 'follower');
    assert.deepEqual(out.send, []);
    assert.deepEqual(step(follower3(), msg('COORDINATOR', 4, 2), 3).state.leaderId, 5);
    assert.deepEqual(step(leader5(), msg('HEARTBEAT', 5, 5), 5).send, []);
  });

  test('a node alone is its own leader', () => {
    const out = step(initialElectionState(), { kind: 'start' }, 0, 0, []);
    assert.equal(out.state.role, 'leader');
    assert.deepEqual(out.send, []);
  });

  test('steps do not mutate the state they are given', () => {
    const before = follower3();
    const snapshot = structuredClone(before);
    step(before, { kind: 'timeout', timer: { name: 'leader-check', atMs: 3500 } }, 3, 3500);
    assert.deepEqual(before, snapshot);
  });
});
