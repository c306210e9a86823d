import type { FixedClock } from '@app/config';
import type { ContactView } from '@app/contacts';
import type { ContactPage } from '@app/projections';
import {
  aBranchPayload,
  aCreatedContact,
  aGuestPayload,
  anAddressPayload,
  aRecipientPayload,
  aRole,
  aUserPayload,
  createContact,
  errorsOf,
  get,
  problemOf,
  uniqueEmail,
  uniqueReference,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('GET /api/contacts', () => {
  let api: TestApi;
  let token: string;
  let clock: FixedClock;
  let start: Date;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'read' }));
    clock = api.clock;
    start = clock.now();
  });
  afterEach(() => {
    // A test that moves time puts it back, so no other test sees its moment.
    clock.set(start);
  });
  afterAll(() => api.close());

  const read = (id: string): ReturnType<typeof get> => get(api, token, `/api/contacts/${id}.json`);
  const list = async (query: Record<string, string | number>): Promise<ContactPage> => {
    const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
    const response = await get(api, token, `/api/contacts.json?${params.toString()}`);
    expect(response.statusCode).toBe(200);
    return response.json<ContactPage>();
  };

  describe('GET /api/contacts/{id}.json', () => {
    it('returns the contact exactly as the create response gave it', async () => {
      const reference = await aRole(api, token, 'admin');
      const created = await createContact(
        api,
        token,
        aUserPayload({ company: 'Bobsworth Ltd', address: anAddressPayload(), accessRoles: [reference], tags: { contact: ['vip'] } }),
        { invite: true },
      );

      const sut = await get(api, token, created.headers.location as string);

      expect(sut.statusCode).toBe(200);
      expect(sut.headers['content-type']).toMatch(/^application\/json/);
      expect(sut.json()).toEqual(created.json());
      expect(sut.headers.etag).toBe(created.headers.etag);
    });

    it.each([
      ['guest', aGuestPayload],
      ['branch', aBranchPayload],
      ['recipient', aRecipientPayload],
    ] as const)('reads a %s back as created', async (_type, payload) => {
      const created = await aCreatedContact(api, token, payload());

      const sut = await read(created.id);

      expect(sut.json()).toEqual({ contact: created });
    });

    it('finds the contact by an upper-case id', async () => {
      const created = await aCreatedContact(api, token, aGuestPayload());

      const sut = await read(created.id.toUpperCase());

      expect(sut.statusCode).toBe(200);
      expect(sut.json<{ contact: ContactView }>().contact.id).toBe(created.id);
    });

    it.each([
      ['an unknown uuid', '/api/contacts/7d9f4a56-2b1e-4c3d-9f8a-0123456789ab.json'],
      ['a malformed id', '/api/contacts/abc.json'],
      ['an id without .json', '/api/contacts/7d9f4a56-2b1e-4c3d-9f8a-0123456789ab'],
      ['an id with another extension', '/api/contacts/7d9f4a56-2b1e-4c3d-9f8a-0123456789ab.xml'],
      ['a NUL in the id', '/api/contacts/%00.json'],
      ['a SQL-looking id', "/api/contacts/1'%20OR%20'1'='1.json"],
    ])('answers %s with a 404 problem', async (_case, url) => {
      const sut = await get(api, token, url);

      expect(sut.statusCode).toBe(404);
      expect(problemOf(sut)).toMatchObject({ status: 404, title: 'Not Found' });
    });

    it('answers asOf a moment before the contact existed with 404, not with its current state', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      const sut = await get(api, token, `/api/contacts/${id}.json?asOf=2026-01-01T00:00:00%2B00:00`);

      expect(sut.statusCode).toBe(404);
    });

    it('does not show a grant whose expiry has passed, even before the worker revokes it', async () => {
      const lasting = await aRole(api, token, 'none');
      const brief = await aRole(api, token, 'none');
      const expires = new Date(start.getTime() + HOUR).toISOString().replace(/\.000Z$/, '+00:00');
      const created = await aCreatedContact(api, token, aUserPayload({ accessRoles: [lasting, { reference: brief, expires }] }));
      expect(created.accessRoles.map((r) => r.reference)).toEqual([lasting, brief]);

      clock.advance(HOUR);
      const sut = (await read(created.id)).json<{ contact: ContactView }>().contact;

      expect(sut.accessRoles).toEqual([{ reference: lasting, status: 'active', expires: null }]);
    });

    it('still shows a grant a moment before its expiry', async () => {
      const reference = await aRole(api, token, 'none');
      const expires = new Date(start.getTime() + HOUR).toISOString().replace(/\.000Z$/, '+00:00');
      const created = await aCreatedContact(api, token, aUserPayload({ accessRoles: [{ reference, expires }] }));

      clock.advance(HOUR - 1000);
      const sut = (await read(created.id)).json<{ contact: ContactView }>().contact;

      expect(sut.accessRoles).toEqual([{ reference, status: 'active', expires }]);
    });

    it('shows an unaccepted invite as expired once its time has passed', async () => {
      const created = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });

      clock.advance(8 * DAY);
      const sut = (await read(created.id)).json<{ contact: ContactView }>().contact;

      expect(created.invite?.status).toBe('pending');
      expect(sut.invite).toEqual({ status: 'expired', expiresAt: created.invite?.expiresAt });
    });
  });

  describe('GET /api/contacts.json', () => {
    it('answers {contacts, pagination} with page 1 and limit 20 by default', async () => {
      const sut = await get(api, token, '/api/contacts.json');

      expect(sut.statusCode).toBe(200);
      const body = sut.json<ContactPage>();
      expect(Object.keys(body).sort()).toEqual(['contacts', 'pagination']);
      expect(body.pagination).toMatchObject({ page: 1, limit: 20 });
      expect(body.contacts.length).toBeLessThanOrEqual(20);
    });

    it('filters by email, ignoring case', async () => {
      const email = uniqueEmail('Filter.Me');
      const created = await aCreatedContact(api, token, aUserPayload({ email }));

      const lower = await list({ email: email.toLowerCase() });
      const upper = await list({ email: email.toUpperCase() });

      expect(lower.contacts).toEqual([created]);
      expect(upper.contacts).toEqual([created]);
      expect(lower.pagination).toEqual({ page: 1, limit: 20, total: 1, totalPages: 1 });
    });

    it('lists every contact type that holds an email, guests included', async () => {
      const email = uniqueEmail('everyone');
      await aCreatedContact(api, token, aUserPayload({ email }));
      await aCreatedContact(api, token, aGuestPayload({ email }));
      await aCreatedContact(api, token, aGuestPayload({ email }));
      await aCreatedContact(api, token, aBranchPayload({ email }));

      const sut = await list({ email });

      expect(sut.pagination.total).toBe(4);
      expect(sut.contacts.map((c) => c.type).sort()).toEqual(['branch', 'guest', 'guest', 'user']);
    });

    it('filters by type and tag together', async () => {
      const tag = uniqueReference('tag');
      const tags = { contact: [tag] };
      await aCreatedContact(api, token, aUserPayload({ tags }));
      const guest = await aCreatedContact(api, token, aGuestPayload({ tags }));
      await aCreatedContact(api, token, aBranchPayload({ tags }));
      await aCreatedContact(api, token, aRecipientPayload({ tags }));
      await aCreatedContact(api, token, aGuestPayload());

      const byType = await list({ tag, type: 'guest' });
      const byTag = await list({ tag });

      expect(byType.contacts).toEqual([guest]);
      expect(byTag.pagination.total).toBe(4);
      expect(byTag.contacts.map((c) => c.type).sort()).toEqual(['branch', 'guest', 'recipient', 'user']);
    });

    it('matches a tag exactly, not as a prefix or in another case', async () => {
      const tag = uniqueReference('Exact');
      await aCreatedContact(api, token, aGuestPayload({ tags: { contact: [tag, 'other'] } }));

      expect((await list({ tag })).pagination.total).toBe(1);
      expect((await list({ tag: tag.slice(0, -1) })).pagination.total).toBe(0);
      expect((await list({ tag: tag.toUpperCase() })).pagination.total).toBe(0);
    });

    it('pages through the matches with page, limit, total and totalPages', async () => {
      const tag = uniqueReference('page');
      const created: ContactView[] = [];
      for (let i = 0; i < 5; i += 1) {
        created.push(await aCreatedContact(api, token, aGuestPayload({ tags: { contact: [tag] } })));
        clock.advance(1000);
      }

      const pages = [
        await list({ tag, limit: 2, page: 1 }),
        await list({ tag, limit: 2, page: 2 }),
        await list({ tag, limit: 2, page: 3 }),
      ];
      const beyond = await list({ tag, limit: 2, page: 4 });

      expect(pages.map((p) => p.contacts.length)).toEqual([2, 2, 1]);
      expect(pages.map((p) => p.pagination)).toEqual([
        { page: 1, limit: 2, total: 5, totalPages: 3 },
        { page: 2, limit: 2, total: 5, totalPages: 3 },
        { page: 3, limit: 2, total: 5, totalPages: 3 },
      ]);
      // Newest first, across pages.
      expect(pages.flatMap((p) => p.contacts.map((c) => c.id))).toEqual(created.map((c) => c.id).reverse());
      expect(beyond).toEqual({ contacts: [], pagination: { page: 4, limit: 2, total: 5, totalPages: 3 } });
    });

    it('answers an empty page with total 0 when nothing matches', async () => {
      const sut = await list({ email: uniqueEmail('nobody') });

      expect(sut).toEqual({ contacts: [], pagination: { page: 1, limit: 20, total: 0, totalPages: 0 } });
    });

    it('does not list a grant whose expiry has passed', async () => {
      const reference = await aRole(api, token, 'none');
      const email = uniqueEmail('listed');
      const expires = new Date(start.getTime() + DAY).toISOString().replace(/\.000Z$/, '+00:00');
      await aCreatedContact(api, token, aUserPayload({ email, accessRoles: [{ reference, expires }] }));

      clock.advance(DAY + 1);
      const sut = await list({ email });

      expect(sut.contacts[0]?.accessRoles).toEqual([]);
    });

    it.each([
      ['page=0', '/query/page', 'invalid_page'],
      ['page=-1', '/query/page', 'invalid_page'],
      ['page=1.5', '/query/page', 'invalid_page'],
      ['page=abc', '/query/page', 'invalid_page'],
      ['page=1&page=2', '/query/page', 'invalid_page'],
      ['limit=0', '/query/limit', 'invalid_limit'],
      ['limit=101', '/query/limit', 'invalid_limit'],
      ['limit=1000', '/query/limit', 'invalid_limit'],
      ['type=hq', '/query/type', 'type_not_allowed'],
      ['email=not-an-email', '/query/email', 'invalid_email'],
      ['tag=a%00b', '/query/tag', 'invalid_characters'],
    ])('refuses ?%s with 422 %s %s', async (query, pointer, code) => {
      const sut = await get(api, token, `/api/contacts.json?${query}`);

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer, code });
    });

    it('accepts the largest limit, 100', async () => {
      const sut = await list({ limit: 100 });

      expect(sut.pagination.limit).toBe(100);
    });
  });
});
