import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { Logger } from 'nestjs-pino';
import { tokenSecret } from '@app/auth';
import { SystemClock, type AppConfig, type Clock } from '@app/config';
import { Database, RUNTIME_ROLE } from '@app/database';
import { continueLogAfterRestore } from '@app/event-store';
import { WorkerModule } from './worker.module.js';

export async function createWorker(
  config: AppConfig,
  options: {
    clock?: Clock;
    logs?: boolean;
    scheduleCheckMs?: number;
    jobOptions?: JobsOptions;
    /** false: the caller closes the application (npm start's worker process closes on its parent's word) */
    shutdownHooks?: boolean;
  } = {},
): Promise<INestApplicationContext> {
  // A connection for every job that may run at once (invites 8, roles 16, maintenance 1) and a few
  // for the dispatcher, kept open a while: a burst of expiries after a quiet spell must not wait
  // for connections to open (measured: 9 of 10 were opened inside the burst).
  const database = new Database({
    url: config.DATABASE_URL,
    applicationName: 'contacts-worker',
    max: 30,
    idleTimeoutMs: 300_000,
    role: RUNTIME_ROLE,
  });
  const serverSecret = await tokenSecret(database, config.TOKEN_SECRET);
  // After a restore into a new server, the log's clock must run ahead of the stored ids before the
  // dispatcher reads (migrate does it too; start:worker does not migrate).
  await continueLogAfterRestore(database);
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot({
      config,
      clock: options.clock ?? new SystemClock(),
      database,
      serverSecret,
      scheduleCheckMs: options.scheduleCheckMs,
      jobOptions: options.jobOptions,
    }),
    // A module that fails to start rejects here rather than ending the process.
    { bufferLogs: true, logger: options.logs === false ? false : undefined, abortOnError: false },
  );
  if (options.logs !== false) app.useLogger(app.get(Logger));
  if (options.shutdownHooks !== false) app.enableShutdownHooks();
  await app.init();
  return app;
}
