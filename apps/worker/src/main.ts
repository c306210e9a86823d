import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadSettings } from '@app/config';
import { withoutCredentials } from '@app/database';
import { createWorker } from './bootstrap.js';

async function main(): Promise<void> {
  const settings = loadSettings();
  // The embedded Postgres belongs to `npm start` (API and worker together, see apps/api/src/main.ts).
  if (settings.DATABASE_URL === undefined) {
    throw new ConfigError(
      'DATABASE_URL',
      'is required to run the worker on its own (npm run start:worker); without it, npm start runs the API and the worker together on an embedded Postgres under DATA_DIR',
    );
  }
  const config = settings.withDatabaseUrl(settings.DATABASE_URL);
  await createWorker(config);
  new Logger('Worker').log(
    `worker started on the database ${withoutCredentials(config.DATABASE_URL)} (DATABASE_URL); stops on SIGTERM or SIGINT`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `configuration: ${error.message}` : error);
  process.exit(1);
});
