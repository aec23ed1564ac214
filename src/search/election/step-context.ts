/**
 * The scratch space of one election step: a mutable copy of the state plus the messages, timers
 * and events produced so far. Local to a step, so the step as a whole stays pure.
 */
import type {
  ElectionEnv,
  ElectionEvent,
  ElectionMessage,
  ElectionMessageType,
  ElectionOutput,
  ElectionState,
  NodeId,
  Role,
  TimerName,
  TimerRequest,
} from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One step in progress. */
export interface StepContext {
  readonly env: ElectionEnv;
  readonly before: ElectionState;
  readonly state: Mutable<ElectionState> & {
    deadlines: Partial<Record<TimerName, number>>;
    followerAckAtMs: Record<NodeId, number>;
  };
  readonly send: ElectionMessage[];
  readonly timers: TimerRequest[];
  readonly events: ElectionEvent[];
}

/** Opens a step on `state`. */
export function beginStep(state: ElectionState, env: ElectionEnv): StepContext {
  return {
    env,
    before: state,
    state: {
      ...state,
      deadlines: { ...state.deadlines },
      followerAckAtMs: { ...state.followerAckAtMs },
    },
    send: [],
    timers: [],
    events: [],
  };
}

/** Closes a step: reports a leader change, if any, after the other events. */
export function finishStep(ctx: StepContext): ElectionOutput {
  const previous = ctx.before.leaderId;
  const leaderId = ctx.state.leaderId;
  const events = [...ctx.events];
  if (previous !== leaderId) events.push({ kind: 'leader-changed', leaderId, previous });
  return { state: ctx.state, send: ctx.send, timers: ctx.timers, events };
}

/** Queues a message to `to`. */
export function sendTo(ctx: StepContext, type: ElectionMessageType, to: NodeId): void {
  ctx.send.push({ type, from: ctx.env.self, to });
}

/** Queues a message to every known peer (never to self). */
export function broadcast(ctx: StepContext, type: ElectionMessageType): void {
  for (const peer of uniquePeers(ctx)) sendTo(ctx, type, peer);
}

/** The known peers, deduplicated and without self, in ascending order (deterministic output). */
export function uniquePeers(ctx: StepContext): NodeId[] {
  const peers = new Set(ctx.env.peers.filter((p) => p !== ctx.env.self));
  return [...peers].sort((a, b) => a - b);
}

/** Sets (or replaces) the deadline of `name` at now + afterMs and asks the driver for a timer. */
export function setTimer(ctx: StepContext, name: TimerName, afterMs: number): void {
  const atMs = ctx.env.nowMs + afterMs;
  ctx.state.deadlines[name] = atMs;
  ctx.timers.push({ name, atMs, afterMs });
}

/** Clears deadlines; a timer the driver still fires for them will be ignored as stale. */
export function clearTimers(ctx: StepContext, ...names: TimerName[]): void {
  for (const name of names) delete ctx.state.deadlines[name];
}

/** Sets the role and the leader together. */
export function settle(ctx: StepContext, role: Role, leaderId: NodeId | null): void {
  ctx.state.role = role;
  ctx.state.leaderId = leaderId;
}
