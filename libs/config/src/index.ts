export * from './app.config.js';
export * from './clock.js';
export * from './log-format.js';
