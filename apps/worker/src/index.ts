export { createWorker } from './bootstrap.js';
