import { createHmac } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InviteTokens } from '@app/auth';
import { addressCounter, tooMany, type AddressLimit } from '../http/rate-limit.js';
import { CSRF_FIELD, errorPage, INVITE_PAGE_HEADERS } from './invite.pages.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes a form that must carry the CSRF token its page issued (`reply.generateCsrf`). */
    csrf?: boolean;
  }
}

/** The paths of the invite page: its routes, and anything else a visitor may type under /invites. */
const INVITE_PATH = /^\/invites(?:[/?#]|$)/;
export const isInvitePage = (request: FastifyRequest): boolean => INVITE_PATH.test(request.url);

const FORM = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;

/**
 * What a CSRF token is bound to: the invite (by its token's hash), so a token issued on one
 * invite's page is refused on another's.
 */
export const csrfBinding = (inviteToken: string): string => InviteTokens.hash(inviteToken);

const inviteTokenOf = (request: FastifyRequest): string => {
  const token = (request.params as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' ? token : '';
};

/** The CSRF token comes in the form only: never from a header or a JSON body. */
const csrfTokenOf = (request: FastifyRequest): string | undefined => {
  const body: unknown = request.body;
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[CSRF_FIELD];
  return typeof value === 'string' ? value : undefined;
};

/**
 * Sends the error page of a status with the page's headers, for refusals made outside the route's
 * hooks (Fastify's `frameworkErrors`, which no onSend hook sees).
 */
export function sendErrorPage(reply: FastifyReply, status: number): void {
  void reply.code(status).headers(INVITE_PAGE_HEADERS).send(errorPage(status));
}

export interface InvitePageOptions {
  serverSecret: string;
  /** the public URL is https: the cookie is then Secure */
  secure: boolean;
  /** requests to /invites each client address may send (GET and POST together) */
  perAddress: AddressLimit;
}

/**
 * The HTTP side of the invite page (`InvitesController`), registered before `app.init()`:
 * - CSRF: @fastify/csrf-protection keeps its secret in a signed, HttpOnly, SameSite=Strict cookie
 *   scoped to /invites; the page carries a token bound to the invite, and a route marked
 *   `config.csrf` checks it (preHandler, after the form is parsed) and refuses with 403.
 * - Only forms are posted to /invites (415 otherwise), checked before the body is read.
 * - Every /invites response gets the page's headers, and a refusal that reached the JSON problem
 *   filter (a 403 from the CSRF check, a 429, a body Fastify would not parse, an unknown path) is
 *   sent as an HTML page with the same status instead: a person reads these, not a program.
 */
export async function registerInvitePage(app: NestFastifyApplication, options: InvitePageOptions): Promise<void> {
  // Keys of their own, derived from the server secret: a cookie signature is never also a token.
  const key = (purpose: string): Buffer => createHmac('sha256', options.serverSecret).update(`contacts/invite-page/${purpose}/v1`).digest();
  await app.register(fastifyCookie, { secret: key('cookie-signature') });
  await app.register(fastifyCsrfProtection, {
    cookieKey: 'invite_csrf',
    cookieOpts: { path: '/invites', sameSite: 'strict', httpOnly: true, secure: options.secure, signed: true },
    getToken: csrfTokenOf,
    getUserInfo: (request) => csrfBinding(inviteTokenOf(request)),
    csrfOpts: { hmacKey: key('csrf-token'), userInfo: true },
  });

  const fastify = app.getHttpAdapter().getInstance();
  // Anyone may call these without a token: each address gets a bounded share, before any lookup.
  const perAddress = addressCounter(fastify, 'invites', options.perAddress);
  fastify.addHook('onRequest', async (request) => {
    if (!isInvitePage(request)) return;
    const seconds = await perAddress.count(request);
    if (seconds !== null) throw tooMany('rate_limited', `this address may open ${options.perAddress.max} invite pages a minute`, seconds);
  });
  fastify.addHook('onRoute', (route) => {
    if (route.config?.csrf !== true) return;
    const existing = route.preHandler;
    route.preHandler = [...(Array.isArray(existing) ? existing : existing ? [existing] : []), fastify.csrfProtection.bind(fastify)];
  });

  fastify.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !isInvitePage(request)) return;
    if (!FORM.test(request.headers['content-type'] ?? '')) {
      sendErrorPage(reply, 415);
      return reply;
    }
  });

  fastify.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!isInvitePage(request)) return payload;
    const type = String(reply.getHeader('content-type') ?? '');
    void reply.headers(INVITE_PAGE_HEADERS);
    if (!type.startsWith('application/problem+json')) return payload;
    return errorPage(reply.statusCode, Number(reply.getHeader('retry-after')) || undefined);
  });
}
