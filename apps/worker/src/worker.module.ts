import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig, Clock } from '@app/config';
import { Database } from '@app/database';
import { EventStore } from '@app/event-store';

export interface WorkerDependencies {
  config: AppConfig;
  clock: Clock;
  database: Database;
}

/**
 * The background process (no HTTP). It will follow the event log and run the BullMQ processors
 * for invites and role expiry; for now it holds its connections and stops cleanly.
 */
@Module({})
export class WorkerModule {
  static forRoot({ config, clock, database }: WorkerDependencies): DynamicModule {
    return {
      module: WorkerModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: config.LOG_LEVEL } })],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: Database, useValue: database },
        { provide: EventStore, useFactory: (db: Database) => new EventStore(db), inject: [Database] },
      ],
    };
  }
}
