export * from './client-store.js';
export * from './invite-tokens.js';
export * from './client-standing.js';
