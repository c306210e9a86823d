export * from './contacts.projection.js';
export * from './contacts.queries.js';
