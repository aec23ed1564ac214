/**
 * The Bully election as a pure state machine (distrisearch-architecture.md, "Elección de Líder
 * (Bully)"): a node that suspects the leader sends ELECTION to every higher id; a live higher
 * node answers OK and runs its own election; a node that hears no OK declares itself leader and
 * sends COORDINATOR to all. The leader sends HEARTBEAT to every peer; followers answer
 * HEARTBEAT_ACK and start an election when heartbeats stop. A node with a higher id that comes
 * back starts an election and takes over. Timers are requests; the driver schedules them.
 */
import {
  beginStep,
  broadcast,
  clearTimers,
  finishStep,
  sendTo,
  setTimer,
  settle,
  uniquePeers,
  type StepContext,
} from './step-context.js';
import type {
  ElectionEnv,
  ElectionInput,
  ElectionMessage,
  ElectionOutput,
  ElectionState,
  NodeId,
  TimerName,
} from './types.js';

/** The state of a node that has not started yet. */
export function initialElectionState(): ElectionState {
  return {
    role: 'idle',
    leaderId: null,
    leaderHeardAtMs: null,
    deadlines: {},
    followerAckAtMs: {},
    electionsStarted: 0,
  };
}

/** One step of the election: (state, input, env) -> (state, messages, timer requests, events). */
export function electionStep(
  state: ElectionState,
  input: ElectionInput,
  env: ElectionEnv,
): ElectionOutput {
  const ctx = beginStep(state, env);
  switch (input.kind) {
    case 'start':
      if (ctx.state.role === 'idle') startElection(ctx);
      break;
    case 'message':
      if (input.msg.to === env.self && input.msg.from !== env.self) onMessage(ctx, input.msg);
      break;
    case 'timeout':
      if (
        ctx.state.deadlines[input.timer.name] === input.timer.atMs &&
        env.nowMs >= input.timer.atMs
      ) {
        fire(ctx, input.timer.name);
      }
      break;
    case 'tick':
      fireDue(ctx);
      break;
  }
  return finishStep(ctx);
}

/** True when `state` is the leader's. */
export function isLeader(state: ElectionState): boolean {
  return state.role === 'leader';
}

function onMessage(ctx: StepContext, msg: ElectionMessage): void {
  switch (msg.type) {
    case 'ELECTION':
      return onElection(ctx, msg.from);
    case 'OK':
      return onOk(ctx, msg.from);
    case 'COORDINATOR':
      return onCoordinator(ctx, msg.from);
    case 'HEARTBEAT':
      return onHeartbeat(ctx, msg.from);
    case 'HEARTBEAT_ACK':
      return onHeartbeatAck(ctx, msg.from);
  }
}

/** Starts an election: ELECTION to every higher peer, or leadership at once when there is none. */
function startElection(ctx: StepContext): void {
  ctx.state.electionsStarted++;
  ctx.events.push({ kind: 'election-started' });
  clearTimers(ctx, 'ok-wait', 'coordinator-wait', 'heartbeat', 'leader-check');
  ctx.state.leaderHeardAtMs = null;
  const higher = uniquePeers(ctx).filter((p) => p > ctx.env.self);
  if (higher.length === 0) return becomeLeader(ctx);
  settle(ctx, 'candidate', null);
  for (const peer of higher) sendTo(ctx, 'ELECTION', peer);
  setTimer(ctx, 'ok-wait', ctx.env.config.okTimeoutMs);
}

function becomeLeader(ctx: StepContext): void {
  settle(ctx, 'leader', ctx.env.self);
  clearTimers(ctx, 'ok-wait', 'coordinator-wait', 'leader-check');
  ctx.state.leaderHeardAtMs = null;
  ctx.state.followerAckAtMs = {};
  broadcast(ctx, 'COORDINATOR');
  setTimer(ctx, 'heartbeat', ctx.env.config.heartbeatIntervalMs);
}

function follow(ctx: StepContext, leader: NodeId): void {
  settle(ctx, 'follower', leader);
  clearTimers(ctx, 'ok-wait', 'coordinator-wait', 'heartbeat');
  ctx.state.followerAckAtMs = {};
  heardFromLeader(ctx);
}

function heardFromLeader(ctx: StepContext): void {
  ctx.state.leaderHeardAtMs = ctx.env.nowMs;
  setTimer(ctx, 'leader-check', ctx.env.config.leaderTimeoutMs);
}

