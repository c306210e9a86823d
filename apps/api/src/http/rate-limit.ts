import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { TokenService } from '../auth/token.service.js';
import { problem, ProblemException } from './problem.js';

/** The routes a client pays for: the API and the token endpoint. /health and the like are free. */
const isLimited = (request: FastifyRequest): boolean => {
  const route = request.routeOptions.url ?? '';
  return route.startsWith('/api/') || route === '/oauth/token';
};

/**
 * @fastify/rate-limit per client: a valid bearer token counts against its client, wherever the
 * client calls from; a request without one (the token endpoint, a bad token) against its IP.
 * The counters live in this process, so each API replica allows `perMinute` on its own.
 */
export function rateLimitOptions(perMinute: number, tokens: TokenService): RateLimitPluginOptions {
  return {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    keyGenerator: (request) => {
      const token = tokens.fromRequest(request);
      return token ? `client:${token.clientId}` : `ip:${request.ip}`;
    },
    allowList: (request) => !isLimited(request),
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new ProblemException(problem(429, 'rate_limited', `this client may send ${context.max} requests a minute; retry in ${seconds} s`), {
        'retry-after': String(seconds),
      });
    },
  };
}
