/**
 * Public API of the search node's local index: analyzer, inverted index, scoring, statistics,
 * top-k merging, snippets and persistence.
 */
export * from './analyzer.js';
export * from './scoring.js';
export * from './proximity.js';
export * from './stats.js';
export * from './top-k.js';
export * from './inverted-index.js';
export * from './feedback.js';
export * from './query.js';
export * from './snippet.js';
export * from './wal-format.js';
export * from './index-store.js';