function electing(ctx: StepContext): boolean {
  return ctx.state.role === 'candidate' || ctx.state.role === 'awaiting-coordinator';
}

/** A follower whose leader is higher than `other` and was heard from within the leader timeout. */
function followsLiveLeaderAbove(ctx: StepContext, other: NodeId): boolean {
  const { role, leaderId, leaderHeardAtMs } = ctx.state;
  if (role !== 'follower' || leaderId === null || leaderHeardAtMs === null) return false;
  return leaderId > other && ctx.env.nowMs - leaderHeardAtMs < ctx.env.config.leaderTimeoutMs;
}

/**
 * ELECTION from a lower id: answer OK (the lower candidate stops), then take over. A leader
 * reasserts itself with COORDINATOR; a follower of a live leader leaves that to the leader, which
 * gets the same ELECTION (this spares the O(n^2) storm when a low id restarts).
 */
function onElection(ctx: StepContext, from: NodeId): void {
  if (from > ctx.env.self) return;
  sendTo(ctx, 'OK', from);
  if (ctx.state.role === 'leader') return sendTo(ctx, 'COORDINATOR', from);
  if (!electing(ctx) && !followsLiveLeaderAbove(ctx, ctx.env.self)) startElection(ctx);
}

/** An OK from a higher id stops the lower candidate: it now waits for a COORDINATOR. */
function onOk(ctx: StepContext, from: NodeId): void {
  if (from < ctx.env.self || ctx.state.role !== 'candidate') return;
  ctx.state.role = 'awaiting-coordinator';
  clearTimers(ctx, 'ok-wait');
  setTimer(ctx, 'coordinator-wait', ctx.env.config.coordinatorTimeoutMs);
}

/** COORDINATOR from a higher id is obeyed; from a lower id it is bullied. */
function onCoordinator(ctx: StepContext, from: NodeId): void {
  if (from > ctx.env.self) return follow(ctx, from);
  bully(ctx);
}

/**
 * HEARTBEAT from a higher id: follow it, unless this node follows an even higher live leader
 * (then the heartbeat is from a leader that has yet to step down). From a lower id: bully.
 */
function onHeartbeat(ctx: StepContext, from: NodeId): void {
  if (from < ctx.env.self) return bully(ctx);
  if (ctx.state.role === 'follower' && ctx.state.leaderId === from) {
    heardFromLeader(ctx);
  } else if (!followsLiveLeaderAbove(ctx, from)) {
    follow(ctx, from);
  } else {
    return;
  }
  sendTo(ctx, 'HEARTBEAT_ACK', from);
}

function onHeartbeatAck(ctx: StepContext, from: NodeId): void {
  if (ctx.state.role === 'leader') ctx.state.followerAckAtMs[from] = ctx.env.nowMs;
}

/**
 * A lower id acts as leader: a leader reasserts itself to all; a follower of a live higher leader
 * leaves it to that leader (whose heartbeats make the lower one step down); anyone else runs an
 * election to take over.
 */
function bully(ctx: StepContext): void {
  if (ctx.state.role === 'leader') return broadcast(ctx, 'COORDINATOR');
  if (!electing(ctx) && !followsLiveLeaderAbove(ctx, ctx.env.self)) startElection(ctx);
}

const TIMER_ORDER: readonly TimerName[] = [
  'ok-wait',
  'coordinator-wait',
  'leader-check',
  'heartbeat',
];

function fireDue(ctx: StepContext): void {
  for (const name of TIMER_ORDER) {
    const atMs = ctx.state.deadlines[name];
    if (atMs !== undefined && atMs <= ctx.env.nowMs) fire(ctx, name);
  }
}

function fire(ctx: StepContext, name: TimerName): void {
  clearTimers(ctx, name);
  switch (name) {
    case 'ok-wait':
      // No higher id answered: this node is the highest alive.
      if (ctx.state.role === 'candidate') becomeLeader(ctx);
      return;
    case 'coordinator-wait':
      // The higher id that answered OK died before announcing itself: start over.
      if (ctx.state.role === 'awaiting-coordinator') startElection(ctx);
      return;
    case 'leader-check':
      if (ctx.state.role === 'follower') startElection(ctx);
      return;
    case 'heartbeat':
      if (ctx.state.role !== 'leader') return;
      broadcast(ctx, 'HEARTBEAT');
      setTimer(ctx, 'heartbeat', ctx.env.config.heartbeatIntervalMs);
      return;
  }
}
