import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '@app/config';
import { createWorker } from './bootstrap.js';

async function main(): Promise<void> {
  await createWorker(loadConfig());
  new Logger('Worker').log('worker started; stops on SIGTERM or SIGINT');
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `configuration: ${error.message}` : error);
  process.exit(1);
});
