/** Public entry of the web dashboard subsystem. */
export { startWeb, webConfigSchema, type WebConfig, type WebHandle } from './server.js';
export type * from './api-types.js';
