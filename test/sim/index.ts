/**
 * A small deterministic simulation kit (DESIGN.md, rule 2): seeded clock and randomness, an event
 * queue, a network that delays, drops, duplicates and partitions, per-node timers, seed runners.
 */
export { EventQueue, type SimEvent } from './event-queue.js';
export {
  RELIABLE_NETWORK,
  SimNetwork,
  type Envelope,
  type NetworkFaults,
  type NetworkStats,
  type SendResult,
} from './network.js';
export { forEachSeed, SeedFailure, seedRange, seedsFromEnv } from './seeds.js';
export { Simulation, type RunLimits } from './simulation.js';
export { formatSummary, summarize, type Summary } from './stats.js';
export { SimTimers } from './timers.js';
