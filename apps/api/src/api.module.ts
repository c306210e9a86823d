import { createSecretKey } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { ClientStore, InviteTokens } from '@app/auth';
import { AppConfig, Clock } from '@app/config';
import { ContactService, SignInService } from '@app/contact-service';
import { Database } from '@app/database';
import { EventStore } from '@app/event-store';
import { ContactQueries, ContactSearch } from '@app/projections';
import { queueBackendOf } from '@app/queues';
import { RoleCatalogue } from '@app/roles';
import { AuthGuard } from './auth/auth.guard.js';
import { OAuthController } from './auth/oauth.controller.js';
import { RevokedClients } from './auth/revoked-clients.js';
import { TokenService } from './auth/token.service.js';
import { ContactsController } from './contacts/contacts.controller.js';
import { AuditController } from './audit/audit.controller.js';
import { HealthController } from './health/health.controller.js';
import { QueueBackendProbe } from './health/queue-backend.probe.js';
import { InvitesController } from './invites/invites.controller.js';
import { Idempotency } from './http/idempotency.js';
import { ProblemFilter } from './http/problem.filter.js';
import { loggerOptions } from './http/logging.js';
import { ServerSecret } from './http/server-secret.js';
import { ApiMetrics } from './metrics/api.metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { PrivacyController } from './privacy/privacy.controller.js';
import { ObservedQueues } from './queues/observed-queues.js';
import { RolesController } from './roles/roles.controller.js';
import { SignInController } from './signin/signin.controller.js';

export interface ApiDependencies {
  config: AppConfig;
  clock: Clock;
  database: Database;
  tokenSecret: string;
}

/** The HTTP application: every dependency is built once here from the validated config. */
@Module({})
export class ApiModule {
  static forRoot({ config, clock, database, tokenSecret }: ApiDependencies): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        // A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse
        // it as a PEM public key on every verify, which cost ~0.8 ms of event-loop time a request.
        JwtModule.register({ secret: createSecretKey(Buffer.from(tokenSecret)), signOptions: { algorithm: 'HS256' } }),
        LoggerModule.forRoot(loggerOptions(config)),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ],
      controllers: [
        OAuthController,
        ContactsController,
        RolesController,
        AuditController,
        PrivacyController,
        HealthController,
        MetricsController,
        InvitesController,
        SignInController,
      ],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Clock, useValue: clock },
        { provide: Database, useValue: database },
        { provide: ServerSecret, useValue: new ServerSecret(tokenSecret) },
        { provide: InviteTokens, useValue: new InviteTokens(tokenSecret) },
        { provide: ObservedQueues, useFactory: () => new ObservedQueues(queueBackendOf(config)) },
        { provide: QueueBackendProbe, useFactory: (db: Database) => new QueueBackendProbe(queueBackendOf(config), db), inject: [Database] },
        {
          provide: ApiMetrics,
          useFactory: (db: Database, queues: ObservedQueues) => new ApiMetrics(db, queues),
          inject: [Database, ObservedQueues],
        },
        { provide: EventStore, useFactory: (db: Database) => new EventStore(db), inject: [Database] },
        { provide: RoleCatalogue, useFactory: (db: Database) => new RoleCatalogue(db), inject: [Database] },
        { provide: ClientStore, useFactory: (db: Database) => new ClientStore(db), inject: [Database] },
        { provide: ContactQueries, useFactory: (db: Database) => new ContactQueries(db), inject: [Database] },
        { provide: ContactSearch, useFactory: (db: Database) => new ContactSearch(db), inject: [Database] },
        {
          provide: ContactService,
          useFactory: (db: Database, store: EventStore, roles: RoleCatalogue, inviteTokens: InviteTokens, metrics: ApiMetrics) =>
            new ContactService(db, store, roles, clock, {
              bcryptCost: config.BCRYPT_COST,
              inviteTtlMs: config.inviteTtlMs,
              inviteTokens,
              onAppended: (events) => metrics.appended(events),
            }),
          inject: [Database, EventStore, RoleCatalogue, InviteTokens, ApiMetrics],
        },
        RevokedClients,
        {
          provide: SignInService,
          useFactory: (db: Database, contacts: ContactService) =>
            new SignInService(db, contacts, clock, { bcryptCost: config.BCRYPT_COST }),
          inject: [Database, ContactService],
        },
        TokenService,
        Idempotency,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
      ],
    };
  }
}
