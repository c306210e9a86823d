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
  const parent = process.send === undefined ? null : process;
  const app = await createWorker(config, { shutdownHooks: parent === null });
  if (parent) {
    // Started by `npm start` (apps/cli): it stops when told, on a stop signal (a terminal's Ctrl-C
    // reaches the whole group), or when its parent is gone (killed), whichever comes first, once.
    let closing: Promise<void> | null = null;
    const close = (): void => {
      closing ??= app.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, close);
    parent.on('message', (message) => message === 'stop' && close());
    parent.once('disconnect', close);
    parent.send?.('ready');
    return;
  }
  new Logger('Worker').log(
    `worker started on the database ${withoutCredentials(config.DATABASE_URL)} (DATABASE_URL); stops on SIGTERM or SIGINT`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `configuration: ${error.message}` : error);
  process.exit(1);
});
