import type { INestApplicationContext } from '@nestjs/common';
import type { Scope } from '@app/auth';
import { formatAtom, type ContactView } from '@app/contacts';
import { openQueue, queueBackendOf } from '@app/queues';
import { run } from '../../apps/cli/src/cli.js';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import {
  aBranchPayload,
  aCreatedContact,
  aRecipientPayload,
  aRole,
  aUserPayload,
  contactOf,
  countEvents,
  createContact,
  get,
  post,
  problemOf,
  readContact,
  uniqueEmail,
  updateContact,
  type Body,
  type Response,
} from '../support/contact-requests.js';
import { inviteTokenOf } from '../support/invites.js';
import { until } from '../support/polling.js';
import { createTestApi, type TestApi } from '../support/test-api.js';
import { TickingClock } from '../support/ticking-clock.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const GOOD_PASSWORD = 'analytical-engine-1843';

interface HistoryItem {
  position: number;
  streamId: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

interface Export {
  contact: ContactView;
  events: HistoryItem[];
}

/** A client of the API holding `scopes`: its id (as events name it) and a bearer token. */
interface Caller {
  clientId: string;
  token: string;
}

async function aCaller(api: TestApi, scopes: Scope[]): Promise<Caller> {
  const client = await api.client(scopes);
  const response = await api.http.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
  });
  expect(response.statusCode).toBe(200);
  return { clientId: client.client_id, token: response.json<{ access_token: string }>().access_token };
}

const remove = (api: TestApi, token: string, id: string, init: { payload?: string; contentType?: string } = {}): Promise<Response> =>
  api.http.inject({
    method: 'DELETE',
    url: `/api/contacts/${id}.json`,
    headers: { authorization: `Bearer ${token}`, ...(init.contentType ? { 'content-type': init.contentType } : {}) },
    ...(init.payload === undefined ? {} : { payload: init.payload }),
  });

const historyOf = async (api: TestApi, token: string, id: string): Promise<HistoryItem[]> => {
  const response = await get(api, token, `/api/contacts/${id}/events.json`);
  expect(response.statusCode).toBe(200);
  return response.json<{ events: HistoryItem[] }>().events;
};

const expectGone = (response: Response): void => {
  expect(response.statusCode).toBe(410);
  const problem = problemOf(response);
  expect(problem).toMatchObject({ type: '/problems/contact_deleted', status: 410, title: 'Gone' });
  expect(problem.errors).toContainEqual(expect.objectContaining({ code: 'contact_deleted' }));
};

const expectNotFound = (response: Response): void => {
  expect(response.statusCode).toBe(404);
  expect(problemOf(response).type).toBe('/problems/not_found');
};

