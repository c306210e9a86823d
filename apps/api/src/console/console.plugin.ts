import { createHmac } from 'node:crypto';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyView from '@fastify/view';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ClientStore, clientStanding } from '@app/auth';
import { Clock } from '@app/config';
import { Database } from '@app/database';
import { EventStore } from '@app/event-store';
import { ContactQueries, ContactSearch } from '@app/projections';
import { registerConsoleRoutes, type ConsolePages, type ConsoleServices } from './console.routes.js';
import { ConsoleSessions, SESSION_TTL_SECONDS, type ConsoleSession } from './console.session.js';
import { CONSOLE_TEMPLATES } from './views/console.templates.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a console route open without a session: `public` pages, or the stylesheet (`asset`) */
    consoleAccess?: 'public' | 'asset';
  }
  interface FastifyRequest {
    /** the console session the request carries, checked against the client's standing */
    consoleSession: ConsoleSession | null;
  }
}

export const SESSION_COOKIE = 'console_session';
export const CSRF_COOKIE = 'console_csrf';
/** The form field the CSRF token travels in. */
export const CSRF_FIELD = '_csrf';
/** What a CSRF token of the sign-in form is bound to; a signed-in page's token is bound to the client. */
const SIGNED_OUT = 'signed-out';

/**
 * Headers of every console response: it loads nothing but its own stylesheet, runs no script,
 * is never framed, kept or indexed.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
};

export interface ConsoleOptions {
  serverSecret: string;
  /** the public URL is https: the cookies are then Secure */
  secure: boolean;
}

/** The CSRF token comes in the form only: never from a header or a query. */
const csrfTokenOf = (request: FastifyRequest): string | undefined => {
  const body: unknown = request.body;
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[CSRF_FIELD];
  return typeof value === 'string' ? value : undefined;
};

/**
 * The auditors' console (DESIGN §12) under /console, registered after the app's global hooks (so
 * it inherits them) and before `app.init()`. It is a Fastify plugin of its own: its CSRF
 * protection (a signed, HttpOnly, SameSite=Strict secret cookie scoped to /console, tokens bound
 * to the signed-in client), its templates (@fastify/view with Eta), its headers and its HTML error
 * pages stay inside it and apart from the invite page's.
 */
export async function registerConsole(app: NestFastifyApplication, options: ConsoleOptions): Promise<void> {
  const services: ConsoleServices = {
    clients: app.get(ClientStore),
    db: app.get(Database),
    store: app.get(EventStore),
    queries: app.get(ContactQueries),
    search: app.get(ContactSearch),
    clock: app.get(Clock),
    sessions: new ConsoleSessions(options.serverSecret),
  };
  await app.register(async (instance: FastifyInstance) => consolePlugin(instance, services, options), { prefix: '/console' });
}

async function consolePlugin(instance: FastifyInstance, services: ConsoleServices, options: ConsoleOptions): Promise<void> {
  const key = (purpose: string): Buffer => createHmac('sha256', options.serverSecret).update(`contacts/console/${purpose}/v1`).digest();
  const eta = new Eta({ autoEscape: true, cache: true });
  for (const [name, source] of Object.entries(CONSOLE_TEMPLATES)) eta.loadTemplate(name, source);
  await instance.register(fastifyView, { engine: { eta }, production: true });
  await instance.register(fastifyCsrfProtection, {
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/console', sameSite: 'strict', httpOnly: true, secure: options.secure, signed: true },
    getToken: csrfTokenOf,
    getUserInfo: (request) => request.consoleSession?.clientId ?? SIGNED_OUT,
    csrfOpts: { hmacKey: key('csrf-token'), userInfo: true },
  });

  const { clock, db, sessions } = services;
  const cookieOptions = { path: '/console', sameSite: 'strict', httpOnly: true, secure: options.secure } as const;
  const pages: ConsolePages = {
    signIn(reply, session) {
      void reply.setCookie(SESSION_COOKIE, sessions.issue(session, clock.now()), { ...cookieOptions, maxAge: SESSION_TTL_SECONDS });
    },
    signOut(reply) {
      void reply.clearCookie(SESSION_COOKIE, cookieOptions);
    },
    render(request, reply, page, data) {
      const session = request.consoleSession;
      const csrf = reply.generateCsrf({ userInfo: session?.clientId ?? SIGNED_OUT });
      return reply.type('text/html; charset=utf-8').view(page, { ...data, session, csrf });
    },
  };

  // Nest adds its form parser at init, after this context is made: the console reads its own forms.
  instance.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  instance.decorateRequest('consoleSession', null);
  instance.addHook('onRequest', async (request, reply) => {
    void reply.headers(CONSOLE_HEADERS);
    const access = request.routeOptions.config?.consoleAccess;
    if (access === 'asset') return;
    const claimed = sessions.read(request.cookies[SESSION_COOKIE], clock.now());
    const client = claimed && (await clientStanding(db, claimed.clientId));
    request.consoleSession = client?.scopes.includes('audit') ? { clientId: client.clientId } : null;
    if (claimed && !request.consoleSession) pages.signOut(reply);
    if (!request.consoleSession && access !== 'public') {
      void reply.redirect('/console/sign-in', 303);
      return reply;
    }
  });

  instance.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'console request failed');
    const [title, text] = describe(status);
    return pages.render(request, reply.code(status), '@error', { title, text });
  });
  instance.setNotFoundHandler(async (request, reply) => {
    const [title, text] = describe(404);
    return pages.render(request, reply.code(404), '@error', { title, text });
  });

  registerConsoleRoutes(instance, services, pages);
}

function describe(status: number): [string, string] {
  switch (status) {
    case 403:
      return [
        'This form has expired',
        'Your browser did not send the form as the console issued it, or it has expired. Go back, reload the page and send it again; your browser must accept cookies from this site.',
      ];
    case 404:
      return ['Page not found', 'There is no console page at this address.'];
    case 413:
      return ['The form is too large', 'The form you sent is larger than the console accepts.'];
    case 415:
      return ['The form could not be read', 'Send the form from the console page.'];
    case 429:
      return ['Too many requests', 'Wait a minute and try again.'];
    default:
      return status >= 500
        ? ['Something went wrong', 'The console could not answer. It has been logged; please try again in a few minutes.']
        : ['The request could not be read', 'Go back to the console and try again from its pages.'];
  }
}
