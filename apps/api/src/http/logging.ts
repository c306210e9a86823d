import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { logTransport, type AppConfig } from '@app/config';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the caller's X-Request-Id when it is sane, a new UUID otherwise. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Structured request logs. Bodies are never logged, and credentials are redacted wherever they
 * could appear: a log line must never carry a password, a hash, a token or a client secret.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    // nestjs-pino's default route pattern matches nothing under Nest 12 on Fastify: name every route.
    forRoutes: ['{*splat}'],
    pinoHttp: {
      level: config.LOG_LEVEL,
      transport: logTransport(),
      // Fastify set the id already (genReqId); reuse it so logs, events and responses agree.
      genReqId: (request) => (request as IncomingMessage & { id?: string }).id ?? requestIdOf(request),
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      serializers: {
        // The invite token is the path after /invites/, however a visitor mangled it (//, case).
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url.replace(/\/invites\/[^?#]*/i, '/invites/[token]'),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    },
  };
}
