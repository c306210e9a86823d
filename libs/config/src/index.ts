export * from './app.config.js';
export * from './clock.js';
