export * from './contacts.projection.js';
export * from './contacts.queries.js';
export * from './read-tables.rebuild.js';
export * from './contacts.search.js';
export * from './contact.loader.js';
export * from './email-reservations.js';
export * from './due-work.queries.js';
