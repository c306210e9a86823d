export * from './contacts.projection.js';
export * from './contacts.queries.js';
export * from './read-tables.rebuild.js';
export * from './due-work.queries.js';
