import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import type { JobsOptions, Queue } from 'bullmq';
import { LoggerModule } from 'nestjs-pino';
import { InviteTokens } from '@app/auth';
import { AppConfig, Clock, logTransport } from '@app/config';
import { ContactService } from '@app/contact-service';
import { Database, withoutCredentials } from '@app/database';
import { DISPATCHER_CONSUMER, EventStore } from '@app/event-store';
import { DueWorkQueries } from '@app/projections';
import { QUEUE_NAMES, queueBackendOf, queueOptionsOf, QueueOnStore, WorkerOnStore } from '@app/queues';
import { RoleCatalogue } from '@app/roles';
import { jobsFor } from './dispatcher/dispatch.routes.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { InvitesWorker } from './invites/invites.worker.js';
import { SendInviteProcessor } from './invites/send-invite.processor.js';
import { UnsentInviteSweep } from './invites/unsent-invite-sweep.js';
import { withSettings } from './jobs.js';
import { IdempotencyKeysCleanup } from './maintenance/forget-idempotency-keys.processor.js';
import { MaintenanceWorker } from './maintenance/maintenance.worker.js';
import { ExpireRoleProcessor } from './roles/expire-role.processor.js';
import { ExpirySweep } from './roles/expiry-sweep.js';
import { RolesWorker } from './roles/roles.worker.js';
import { DEFAULT_SCHEDULE_CHECK_MS, ScheduleCheck } from './repeating-job.js';

export interface WorkerDependencies {
  config: AppConfig;
  clock: Clock;
  database: Database;
  serverSecret: string;
  /** how often the repeating jobs' schedules are checked (tests shorten it) */
  scheduleCheckMs?: number;
  /** the jobs' retries and retention, instead of DEFAULT_JOB_OPTIONS (tests shorten the retries) */
  jobOptions?: JobsOptions;
}

/** Says once started where the queues and the mail go. */
@Injectable()
class WorkerStartupReport implements OnApplicationBootstrap {
  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(SendInviteProcessor) private readonly sendInvite: SendInviteProcessor,
  ) {}

  onApplicationBootstrap(): void {
    const backend = queueBackendOf(this.config);
    const queues =
      backend.kind === 'redis' ? `Redis ${withoutCredentials(backend.url)}` : "BullMQ's PostgreSQL backend in the service database";
    const mail =
      this.sendInvite.mailer.kind === 'smtp'
        ? `SMTP ${withoutCredentials(this.config.SMTP_URL ?? '')}`
        : `the outbox folder ${this.config.mailOutboxDir} (no SMTP_URL)`;
    new Logger('Worker').log(`worker: queues on ${queues} (prefix ${backend.prefix}); mail to ${mail}`);
  }
}

/**
 * The background process (no HTTP): the event-log dispatcher and the BullMQ processors.
 *
 * The queues and the job workers are @nestjs/bullmq's: queues registered on BullModule and
 * injected with @InjectQueue, one @Processor class per queue. BullMQ takes its backend (Redis or
 * PostgreSQL) as a constructor argument that @nestjs/bullmq never passes; its one hook is the
 * class it constructs (BullModule.queueClass and .workerClass), so those are set to classes that
 * pick the backend from the connection they are given (libs/queues).
 */
@Module({})
export class WorkerModule {
  static forRoot({ config, clock, database, serverSecret, scheduleCheckMs, jobOptions }: WorkerDependencies): DynamicModule {
    BullModule.queueClass = QueueOnStore;
    BullModule.workerClass = WorkerOnStore;
    const lockDurationMs = config.jobLockDurationMs;
    return {
      module: WorkerModule,
      imports: [
        LoggerModule.forRoot({ pinoHttp: { level: config.LOG_LEVEL, transport: logTransport() } }),
        BullModule.forRootAsync({
          extraProviders: [{ provide: AppConfig, useValue: config }],
          inject: [AppConfig],
          useFactory: (appConfig: AppConfig) => queueOptionsOf(queueBackendOf(appConfig), jobOptions),
        }),
        BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name }))),
      ],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: ScheduleCheck, useValue: new ScheduleCheck(scheduleCheckMs ?? DEFAULT_SCHEDULE_CHECK_MS) },
        { provide: Database, useValue: database },
        { provide: InviteTokens, useValue: new InviteTokens(serverSecret) },
        { provide: EventStore, useFactory: (db: Database) => new EventStore(db), inject: [Database] },
        { provide: DueWorkQueries, useFactory: (db: Database) => new DueWorkQueries(db), inject: [Database] },
        {
          provide: ContactService,
          useFactory: (db: Database, store: EventStore, inviteTokens: InviteTokens) =>
            new ContactService(db, store, new RoleCatalogue(db), clock, {
              bcryptCost: config.BCRYPT_COST,
              inviteTtlMs: config.inviteTtlMs,
              inviteTokens,
            }),
          inject: [Database, EventStore, InviteTokens],
        },
        SendInviteProcessor,
        UnsentInviteSweep,
        ExpireRoleProcessor,
        ExpirySweep,
        IdempotencyKeysCleanup,
        { provide: InvitesWorker, useClass: withSettings(InvitesWorker, 'invites', { concurrency: 8, lockDurationMs }) },
        // An expire-role job is taken EXPIRY_LEAD_MS early and waits (a timer, no connection) for
        // its instant: enough slots for a burst of grants expiring together to be claimed ahead
        // and revoked at once (npm run bench -- expiry measures it).
        { provide: RolesWorker, useClass: withSettings(RolesWorker, 'roles', { concurrency: 128, lockDurationMs }) },
        { provide: MaintenanceWorker, useClass: withSettings(MaintenanceWorker, 'maintenance', { concurrency: 1, lockDurationMs }) },
        {
          provide: Dispatcher,
          useFactory: (db: Database, store: EventStore, invites: Queue, roles: Queue, maintenance: Queue) =>
            new Dispatcher(
              db,
              store,
              new Map([
                ['invites', invites],
                ['roles', roles],
                ['maintenance', maintenance],
              ]),
              jobsFor,
              clock,
              {
                consumer: DISPATCHER_CONSUMER,
                databaseUrl: config.DATABASE_URL,
                pollMs: 250,
                batchSize: 500,
                log: {
                  info: (message: string) => new Logger('Worker').log(message),
                  error: (message: string, error: unknown) => new Logger('Worker').error(`${message}: ${String(error)}`),
                },
              },
            ),
          inject: [Database, EventStore, getQueueToken('invites'), getQueueToken('roles'), getQueueToken('maintenance')],
        },
        WorkerStartupReport,
      ],
    };
  }
}
