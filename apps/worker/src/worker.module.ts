import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Job, Queue, Worker } from 'bullmq';
import { LoggerModule } from 'nestjs-pino';
import { InviteTokens } from '@app/auth';
import { AppConfig, Clock } from '@app/config';
import { ContactService } from '@app/contact-service';
import { Database } from '@app/database';
import { EventStore } from '@app/event-store';
import { createMailer, type Mailer } from '@app/mail';
import { openQueue, QUEUE_NAMES, queueBackendOf, type QueueName, type SendInviteJob } from '@app/queues';
import { RoleCatalogue } from '@app/roles';
import { jobsFor } from './dispatcher/dispatch.routes.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { SendInviteProcessor } from './invites/send-invite.processor.js';
import { startJobWorkers } from './jobs.js';

export interface WorkerDependencies {
  config: AppConfig;
  clock: Clock;
  database: Database;
  serverSecret: string;
}

/**
 * Starts and stops the worker's parts in order: queues, the job workers, then the dispatcher that
 * feeds them; on shutdown the dispatcher stops first and the job workers finish their active jobs.
 */
@Injectable()
export class WorkerRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Worker');
  private queues = new Map<QueueName, Queue>();
  private workers: Worker[] = [];
  private dispatcher: Dispatcher | null = null;
  private mailer: Mailer | null = null;

  constructor(
    @Inject(AppConfig) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly db: Database,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(ContactService) private readonly contacts: ContactService,
    @Inject(InviteTokens) private readonly tokens: InviteTokens,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const config = this.config;
    const backend = queueBackendOf(config);
    this.mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: config.mailOutboxDir, from: config.MAIL_FROM });
    const sendInvite = new SendInviteProcessor(this.db, this.contacts, this.tokens, this.mailer, this.clock, {
      publicUrl: config.publicUrl,
      log: { info: (fields, message) => this.logger.log({ ...fields, msg: message }) },
    });
    this.workers = startJobWorkers(
      backend,
      { invites: { 'send-invite': (job) => sendInvite.process(job as Job<SendInviteJob>) } },
      { invites: { concurrency: 8, lockDurationMs: config.jobLockDurationMs } },
    );
    for (const worker of this.workers) {
      worker.on('failed', (job, error) => this.logger.warn(`job ${worker.name}/${job?.name ?? '?'} ${job?.id ?? ''} failed: ${error.message}`));
      worker.on('error', (error) => this.logger.error(`queue ${worker.name}: ${error.message}`));
    }
    for (const name of QUEUE_NAMES) this.queues.set(name, openQueue(backend, name));
    // A queue store that cannot be reached (or a schema BullMQ refuses) stops startup here.
    await Promise.all([...this.workers.map((w) => w.waitUntilReady()), ...[...this.queues.values()].map((q) => q.waitUntilReady())]);
    this.dispatcher = new Dispatcher(this.db, this.store, this.queues, jobsFor, {
      consumer: 'dispatcher',
      databaseUrl: config.DATABASE_URL,
      pollMs: 250,
      batchSize: 500,
      log: { info: (message) => this.logger.log(message), error: (message, error) => this.logger.error(`${message}: ${String(error)}`) },
    });
    this.dispatcher.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher?.stop();
    // close() lets active jobs finish before it resolves.
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.mailer?.close();
  }
}

/** The background process (no HTTP): the event-log dispatcher and the BullMQ processors. */
@Module({})
export class WorkerModule {
  static forRoot({ config, clock, database, serverSecret }: WorkerDependencies): DynamicModule {
    return {
      module: WorkerModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: config.LOG_LEVEL } })],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: Database, useValue: database },
        { provide: InviteTokens, useValue: new InviteTokens(serverSecret) },
        { provide: EventStore, useFactory: (db: Database) => new EventStore(db), inject: [Database] },
        {
          provide: ContactService,
          useFactory: (db: Database, store: EventStore, inviteTokens: InviteTokens) =>
            new ContactService(db, store, new RoleCatalogue(db), clock, { bcryptCost: config.BCRYPT_COST, inviteTtlMs: config.inviteTtlMs, inviteTokens }),
          inject: [Database, EventStore, InviteTokens],
        },
        WorkerRuntime,
      ],
    };
  }
}
