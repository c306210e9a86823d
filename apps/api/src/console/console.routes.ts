import type { RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientStore } from '@app/auth';
import type { Clock } from '@app/config';
import { atMoment, CONTACT_EVENT_TYPES, formatAtom, parseAtom, redactSecrets, type ContactView } from '@app/contacts';
import type { Database } from '@app/database';
import { verifyStream, type EventStore } from '@app/event-store';
import type { ContactQueries, ContactSearch } from '@app/projections';
import { readFeedPage, type FeedFilter } from './console.feed.js';
import { displayName, stateRows, timelineEntry, viewsAfterEachEvent } from './console.history.js';
import type { ConsoleSession, ConsoleSessions } from './console.session.js';
import { CONSOLE_STYLESHEET } from './views/console.stylesheet.js';

export interface ConsoleServices {
  clients: ClientStore;
  db: Database;
  store: EventStore;
  queries: ContactQueries;
  search: ContactSearch;
  clock: Clock;
  sessions: ConsoleSessions;
}

/** How a route answers with a page, and starts or ends a session. */
export interface ConsolePages {
  signIn(reply: FastifyReply, session: ConsoleSession): void;
  signOut(reply: FastifyReply): void;
  render(request: FastifyRequest, reply: FastifyReply, page: string, data: Record<string, unknown>): FastifyReply;
}

/**
 * Sign-in attempts per client address, whatever the app's per-client limit is: nothing anonymous
 * is unbounded (DESIGN §13). A refusal is the console's own 429 page.
 */
