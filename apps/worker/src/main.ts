import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/config';
import { createWorker } from './bootstrap.js';

createWorker(loadConfig()).catch((error: unknown) => {
    console.error(error instanceof ConfigError ? `configuration: ${error.message}` : error);
    process.exit(1);
  });
