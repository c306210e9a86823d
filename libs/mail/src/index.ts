export * from './html.js';
export * from './invite.mail.js';
export * from './mailer.js';
