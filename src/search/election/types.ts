/**
 * Types of the Bully election (distrisearch-architecture.md, "Elección de Líder (Bully)"):
 * inputs in, messages and timer requests out. The state machine never reads a clock or sets a
 * timer itself; its driver does both.
 */

/** A search node's id (its hypercube id). Higher ids win elections. */
export type NodeId = number;

/** Timing of the election, in milliseconds. */
export interface ElectionConfig {
  /** How long a candidate waits for an OK from a higher id before declaring itself leader. */
  readonly okTimeoutMs: number;
  /** How long a candidate that got an OK waits for a COORDINATOR before starting over. */
  readonly coordinatorTimeoutMs: number;
  /** How often the leader sends HEARTBEAT to every peer. */
  readonly heartbeatIntervalMs: number;
  /** How long a follower waits without a heartbeat before it starts an election. */
  readonly leaderTimeoutMs: number;
}

/**
 * Defaults: a follower starts an election after three missed heartbeats and a half; the
 * coordinator wait covers a few OK rounds of the candidates above.
 */
export const DEFAULT_ELECTION_CONFIG: ElectionConfig = {
  okTimeoutMs: 500,
  coordinatorTimeoutMs: 2000,
  heartbeatIntervalMs: 1000,
  leaderTimeoutMs: 3500,
};

/** What the state machine needs from its surroundings on every step. */
export interface ElectionEnv {
  /** This node's id. */
  readonly self: NodeId;
  /** The other nodes' ids as far as this node knows (e.g. from the registry); may include dead ones. */
  readonly peers: readonly NodeId[];
  /** The current time (ms), from the driver's Clock. */
  readonly nowMs: number;
  readonly config: ElectionConfig;
}

/**
 * A node's role. `idle`: not started. `candidate`: sent ELECTION, waiting for an OK.
 * `awaiting-coordinator`: got an OK, waiting for the COORDINATOR. `leader` and `follower`: settled.
 */
export type Role = 'idle' | 'candidate' | 'awaiting-coordinator' | 'leader' | 'follower';

/** The timers the state machine asks for; each name has at most one deadline. */
export type TimerName = 'ok-wait' | 'coordinator-wait' | 'heartbeat' | 'leader-check';

/** A request to deliver `{kind: 'timeout', timer}` at `atMs` (that is, `afterMs` from now). */
export interface TimerRequest {
  readonly name: TimerName;
  readonly atMs: number;
  readonly afterMs: number;
}

/** A node's election state. Treat as immutable; `electionStep` returns a new one. */
export interface ElectionState {
  readonly role: Role;
  /** The leader this node follows (itself when leader), or null while none is known. */
  readonly leaderId: NodeId | null;
  /** When the leader was last heard from (follower), or null. */
  readonly leaderHeardAtMs: number | null;
  /** The pending deadline of each timer; a timeout whose `atMs` differs is stale and ignored. */
  readonly deadlines: Readonly<Partial<Record<TimerName, number>>>;
  /** As leader: when each follower last acknowledged a heartbeat. */
  readonly followerAckAtMs: Readonly<Record<NodeId, number>>;
  /** Elections this node has started (for metrics). */
  readonly electionsStarted: number;
}

/** The kinds of election message. */
export type ElectionMessageType = 'ELECTION' | 'OK' | 'COORDINATOR' | 'HEARTBEAT' | 'HEARTBEAT_ACK';

/** One message between nodes; `to` tells the driver where to send it. */
export interface ElectionMessage {
  readonly type: ElectionMessageType;
  readonly from: NodeId;
  readonly to: NodeId;
}

/** What can happen to a node. */
export type ElectionInput =
  /** The node booted (or restarted): start an election. */
  | { readonly kind: 'start' }
  /** A message arrived. */
  | { readonly kind: 'message'; readonly msg: ElectionMessage }
  /** A timer requested earlier fired. */
  | { readonly kind: 'timeout'; readonly timer: Pick<TimerRequest, 'name' | 'atMs'> }
  /** For drivers that poll instead of scheduling timers: fire every deadline that has passed. */
  | { readonly kind: 'tick' };

/** Something the driver may want to act on (e.g. start the data balancer on becoming leader). */
export type ElectionEvent =
  | {
      readonly kind: 'leader-changed';
      readonly leaderId: NodeId | null;
      readonly previous: NodeId | null;
    }
  | { readonly kind: 'election-started' };

/** The result of one step: the new state, messages to send, timers to schedule, events. */
export interface ElectionOutput {
  readonly state: ElectionState;
  readonly send: readonly ElectionMessage[];
  /** Timers to schedule; one replaces any earlier request of the same name. */
  readonly timers: readonly TimerRequest[];
  readonly events: readonly ElectionEvent[];
}
