export * from './contact.service.js';
export * from './email-reservations.js';
export * from './contact.loader.js';
export * from './sign-in.errors.js';
export * from './sign-in.service.js';
export { HASH_CONCURRENCY } from './slots.js';
