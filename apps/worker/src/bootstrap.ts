import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { tokenSecret } from '@app/auth';
import { SystemClock, type AppConfig, type Clock } from '@app/config';
import { Database } from '@app/database';
import { WorkerModule } from './worker.module.js';

export async function createWorker(config: AppConfig, options: { clock?: Clock; logs?: boolean } = {}): Promise<INestApplicationContext> {
  const database = new Database({ url: config.DATABASE_URL, applicationName: 'contacts-worker', max: 10 });
  const serverSecret = await tokenSecret(database, config.TOKEN_SECRET);
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot({ config, clock: options.clock ?? new SystemClock(), database, serverSecret }),
    { bufferLogs: true, logger: options.logs === false ? false : undefined },
  );
  if (options.logs !== false) app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  return app;
}
