export * from './create-database.js';
export * from './database.js';
export * from './migrate.js';
