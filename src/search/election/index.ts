/**
 * Leader election for DistriSearch: the Bully algorithm with leader heartbeats, as a pure state
 * machine. A driver feeds inputs (start, messages, timeouts or ticks) to `electionStep`, sends the
 * messages it returns, and schedules the timers it asks for (docs/search-overlay.md).
 */
export { electionStep, initialElectionState, isLeader } from './bully.js';
export {
  DEFAULT_ELECTION_CONFIG,
  type ElectionConfig,
  type ElectionEnv,
  type ElectionEvent,
  type ElectionInput,
  type ElectionMessage,
  type ElectionMessageType,
  type ElectionOutput,
  type ElectionState,
  type NodeId,
  type Role,
  type TimerName,
  type TimerRequest,
} from './types.js';
