export * from './canonical-json.js';
export * from './event-hash.js';
export * from './event-store.js';
export * from './event.types.js';
export * from './chain-verifier.js';
export * from './stream-verifier.js';
export * from './recorded-event.js';
export * from './log-checkpoints.js';