describe('deleting a contact and exporting a person’s data', () => {
  let api: TestApi;
  /** holds every scope (contacts, roles, audit, privacy) */
  let admin: Caller;
  const start = new Date('2026-01-15T10:00:00Z');

  beforeAll(async () => {
    api = await createTestApi({ label: 'delexport' });
    admin = await aCaller(api, ['contacts', 'roles', 'audit', 'privacy']);
  });
  afterAll(() => api.close());
  afterEach(() => api.clock.set(start));

  const aUser = (overrides: Body = {}): Promise<ContactView> => aCreatedContact(api, admin.token, aUserPayload(overrides));
  const deleted = async (id: string, caller: Caller = admin): Promise<void> => {
    const response = await remove(api, caller.token, id);
    expect({ status: response.statusCode, body: response.body }).toEqual({ status: 204, body: '' });
  };

  describe('DELETE /api/contacts/{id}.json', () => {
    it('answers 204 and records ContactDeleted, naming the client, after the rest of the history', async () => {
      const deleter = await aCaller(api, ['contacts']);
      const contact = await aUser({ tags: { contact: ['to-delete'] } });
      const before = await historyOf(api, admin.token, contact.id);

      await deleted(contact.id, deleter);

      const after = await historyOf(api, admin.token, contact.id);
      expect(after.slice(0, -1)).toEqual(before);
      expect(after.at(-1)).toMatchObject({
        streamId: contact.id,
        version: contact.version + 1,
        type: 'ContactDeleted',
        data: {},
        metadata: { clientId: deleter.clientId, requestId: expect.any(String) },
      });
      // The feed shows an event once every older transaction on the server has ended (other files' too).
      let feed: HistoryItem[] = [];
      await until(async () => {
        feed = (await get(api, admin.token, `/api/events.json?type=ContactDeleted&streamId=${contact.id}`)).json<{
          events: HistoryItem[];
        }>().events;
        return feed.length > 0;
      }, 20_000);
      expect(feed).toEqual([after.at(-1)]);
    });

    it('takes the contact out of lists and lookups, with any filter', async () => {
      const tag = `gone-${Date.now()}`;
      const email = uniqueEmail('listed');
      const contact = await aUser({ email, tags: { contact: [tag] } });
      const kept = await aUser({ tags: { contact: [tag] } });

      await deleted(contact.id);

      const ids = async (query: string): Promise<string[]> => {
        const response = await get(api, admin.token, `/api/contacts.json?${query}`);
        expect(response.statusCode).toBe(200);
        const page = response.json<{ contacts: ContactView[]; pagination: { total: number } }>();
        // Each filtered list here fits on one page: its total counts only what it lists.
        if (!query.startsWith('limit') && !query.startsWith('type')) expect(page.pagination.total).toBe(page.contacts.length);
        return page.contacts.map((c) => c.id);
      };
      expect(await ids(`tag=${tag}`)).toEqual([kept.id]);
      expect(await ids(`email=${encodeURIComponent(email)}`)).toEqual([]);
      expect(await ids(`email=${encodeURIComponent(email)}&type=user`)).toEqual([]);
      expect(await ids('limit=100')).not.toContain(contact.id);
      expect(await ids('type=user&limit=100')).not.toContain(contact.id);
    });

    it.each([
      ['user', aUserPayload],
      ['branch', aBranchPayload],
      ['recipient', aRecipientPayload],
    ])('frees the email of a %s at once: a new contact may take it', async (_type, payload) => {
      const email = uniqueEmail('freed');
      const first = await aCreatedContact(api, admin.token, payload({ email }));
      const taken = await createContact(api, admin.token, payload({ email: email.toUpperCase() }));
      expect(problemOf(taken).type).toBe('/problems/email_taken');

      await deleted(first.id);

      const second = await createContact(api, admin.token, payload({ email }));
      expect(second.statusCode).toBe(201);
      expect(contactOf(second).email).toBe(email);
    });

    it("frees a deleted user's email for a recipient, and lets a contact move to a deleted contact's email", async () => {
      const email = uniqueEmail('shared');
      const user = await aUser({ email });
      const mover = await aUser();
      expect(problemOf(await createContact(api, admin.token, aRecipientPayload({ email }))).type).toBe('/problems/email_taken');

      await deleted(user.id);

      expect((await updateContact(api, admin.token, mover.id, { email })).statusCode).toBe(200);
      expect((await createContact(api, admin.token, aRecipientPayload({ email: uniqueEmail('other') }))).statusCode).toBe(201);
      expect(problemOf(await createContact(api, admin.token, aRecipientPayload({ email }))).type).toBe('/problems/email_taken');
    });

    it('stops its pending invite link: the page and the form answer 410, and nothing is written', async () => {
      const contact = await aCreatedContact(api, admin.token, aUserPayload({ password: undefined }), { invite: true });
      const token = await inviteTokenOf(api.database.db, contact.id);
      const page = await api.http.inject({ method: 'GET', url: `/invites/${token}` });
      expect(page.statusCode).toBe(200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
      const cookie = [page.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0] ?? '';

      await deleted(contact.id);
      const events = await countEvents(api);

      const again = await api.http.inject({ method: 'GET', url: `/invites/${token}` });
      const submitted = await api.http.inject({
        method: 'POST',
        url: `/invites/${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        payload: new URLSearchParams({ _csrf: csrf, password: GOOD_PASSWORD, confirmation: GOOD_PASSWORD }).toString(),
      });

      for (const response of [again, submitted]) {
        expect({ status: response.statusCode, type: response.headers['content-type'] }).toEqual({
          status: 410,
          type: 'text/html; charset=utf-8',
        });
        expect(response.body).toContain('This invite link no longer works');
        expect(response.body).not.toContain('name="password"');
      }
      expect(await countEvents(api)).toBe(events);
    });

    it('answers 410 contact_deleted to a read, an update, an invite, an approval, a rejection and a second delete, writing nothing', async () => {
      const reference = await aRole(api, admin.token, 'admin');
      const contact = await aUser({ accessRoles: [reference] });
      await deleted(contact.id);
      const events = await countEvents(api);

      const grant = `/api/contacts/${contact.id}/access-roles/${reference}`;
      const refusals: [string, Response][] = [
        ['read', await get(api, admin.token, `/api/contacts/${contact.id}.json`)],
        ['read, upper-case id', await get(api, admin.token, `/api/contacts/${contact.id.toUpperCase()}.json`)],
        ['update', await updateContact(api, admin.token, contact.id, { firstname: 'Lazarus' })],
        ['update with a password', await updateContact(api, admin.token, contact.id, { password: GOOD_PASSWORD })],
        ['update, stale If-Match', await updateContact(api, admin.token, contact.id, { firstname: 'L' }, {}, { 'if-match': '"1"' })],
        ['update, Idempotency-Key', await updateContact(api, admin.token, contact.id, { firstname: 'L' }, {}, { 'idempotency-key': 'k1' })],
        ['invite', await post(api, admin.token, `/api/contacts/${contact.id}/invite.json`, undefined)],
        ['approve', await post(api, admin.token, `${grant}/approve.json`, undefined)],
        ['reject', await post(api, admin.token, `${grant}/reject.json`, undefined)],
        ['second delete', await remove(api, admin.token, contact.id)],
      ];

      for (const [what, response] of refusals) {
        expect({ what, status: response.statusCode }).toEqual({ what, status: 410 });
        expectGone(response);
      }
      expect(await countEvents(api)).toBe(events);
    });

    it('takes a request without a body that names a JSON content type anyway, as some clients send it', async () => {
      const contact = await aUser();

      const sut = await remove(api, admin.token, contact.id, { contentType: 'application/json' });

      expect(sut.statusCode).toBe(204);
    });

    it('answers 404 for an id no contact has, or that is not an id', async () => {
      expectNotFound(await remove(api, admin.token, UNKNOWN_ID));
      expectNotFound(await remove(api, admin.token, 'not-a-uuid'));
      expectNotFound(await get(api, admin.token, `/api/contacts/${UNKNOWN_ID}.json`));
    });

    it('needs the contacts scope, and refuses a body', async () => {
      const contact = await aUser();
      const events = await countEvents(api);
      for (const scopes of [['contacts.readonly'], ['audit', 'privacy', 'roles']] as Scope[][]) {
        const response = await remove(api, (await aCaller(api, scopes)).token, contact.id);
        expect(response.statusCode).toBe(403);
        expect(problemOf(response).type).toBe('/problems/insufficient_scope');
      }
      const withBody = await remove(api, admin.token, contact.id, { payload: '{"erase":true}', contentType: 'application/json' });
      expect(problemOf(withBody)).toMatchObject({ status: 400, type: '/problems/body_not_allowed' });
      expect(await countEvents(api)).toBe(events);
      expect((await readContact(api, admin.token, contact.id)).id).toBe(contact.id);
    });
  });

  describe('GET /api/contacts/{id}.json?asOf= on a deleted contact', () => {
    it('shows the state before the deletion, and 410 from the moment of the deletion on', async () => {
      api.clock.set(new Date('2026-01-15T10:00:00Z'));
      const contact = await aUser({ firstname: 'Before' });
      api.clock.set(new Date('2026-01-15T11:00:00Z'));
      const renamed = contactOf(await updateContact(api, admin.token, contact.id, { firstname: 'Renamed' }));
      api.clock.set(new Date('2026-01-15T12:00:00Z'));
      await deleted(contact.id);
      api.clock.set(new Date('2026-01-16T12:00:00Z'));

      const asOf = (at: string): Promise<Response> =>
        get(api, admin.token, `/api/contacts/${contact.id}.json?asOf=${encodeURIComponent(at)}`);
      expect(contactOf(await asOf('2026-01-15T10:30:00+00:00'))).toEqual(contact);
      expect(contactOf(await asOf('2026-01-15T11:59:59+00:00'))).toEqual(renamed);
      expectGone(await asOf('2026-01-15T12:00:00+00:00'));
      expectGone(await asOf('2026-01-15T13:00:00+01:00'));
      expectGone(await asOf('2026-01-16T12:00:00+00:00'));
      expectNotFound(await asOf('2026-01-15T09:00:00+00:00'));
    });
  });

  describe('GET /api/contacts/{id}/export.json', () => {
    const exportOf = async (id: string, token = admin.token): Promise<Export> => {
      const response = await get(api, token, `/api/contacts/${id}/export.json`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
      return response.json<Export>();
    };

    it('holds the contact as a read returns it and its whole history as /events.json shows it, secrets redacted', async () => {
      const reference = await aRole(api, admin.token, 'none');
      const created = await aCreatedContact(api, admin.token, aUserPayload({ password: GOOD_PASSWORD, accessRoles: [reference] }), {
        invite: true,
      });
      await updateContact(api, admin.token, created.id, { password: `${GOOD_PASSWORD}-2` });
      const privacy = await aCaller(api, ['privacy']);

      const sut = await exportOf(created.id, privacy.token);

      expect(sut).toEqual({
        contact: await readContact(api, admin.token, created.id),
        events: await historyOf(api, admin.token, created.id),
      });
      expect(sut.events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['ContactCreated', 'PasswordSet', 'RoleGranted', 'InviteIssued', 'InviteRetired']),
      );
      for (const event of sut.events.filter((e) => 'passwordHash' in e.data || 'tokenHash' in e.data)) {
        expect(event.data.passwordHash ?? event.data.tokenHash).toBe('[redacted]');
      }
      expect(JSON.stringify(sut)).not.toMatch(/\$2[aby]\$/);
    });

    it('holds a deleted contact as a read returned it just before the deletion, and the deletion in its history', async () => {
      const reference = await aRole(api, admin.token, 'none');
      const contact = await aUser({ accessRoles: [reference], tags: { contact: ['export'] } });
      const lastRead = await readContact(api, admin.token, contact.id);
      api.clock.set(new Date('2026-01-15T10:05:00Z'));
      await deleted(contact.id);

      const sut = await exportOf(contact.id);

      expect(sut.contact).toEqual(lastRead);
      expect(sut.contact.accessRoles).toEqual([{ reference, status: 'active', expires: null }]);
      expect(sut.events).toEqual(await historyOf(api, admin.token, contact.id));
      expect(sut.events.at(-1)?.type).toBe('ContactDeleted');
    });

    it('answers 404 for an unknown id and needs the privacy scope', async () => {
      expectNotFound(await get(api, admin.token, `/api/contacts/${UNKNOWN_ID}/export.json`));
      expectNotFound(await get(api, admin.token, '/api/contacts/not-a-uuid/export.json'));
      const contact = await aUser();
      for (const scopes of [['contacts'], ['audit'], ['contacts', 'roles', 'audit']] as Scope[][]) {
        const response = await get(api, (await aCaller(api, scopes)).token, `/api/contacts/${contact.id}/export.json`);
        expect(response.statusCode).toBe(403);
        expect(problemOf(response).type).toBe('/problems/insufficient_scope');
      }
    });
  });

  describe('the privacy scope', () => {
    it('is granted by the token endpoint to a client that holds it, and not to one that does not', async () => {
      const holder = await api.client(['privacy', 'contacts']);
      const other = await api.client(['contacts', 'audit']);
      const ask = (client: { client_id: string; client_secret: string }): Promise<Response> =>
        api.http.inject({
          method: 'POST',
          url: '/oauth/token',
          payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret, scope: 'privacy' },
        });

      const granted = await ask(holder);
      expect(granted.statusCode).toBe(200);
      expect(granted.json<{ scope: string }>().scope).toBe('privacy');
      expect((await ask(other)).statusCode).toBe(400);
    });

    it('is one clients:create accepts', async () => {
      const printed: string[] = [];

      await run(['clients:create', '--name', 'dpo', '--scopes', 'privacy,audit'], { DATABASE_URL: api.database.url }, (line) =>
        printed.push(line),
      );

      expect(JSON.parse(printed.at(-1) ?? '{}')).toMatchObject({ scopes: ['privacy', 'audit'] });
    });
  });

  describe('the OpenAPI document', () => {
    it('documents both routes, with the 410 problem', async () => {
      const document = (await api.http.inject({ method: 'GET', url: '/api/docs-json' })).json<{
        paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: Record<string, string[]>[] }>>;
      }>();

      const removal = document.paths['/api/contacts/{id}.json']?.delete;
      expect(Object.keys(removal?.responses ?? {})).toEqual(expect.arrayContaining(['204', '404', '410']));
      expect(removal?.responses['410']).toMatchObject({ content: { 'application/problem+json': expect.any(Object) } });
      const exported = document.paths['/api/contacts/{id}/export.json']?.get;
      expect(Object.keys(exported?.responses ?? {})).toEqual(expect.arrayContaining(['200', '403', '404']));
      expect(exported?.security).toContainEqual({ oauth2: ['privacy'] });
      expect(document.paths['/api/contacts/{id}.json']?.get?.responses['410']).toBeDefined();
    });
  });

  describe('replay', () => {
    it('rebuilds the same read tables from a log with deleted contacts (replay --verify finds no difference)', async () => {
      const email = uniqueEmail('replayed');
      const first = await aUser({ email });
      await deleted(first.id);
      const second = await aUser({ email });
      const branch = await aCreatedContact(api, admin.token, aBranchPayload());
      await deleted(branch.id);
      const tables = async (): Promise<unknown[]> =>
        (
          await api.database.db.query(
            `SELECT (SELECT json_agg(c ORDER BY id)::text FROM contacts c) AS contacts,
                    (SELECT json_agg(r ORDER BY kind, email)::text FROM email_reservations r) AS reservations`,
          )
        ).rows;
      const reads = async (): Promise<string[]> =>
        Promise.all(
          [first.id, second.id, branch.id].map(async (id) => {
            const response = await get(api, admin.token, `/api/contacts/${id}.json`);
            return `${response.statusCode} ${response.body}`;
          }),
        );
      const tablesBefore = await tables();
      const readsBefore = await reads();
      const printed: string[] = [];

      await run(['replay', '--verify'], { DATABASE_URL: api.database.url }, (line) => printed.push(line));

      expect(printed).toContain('replay --verify: the rebuilt tables equal the live ones, row for row');
      expect(await tables()).toEqual(tablesBefore);
      expect(await reads()).toEqual(readsBefore);
      expect(readsBefore.map((r) => r.slice(0, 3))).toEqual(['410', '200', '410']);
    });
  });
});

describe('a deleted contact and the worker', () => {
  let api: TestApi;
  let token: string;
  let worker: INestApplicationContext | undefined;

  beforeAll(async () => {
    api = await createTestApi({ label: 'delworker', clock: new TickingClock(), env: { JOB_LOCK_DURATION: '2s' } });
    token = await api.token();
  });
  afterAll(async () => {
    await worker?.close();
    await api.close();
  });

  const eventTypesOf = async (id: string): Promise<string[]> => {
    const { rows } = await api.database.db.query<{ type: string }>('SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version', [
      id,
    ]);
    return rows.map((r) => r.type);
  };

  it('lets the expiry job of a deleted contact’s grant do nothing, and mails no invite it issued', async () => {
    const reference = await aRole(api, token, 'none');
    const pendingReference = await aRole(api, token, 'admin');
    const expires = formatAtom(new Date(Math.ceil((api.clock.now().getTime() + 2_000) / 1000) * 1000), 'seconds');
    const contact = await aCreatedContact(
      api,
      token,
      aUserPayload({
        password: undefined,
        accessRoles: [
          { reference, expires },
          { reference: pendingReference, expires },
        ],
      }),
      { invite: true },
    );
    const removed = await api.http.inject({
      method: 'DELETE',
      url: `/api/contacts/${contact.id}.json`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(removed.statusCode).toBe(204);

    worker = await createWorker(api.config, { clock: api.clock, logs: false });
    const roles = openQueue(queueBackendOf(api.config), 'roles');
    const invites = openQueue(queueBackendOf(api.config), 'invites');
    try {
      const { rows } = await api.database.db.query<{ type: string; position: string }>(
        `SELECT type, position::text FROM events WHERE stream_id = $1 AND type IN ('RoleGranted', 'InviteIssued') ORDER BY position`,
        [contact.id],
      );
      const jobs = rows.map((r) => ({
        queue: r.type === 'RoleGranted' ? roles : invites,
        id: r.type === 'RoleGranted' ? `expire-role-${r.position}` : `send-invite-${r.position}`,
      }));
      expect(jobs).toHaveLength(3);
      const finished = async (): Promise<boolean> => {
        for (const job of jobs) {
          const state = await job.queue.getJobState(job.id);
          if (state !== 'completed' && state !== 'failed') return false;
        }
        return true;
      };
      await until(finished, 20_000);

      const outcomes = await Promise.all(jobs.map(async (job) => (await job.queue.getJob(job.id))?.returnvalue as unknown));
      expect(outcomes.sort()).toEqual(['gone', 'nothing-to-do', 'nothing-to-do']);
      expect(await roles.getFailedCount()).toBe(0);
      expect(await invites.getFailedCount()).toBe(0);
      expect(await eventTypesOf(contact.id)).toEqual(['ContactCreated', 'RoleGranted', 'RoleGranted', 'InviteIssued', 'ContactDeleted']);
      const { rows: row } = await api.database.db.query<{ next_expiry: Date | null }>('SELECT next_expiry FROM contacts WHERE id = $1', [
        contact.id,
      ]);
      expect(row).toEqual([{ next_expiry: null }]);
    } finally {
      await roles.close();
      await invites.close();
    }
  }, 40_000);
});
