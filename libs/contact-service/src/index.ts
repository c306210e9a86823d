export * from './contact.service.js';
export * from './email-reservations.js';
export * from './contact.loader.js';
export { Busy } from './slots.js';
