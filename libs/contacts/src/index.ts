export * from './contact.commands.js';
export * from './contact.decide.js';
export * from './contact.errors.js';
export * from './contact.events.js';
export * from './contact.reservation.js';
export * from './contact.rules.js';
export * from './contact.state.js';
export * from './contact.view.js';
