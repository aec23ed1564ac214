/** Public entry of the registry subsystem. */
export {
  startRegistry,
  registryConfigSchema,
  type RegistryConfig,
  type RegistryHandle,
} from './server.js';
export { Registry } from './registry.js';
export { INDEX_HEADER } from './routes.js';
export type { ServerRecord, ServerList } from './types.js';
export { RegistrationAgent, stableServerId, type RegistrationAgentOptions } from './agent.js';
export { DiscoveryClient, type DiscoveryOptions } from './discovery.js';
export { orderCandidates, type SelectionStrategy } from './selection.js';
