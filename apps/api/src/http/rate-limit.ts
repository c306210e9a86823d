import type { RateLimitOptions, RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InviteTokens } from '@app/auth';
import type { TokenService } from '../auth/token.service.js';
import { problem, ProblemException } from './problem.js';

/**
 * The routes a client pays for: the API (its docs too), the token endpoint and the queue dashboard
 * (so its password cannot be guessed at speed). /health and /metrics are free.
 */
const isLimited = (request: FastifyRequest): boolean => {
  const route = request.routeOptions.url ?? '';
  return route.startsWith('/api/') || route === '/oauth/token' || route.startsWith('/admin/');
};

const retryAfter = (ttlMs: number): number => Math.max(1, Math.ceil(ttlMs / 1000));

/**
 * @fastify/rate-limit per client: a valid bearer token counts against its client, wherever the
 * client calls from; a request without one (the token endpoint, a bad token) against its IP.
 * The counters live in this process, so each API replica allows `perMinute` on its own.
 * `perMinute` 0 turns this limit off; the plugin stays registered for the limits routes set
 * themselves (`inviteAttempts`).
 */
export function rateLimitOptions(perMinute: number, tokens: TokenService): RateLimitPluginOptions {
  return {
    global: perMinute > 0,
    max: perMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    keyGenerator: (request) => {
      const token = tokens.fromRequest(request);
      return token ? `client:${token.clientId}` : `ip:${request.ip}`;
    },
    allowList: (request) => !isLimited(request),
    errorResponseBuilder: (_request, context) => {
      const seconds = retryAfter(context.ttl);
      return new ProblemException(
        problem(429, 'rate_limited', `this client may send ${context.max} requests a minute; retry in ${seconds} s`),
        {
          'retry-after': String(seconds),
        },
      );
    },
  };
}

const INVITE_ATTEMPTS = { max: 10, windowMinutes: 15 };

/** The invite token of an /invites/:token request, as only its hash may be kept (a counter key). */
const inviteKey = (request: FastifyRequest): string => {
  const token = (request.params as { token?: unknown } | undefined)?.token;
  return `invite:${InviteTokens.hash(typeof token === 'string' ? token : '')}`;
};

/**
 * Route config (`@RouteConfig({ rateLimit: inviteAttempts })`) for the invite form: attempts
 * counted per invite, whoever sends them, so a link cannot be hammered. It holds whatever
 * RATE_LIMIT_PER_MINUTE is, 0 included: it guards the invite, not a client's quota.
 */
export const inviteAttempts: RateLimitOptions = {
  max: INVITE_ATTEMPTS.max,
  timeWindow: INVITE_ATTEMPTS.windowMinutes * 60_000,
  keyGenerator: inviteKey,
  // The global allowList exempts every route outside /api; this route is limited by its own rule.
  allowList: () => false,
  errorResponseBuilder: (_request, context) => {
    const seconds = retryAfter(context.ttl);
    return new ProblemException(
      problem(
        429,
        'too_many_attempts',
        `this invite may be tried ${context.max} times in ${INVITE_ATTEMPTS.windowMinutes} minutes; retry in ${seconds} s`,
      ),
      { 'retry-after': String(seconds) },
    );
  },
};

/** A count per client address (its IP, or what a trusted proxy names) within a window. */
export interface AddressLimit {
  /** how many in each window */
  max: number;
  windowMs: number;
}

export interface AddressCounter {
  /** Counts this request; the seconds until the window ends once it is over the limit, else null. */
  count(request: FastifyRequest): Promise<number | null>;
  /** The seconds until the window ends when the address has used up its limit already, else null (counts nothing). */
  spent(request: FastifyRequest): Promise<number | null>;
}

/**
 * A counter per client address on the rate limit plugin's store, held whatever
 * RATE_LIMIT_PER_MINUTE is (that one is a client's quota; these guard what anyone may call
 * without a token). `name` keeps each counter's keys apart.
 */
export function addressCounter(fastify: FastifyInstance, name: string, limit: AddressLimit): AddressCounter {
  const limiter = fastify.createRateLimit({
    max: limit.max,
    timeWindow: limit.windowMs,
    keyGenerator: (request) => `${name}:${request.ip}`,
    // The plugin's allowList exempts every route outside /api; these counters hold everywhere.
    allowList: () => false,
  });
  return {
    async count(request) {
      const result = await limiter(request);
      return !result.isAllowed && result.isExceeded ? retryAfter(result.ttl) : null;
    },
    async spent(request) {
      const result = await limiter(request, { increment: false });
      return !result.isAllowed && result.remaining === 0 ? retryAfter(result.ttl) : null;
    },
  };
}

/** A 429 problem with Retry-After. */
export function tooMany(code: string, detail: string, seconds: number): ProblemException {
  return new ProblemException(problem(429, code, `${detail}; retry in ${seconds} s`), { 'retry-after': String(seconds) });
}
