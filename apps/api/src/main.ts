import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError, loadSettings } from '@app/config';
import { withoutCredentials } from '@app/database';
import { createApi } from './bootstrap.js';

async function main(): Promise<void> {
  const settings = loadSettings();
  // The embedded Postgres belongs to `npm start`, which runs the API and the worker together and
  // stops it after both: an API on its own that owned it would take it away from a worker beside it.
  if (settings.DATABASE_URL === undefined) {
    throw new ConfigError(
      'DATABASE_URL',
      'is required to run the API on its own (npm run start:api); without it, npm start runs the API and the worker together on an embedded Postgres under DATA_DIR',
    );
  }
  const config = settings.withDatabaseUrl(settings.DATABASE_URL);
  const app = await createApi(config);
  new Logger('Http').log(`database: ${withoutCredentials(config.DATABASE_URL)} (DATABASE_URL)`);
  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`configuration: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
