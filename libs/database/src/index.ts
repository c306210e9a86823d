export * from './create-database.js';
export * from './database-location.js';
export * from './database.js';
export * from './embedded-postgres.js';
export * from './migrate.js';
export * from './runtime-role.js';
