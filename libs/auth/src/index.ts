export * from './client-store.js';
export * from './invite-tokens.js';