const SIGN_IN_ATTEMPTS: RateLimitOptions = {
  max: 30,
  timeWindow: 60_000,
  keyGenerator: (request) => `console-sign-in:${request.ip}`,
  allowList: () => false,
  errorResponseBuilder: (_request, context) =>
    Object.assign(new Error(`at most ${context.max} sign-in attempts a minute`), { statusCode: 429 }),
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEARCH_LIMIT = 50;
const TIMELINE_PAGE = 50;
const FEED_PAGE = 50;
const MAX_FIELD = 200;

type Fields = Record<string, unknown>;

/** A text field of a form or query: absent, not text, or too long all read as empty. */
function textOf(fields: unknown, name: string): string {
  const value = fields !== null && typeof fields === 'object' ? (fields as Fields)[name] : undefined;
  return typeof value === 'string' && value.length <= MAX_FIELD ? value.trim() : '';
}

/** A `datetime-local` value, read as UTC: undefined when empty, null when it is no moment. */
function momentOf(value: string): Date | null | undefined {
  if (value === '') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?$/.exec(value);
  return m ? parseAtom(`${m[1]}${m[2] ?? ':00'}+00:00`) : null;
}

/** A moment as a `datetime-local` input shows it (UTC, to the second). */
const localValueOf = (date: Date): string => date.toISOString().slice(0, 19);

function pageNumberOf(value: string, pages: number): number {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : 1;
  return Math.min(Math.max(n, 1), Math.max(pages, 1));
}

export function registerConsoleRoutes(instance: FastifyInstance, services: ConsoleServices, pages: ConsolePages): void {
  const { clients, store, queries, search, clock } = services;

  instance.get('/console.css', { config: { consoleAccess: 'asset' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(CONSOLE_STYLESHEET),
  );

  instance.get('/sign-in', { config: { consoleAccess: 'public' } }, async (request, reply) => {
    if (request.consoleSession) return reply.redirect('/console', 303);
    return pages.render(request, reply, '@sign-in', { title: 'Sign in', clientId: '', error: null });
  });

  instance.post(
    '/sign-in',
    { config: { consoleAccess: 'public', rateLimit: SIGN_IN_ATTEMPTS }, preHandler: instance.csrfProtection.bind(instance) },
    async (request, reply) => {
      const clientId = textOf(request.body, 'clientId');
      const secret = textOf(request.body, 'clientSecret');
      const client = clientId && secret ? await clients.authenticate(clientId, secret) : null;
      const refuse = (status: number, error: string): FastifyReply =>
        pages.render(request, reply.code(status), '@sign-in', { title: 'Sign in', clientId, error });
      if (!client) return refuse(401, 'The client ID or the client secret is wrong.');
      if (!client.scopes.includes('audit')) {
        return refuse(403, 'This client does not hold the audit scope. The console is for clients that may read the audit history.');
      }
      pages.signIn(reply, { clientId: client.clientId });
      return reply.redirect('/console', 303);
    },
  );

  instance.post('/sign-out', { preHandler: instance.csrfProtection.bind(instance) }, async (_request, reply) => {
    pages.signOut(reply);
    return reply.redirect('/console/sign-in', 303);
  });

  instance.get('/', async (request, reply) =>
    pages.render(request, reply, '@search', { title: 'Search', q: '', results: [], more: false }),
  );

  // A search posts its term: an email or a name is personal data, and never goes into a URL (and
  // so into request logs, browser history or a proxy's).
  instance.post('/', { preHandler: instance.csrfProtection.bind(instance) }, async (request, reply) => {
    const q = textOf(request.body, 'q');
    const found = q === '' ? [] : await search.find(q, SEARCH_LIMIT + 1, clock.now());
    const results = found.slice(0, SEARCH_LIMIT).map((c) => ({ id: c.id, name: displayName(c), email: c.email, type: c.type }));
    return pages.render(request, reply, '@search', { title: 'Search', q, results, more: found.length > SEARCH_LIMIT });
  });

  instance.get('/contacts/:id', async (request, reply) => {
    const id = textOf(request.params, 'id');
    const { events } = UUID.test(id) ? await store.readStream(id.toLowerCase()) : { events: [] };
    if (events.length === 0) {
      return pages.render(request, reply.code(404), '@error', { title: 'Contact not found', text: 'No contact has this id.' });
    }
    const contactId = id.toLowerCase();
    const now = clock.now();
    const views = viewsAfterEachEvent(events);
    const last = views.at(-1) ?? null;
    const current: ContactView | null = (await queries.byId(contactId, now)) ?? (last && atMoment(last, now));

    const asOfValue = textOf(request.query, 'asOf');
    const at = momentOf(asOfValue);
    const asOfView = at ? await queries.asOf(contactId, at) : null;
    const asOf = {
      value: at ? localValueOf(at) : asOfValue,
      at: at ? formatAtom(at) : null,
      rows: asOfView && stateRows(asOfView),
      error: at === null ? 'Enter a date and time, e.g. 2026-01-31T12:00:00.' : null,
    };

    const chainBreak = verifyStream(events);
    const chain = chainBreak
      ? { broken: true, words: `Chain broken at version ${chainBreak.version}`, reason: chainBreak.reason }
      : { broken: false, words: 'Chain verified', reason: null };

    const totalPages = Math.ceil(events.length / TIMELINE_PAGE);
    const page = pageNumberOf(textOf(request.query, 'page'), totalPages);
    const newest = events.length - 1 - (page - 1) * TIMELINE_PAGE;
    const entries = [];
    for (let i = newest; i >= 0 && i > newest - TIMELINE_PAGE; i--) entries.push(timelineEntry(events, views, i));
    const link = (n: number): string => {
      const query = new URLSearchParams({ ...(asOfValue && at ? { asOf: asOf.value } : {}), page: String(n) });
      return `/console/contacts/${contactId}?${query.toString()}`;
    };

    const named = current ?? last;
    return pages.render(request, reply.code(at === null ? 400 : 200), '@contact', {
      title: named ? displayName(named) : contactId,
      id: contactId,
      name: named ? displayName(named) : contactId,
      current: current && stateRows(current),
      asOf,
      chain,
      total: events.length,
      firstVersion: events[newest]?.version ?? 1,
      entries,
      pages: {
        newer: page > 1 ? link(page - 1) : null,
        older: page < totalPages ? link(page + 1) : null,
        label: `Page ${page} of ${totalPages}`,
      },
    });
  });

  instance.get('/feed', async (request, reply) => {
    const fields = {
      type: textOf(request.query, 'type'),
      client: textOf(request.query, 'client'),
      from: textOf(request.query, 'from'),
      to: textOf(request.query, 'to'),
      after: textOf(request.query, 'after'),
    };
    const from = momentOf(fields.from);
    const to = momentOf(fields.to);
    const errors = [
      fields.type !== '' && !(CONTACT_EVENT_TYPES as readonly string[]).includes(fields.type) ? 'Choose a type from the list.' : null,
      from === null ? 'From must be a date and time.' : null,
      to === null ? 'To must be a date and time.' : null,
      fields.after !== '' && !/^\d{1,18}$/.test(fields.after) ? 'The page link is not valid: start again from the first page.' : null,
    ].filter((e): e is string => e !== null);
    const filter: FeedFilter = {
      type: fields.type || undefined,
      clientId: fields.client || undefined,
      from: from ?? undefined,
      to: to ?? undefined,
      after: fields.after || undefined,
    };
    const found = errors.length === 0 ? await readFeedPage(store, filter, FEED_PAGE) : null;
    if (found === undefined) errors.push('The page link is not valid: start again from the first page.');
    const next = found?.next
      ? `/console/feed?${new URLSearchParams({ ...fields, from: from ? localValueOf(from) : '', to: to ? localValueOf(to) : '', after: found.next }).toString()}`
      : null;
    return pages.render(request, reply.code(errors.length > 0 ? 400 : 200), '@feed', {
      title: 'Event feed',
      types: CONTACT_EVENT_TYPES,
      filter: { ...fields, from: from ? localValueOf(from) : fields.from, to: to ? localValueOf(to) : fields.to },
      error: errors.join(' ') || null,
      after: filter.after ?? null,
      events: (found?.events ?? []).map((e) => ({
        position: e.position,
        streamId: e.streamId,
        version: e.version,
        type: e.type,
        recordedAt: formatAtom(e.recordedAt),
        clientId: e.metadata.clientId ?? 'none',
        data: JSON.stringify(redactSecrets(e.type, e.data), null, 2),
      })),
      next,
      scanned: found ? `${found.scanned} events read` : '',
    });
  });
}
