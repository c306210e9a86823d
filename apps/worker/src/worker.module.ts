import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Job, Queue, Worker } from 'bullmq';
import { LoggerModule } from 'nestjs-pino';
import { InviteTokens } from '@app/auth';
import { AppConfig, Clock, logTransport } from '@app/config';
import { ContactService } from '@app/contact-service';
import { Database } from '@app/database';
import { EventStore } from '@app/event-store';
import { createMailer, type Mailer } from '@app/mail';
import { openQueue, QUEUE_NAMES, queueBackendOf, type ExpireRoleJob, type QueueName, type SendInviteJob } from '@app/queues';
import { RoleCatalogue } from '@app/roles';
import { jobsFor } from './dispatcher/dispatch.routes.js';
import { Dispatcher } from './dispatcher/dispatcher.js';
import { SendInviteProcessor } from './invites/send-invite.processor.js';
import { UnsentInviteSweep } from './invites/unsent-invite-sweep.js';
import { forgetIdempotencyKeys } from './maintenance/forget-idempotency-keys.processor.js';
import { ExpireRoleProcessor, ExpirySweep } from './roles/expire-role.processor.js';
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
    const unsentInvites = new UnsentInviteSweep(this.db, () => this.queues.get('invites'), this.clock);
    const expireRole = new ExpireRoleProcessor(this.contacts, this.clock);
    const sweep = new ExpirySweep(this.db, this.contacts, this.clock);
    const lockDurationMs = config.jobLockDurationMs;
    this.workers = startJobWorkers(
      backend,
      {
        invites: {
          'send-invite': (job) => sendInvite.process(job as Job<SendInviteJob>),
          'sweep-unsent-invites': () => unsentInvites.run(),
        },
        roles: {
          'expire-role': (job, token) => expireRole.process(job as Job<ExpireRoleJob>, token),
          'sweep-expired': (job) =>
            sweep.run({ clientId: null, requestId: `job-${job.id ?? job.name}`, correlationId: null, causationId: null }),
        },
        maintenance: { 'forget-idempotency-keys': () => forgetIdempotencyKeys(this.db, this.clock) },
      },
      {
        invites: { concurrency: 8, lockDurationMs },
        // An expire-role job is taken EXPIRY_LEAD_MS early and waits (a timer, no connection) for
        // its instant: enough slots for a burst of grants expiring together to be claimed ahead
        // and revoked at once. With 16 slots, a burst of 100 was claimed as slots freed, after the
        // instant: p99 lateness 205 ms on Redis and 366 ms on the PostgreSQL backend, against
        // 20 and 22 ms with 128 (npm run bench -- expiry).
        roles: { concurrency: 128, lockDurationMs },
        maintenance: { concurrency: 1, lockDurationMs },
      },
    );
    for (const worker of this.workers) {
      worker.on('failed', (job, error) =>
        this.logger.warn(`job ${worker.name}/${job?.name ?? '?'} ${job?.id ?? ''} failed: ${error.message}`),
      );
      worker.on('error', (error) => this.logger.error(`queue ${worker.name}: ${error.message}`));
    }
    for (const name of QUEUE_NAMES) this.queues.set(name, openQueue(backend, name));
    // A queue store that cannot be reached (or a schema BullMQ refuses) stops startup here.
    await Promise.all([...this.workers.map((w) => w.waitUntilReady()), ...[...this.queues.values()].map((q) => q.waitUntilReady())]);
    // The sweeps run every minute, and once now: whatever expired while no worker ran (or Redis
    // lost) is revoked, and invites whose mail job the queue store lost are queued again.
    const roles = this.queues.get('roles');
    await roles?.upsertJobScheduler('sweep-expired', { every: 60_000 }, { name: 'sweep-expired' });
    await roles?.add('sweep-expired', {}, { jobId: `sweep-expired-start-${Date.now()}` });
    const invites = this.queues.get('invites');
    await invites?.upsertJobScheduler('sweep-unsent-invites', { every: 60_000 }, { name: 'sweep-unsent-invites' });
    await invites?.add('sweep-unsent-invites', {}, { jobId: `sweep-unsent-invites-start-${Date.now()}` });
    await this.queues
      .get('maintenance')
      ?.upsertJobScheduler('forget-idempotency-keys', { every: 3_600_000 }, { name: 'forget-idempotency-keys' });
    this.dispatcher = new Dispatcher(this.db, this.store, this.queues, jobsFor, this.clock, {
      consumer: 'dispatcher',
      databaseUrl: config.DATABASE_URL,
      pollMs: 250,
      batchSize: 500,
      log: {
        info: (message: string) => this.logger.log(message),
        error: (message: string, error: unknown) => this.logger.error(`${message}: ${String(error)}`),
      },
    });
    this.dispatcher.start();
    const queues =
      backend.kind === 'redis' ? `Redis ${withoutCredentials(backend.url)}` : "BullMQ's PostgreSQL backend in the service database";
    const mail =
      this.mailer.kind === 'smtp'
        ? `SMTP ${withoutCredentials(config.SMTP_URL ?? '')}`
        : `the outbox folder ${config.mailOutboxDir} (no SMTP_URL)`;
    this.logger.log(`worker: queues on ${queues} (prefix ${backend.prefix}); mail to ${mail}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher?.stop();
    // close() lets active jobs finish before it resolves.
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.mailer?.close();
  }
}

/** A URL as it may be logged: no user or password. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The background process (no HTTP): the event-log dispatcher and the BullMQ processors. */
@Module({})
export class WorkerModule {
  static forRoot({ config, clock, database, serverSecret }: WorkerDependencies): DynamicModule {
    return {
      module: WorkerModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { level: config.LOG_LEVEL, transport: logTransport() } })],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: Database, useValue: database },
        { provide: InviteTokens, useValue: new InviteTokens(serverSecret) },
        { provide: EventStore, useFactory: (db: Database) => new EventStore(db), inject: [Database] },
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
        WorkerRuntime,
      ],
    };
  }
}
