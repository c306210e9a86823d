export * from './contact.service.js';
// The loader moved to the owner of the read table it starts from; re-exported for its callers here.
export { loadContact, type LoadedContact } from '@app/projections';
export { Busy, HASH_CONCURRENCY } from './slots.js';
export * from './sign-in.errors.js';
export * from './sign-in.service.js';
