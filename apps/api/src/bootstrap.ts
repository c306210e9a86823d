import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as PinoLogger } from 'nestjs-pino';
import { Logger } from '@nestjs/common';
import { tokenSecret } from '@app/auth';
import { SystemClock, type AppConfig, type Clock } from '@app/config';
import { Database, RUNTIME_ROLE } from '@app/database';
import { continueLogAfterRestore } from '@app/event-store';
import { registerQueueDashboard } from './admin/queue-dashboard.js';
import { registerConsole } from './console/console.plugin.js';
import { ApiModule } from './api.module.js';
import { TokenService } from './auth/token.service.js';
import { isConsolePage, setupOpenApi } from './docs/openapi.js';
import { ApiMetrics } from './metrics/api.metrics.js';
import { ObservedQueues } from './queues/observed-queues.js';
import { isInvitePage, registerInvitePage, sendErrorPage } from './invites/invite-page.plugin.js';
import { requestIdOf } from './http/logging.js';
import { ServerSecret } from './http/server-secret.js';
import { sendProblem, toProblem } from './http/problem.filter.js';
import { consoleSecurityHeaders, securityHeaders } from './http/security-headers.js';
import { rateLimitOptions } from './http/rate-limit.js';

export const BODY_LIMIT = 1024 * 1024;

/** The version of the HTTP contract the OpenAPI document describes (DESIGN §6). */
const OPENAPI_VERSION = '1';

export interface ApiOptions {
  clock?: Clock;
  /** false in tests that want quiet output */
  logs?: boolean;
}

/** Builds the HTTP application, ready to `listen` (or to `inject` in tests). */
export async function createApi(config: AppConfig, options: ApiOptions = {}): Promise<NestFastifyApplication> {
  const logger = new Logger('Http');
  // A request waits a few seconds for a lock (a busy contact, a read table being swapped in), then
  // is answered 503 with Retry-After instead of holding its client and a connection indefinitely.
  const database = new Database({
    url: config.DATABASE_URL,
    applicationName: 'contacts-api',
    lockTimeoutMs: 5_000,
    statementTimeoutMs: 15_000,
    role: RUNTIME_ROLE,
  });
  // `npm run start:api` does not migrate: a database restored into a new server is taken onto the
  // log's clock here too, before this process appends anything. Postgres may be down at start:
  // the API still starts, and /health tells.
  await continueLogAfterRestore(database).catch((error: unknown) => logger.warn(`event log clock: ${(error as Error).message}`));
  const secret = await tokenSecret(database, config.TOKEN_SECRET);
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    // Behind a proxy named in TRUST_PROXY, request.ip is the client its X-Forwarded-For names.
    ...(config.TRUST_PROXY ? { trustProxy: config.TRUST_PROXY } : {}),
    genReqId: (request: IncomingMessage) => {
      const id = requestIdOf(request);
      // pino-http reads it from here, so the request log and the events share one id.
      (request as typeof request & { id?: string }).id = id;
      return id;
    },
    // secure-json-parse: a body with __proto__ or constructor.prototype is refused, never merged.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // URLs Fastify cannot route (undecodable, a parameter over its length) get a problem too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
      isInvitePage(request) ? sendErrorPage(reply, toProblem(error).problem.status) : sendProblem(reply, error, logger),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot({ config, clock: options.clock ?? new SystemClock(), database, tokenSecret: secret }),
    adapter,
    { bufferLogs: true, logger: options.logs === false ? false : undefined },
  );
  if (options.logs !== false) app.useLogger(app.get(PinoLogger));
  app.enableShutdownHooks();

  // Plugins before init: their onRoute hooks must see the routes Nest registers there. The rate
  // limit plugin is always there: RATE_LIMIT_PER_MINUTE=0 turns off the per-client limit only, not
  // the per-invite one of the invite form.
  await app.register(rateLimit, rateLimitOptions(config.RATE_LIMIT_PER_MINUTE, app.get(TokenService)));
  await registerInvitePage(app, {
    serverSecret: app.get(ServerSecret).value,
    secure: config.publicUrl.startsWith('https:'),
    perAddress: { max: config.INVITE_RATE_LIMIT_PER_MINUTE, windowMs: 60_000 },
  });

  const fastify = app.getHttpAdapter().getInstance();
  const security = securityHeaders();
  const consoleSecurity = consoleSecurityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(isConsolePage(request.url) ? consoleSecurity : security).header('x-request-id', request.id);
    done();
  });
  // Graceful shutdown (SIGTERM: enableShutdownHooks): Fastify stops listening and closes idle
  // keep-alive connections, then waits for the others. A request still running then would leave
  // its connection open for keep-alive's 72 s once answered; its response says Connection: close
  // instead, so the server is drained when the last request is.
  let draining = false;
  fastify.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (draining && !reply.raw.headersSent) void reply.header('connection', 'close');
    done(null, payload);
  });
  // Latency by route pattern (`/api/contacts/:id.json`), never by URL: ids would make a series each.
  const metrics = app.get(ApiMetrics);
  fastify.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // The API speaks JSON only; /oauth/token also takes a form (RFC 6749). A POST with no body at
  // all (`…/invite.json`, `…/approve.json` need none) has no type to judge.
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !request.url.startsWith('/api/')) return;
    const type = request.headers['content-type'] ?? '';
    const bodyless =
      type === '' && request.headers['transfer-encoding'] === undefined && (request.headers['content-length'] ?? '0') === '0';
    if (!bodyless && !/^application\/json\s*(;|$)/i.test(type)) {
      sendProblem(reply, { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, logger);
      return reply;
    }
  });
  // A DELETE takes no body. Some clients name a JSON type on one sent without any: there is
  // nothing to parse, and Fastify would refuse it as an empty JSON document.
  fastify.addHook('onRequest', (request, _reply, done) => {
    const { headers } = request.raw;
    if (request.method === 'DELETE' && headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0') {
      delete headers['content-type'];
    }
    done();
  });
  setupOpenApi(app, OPENAPI_VERSION);
  if (config.ADMIN_PASSWORD !== undefined) {
    await registerQueueDashboard(app, app.get(ObservedQueues), { user: config.ADMIN_USER, password: config.ADMIN_PASSWORD });
  }
  await registerConsole(app, { serverSecret: app.get(ServerSecret).value, secure: config.publicUrl.startsWith('https:') });
  await app.init();
  return app;
}
