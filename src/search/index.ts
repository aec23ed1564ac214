/**
 * Public entry of the search subsystem (DistriSearch): the search node service and its client,
 * plus the pieces other subsystems and tools may use (the analyzer and the single-index query
 * pipeline, document placement). Subsystems import from here, never from the folders inside.
 */
export * from './node/index.js';
export { placeDocument, primaryOwner } from './balancer/index.js';
export {
  analyzeQuery,
  analyzeTerms,
  parseLanguage,
  InvertedIndex,
  searchIndex,
  type QueryOptions,
  type StoredDocument,
} from './index/index.js';
