export * from './contact.service.js';
export * from './email-reservations.js';
