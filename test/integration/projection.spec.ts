import { randomUUID } from 'node:crypto';
import { FixedClock } from '@app/config';
import { InviteTokens } from '@app/auth';
import { ContactService, type CreateRequest } from '@app/contact-service';
import type { ContactView } from '@app/contacts';
import { EventStore } from '@app/event-store';
import { ContactQueries, contactsProjection, type ContactFilter, type ContactRow } from '@app/projections';
import { RoleCatalogue } from '@app/roles';
import { aBranch, aGuest, anAddress, aRecipient, aUser } from '../../libs/contacts/src/testing/contact.factories.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const now = new Date('2026-01-15T10:00:00Z');
const DAY = 86_400_000;
const metadata = { clientId: 'client-1', requestId: null, correlationId: null, causationId: null };

const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;
const uniqueEmail = (label = 'contact'): string => `${unique(label)}@example.com`;

const aRequest = (contact: CreateRequest['contact'], overrides: Partial<Omit<CreateRequest, 'contact'>> = {}): CreateRequest => ({
  contact: contact.type === 'user' ? { password: 'correct horse 42', ...contact } : contact,
  invite: false,
  ...overrides,
});

const aFilter = (overrides: Partial<ContactFilter> = {}): ContactFilter => ({ page: 1, limit: 20, ...overrides });

let database: TestDatabase;
let store: EventStore;
let service: ContactService;

beforeAll(async () => {
  database = await createTestDatabase('projection');
  store = new EventStore(database.db);
  const roles = new RoleCatalogue(database.db);
  service = new ContactService(database.db, store, roles, new FixedClock(now), {
    bcryptCost: 4,
    inviteTtlMs: 7 * DAY,
    inviteTokens: new InviteTokens('test-secret'),
  });
  await roles.create({ reference: 'customer', title: 'Customer', approvalMethod: 'none' });
  await roles.create({ reference: 'newsletter', title: 'Newsletter', approvalMethod: 'email' });
  await roles.create({ reference: 'trade', title: 'Trade', approvalMethod: 'admin' });
});
afterAll(async () => {
  await database.drop();
});

describe('contactsProjection', () => {
  /** The row as the table holds it, with the view's stored JSON text. */
  async function storedRow(id: string): Promise<{ row: ContactRow; viewText: string } | null> {
    const { rows } = await database.db.query<
      Omit<ContactRow, 'nextExpiry'> & { created: Date; nextExpiry: Date | null; view_text: string }
    >(
      `SELECT id, type, email, tags, version, created, view, state, head_hash AS "headHash", next_expiry AS "nextExpiry",
              view::text AS view_text
       FROM contacts WHERE id = $1`,
      [id],
    );
    const found = rows[0];
    if (!found) return null;
    const { view_text: viewText, created, nextExpiry, ...row } = found;
    return { row: { ...row, created: created.toISOString(), nextExpiry: nextExpiry?.toISOString() ?? null }, viewText };
  }

  /** The row folding the stream gives; its next expiry as the table returns a timestamp. */
  async function rebuilt(id: string): Promise<ContactRow | null> {
    const row = contactsProjection.fromEvents((await store.readStream(id)).events);
    return row && { ...row, nextExpiry: row.nextExpiry && new Date(row.nextExpiry).toISOString() };
  }

  const contacts: Array<[string, () => CreateRequest]> = [
    [
      'a user with everything',
      () =>
        aRequest(
          aUser({
            email: `  ${uniqueEmail('Everything').toUpperCase()} `,
            address: anAddress({ company: 'Addressed Ltd', countryCode: 'gb' }),
            tags: { contact: ['vip', ' vip ', 'wholesale'] },
            accessRoles: ['customer', 'newsletter', { reference: 'trade', expires: '2026-03-01T12:00:00+01:00', status: 'active' }],
            company: 'Bobsworth & Co',
          }),
          // a client holding `roles`: it may activate the admin-approved role at once
          { mayBypassApproval: true },
        ),
    ],
    ['an invited user', () => aRequest(aUser({ email: uniqueEmail('invited'), accessRoles: ['trade'] }), { invite: true })],
    ['a guest', () => aRequest(aGuest({ email: uniqueEmail('guest') }))],
    ['a branch with an address', () => aRequest(aBranch({ email: uniqueEmail('branch'), firstname: 'Ignored', address: anAddress() }))],
    ['a recipient', () => aRequest(aRecipient({ email: uniqueEmail('recipient') }))],
  ];

  it.each(contacts)('writes for %s the row that folding its stream gives', async (_name, request) => {
    const created = await service.create(request(), metadata);

    const stored = await storedRow(created.id);
    const expected = await rebuilt(created.id);

    expect(expected).not.toBeNull();
    expect(stored?.row).toEqual(expected);
    expect(stored?.viewText).toBe(JSON.stringify(expected?.view));
    expect(stored?.row.view).toEqual(created);
  });

  it('rebuilds the identical row from the log', async () => {
    const created = await service.create(contacts[0]![1](), metadata);
    const before = await storedRow(created.id);

    await database.db.query('DELETE FROM contacts WHERE id = $1', [created.id]);
    const row = await rebuilt(created.id);
    if (row) await contactsProjection.save(database.db, row);

    expect(before).not.toBeNull();
    expect(await storedRow(created.id)).toEqual(before);
  });

  it('never replaces a row with an earlier version of it', async () => {
    const created = await service.create(contacts[0]![1](), metadata);
    const before = await storedRow(created.id);
    const { events } = await store.readStream(created.id);

    const earlier = contactsProjection.fromEvents(events.slice(0, 1));
    if (earlier) await contactsProjection.save(database.db, earlier);

    expect(earlier?.version).toBe(1);
    expect(before?.row.version).toBeGreaterThan(1);
    expect(await storedRow(created.id)).toEqual(before);
  });
});

describe(ContactQueries.name, () => {
  let sut: ContactQueries;

  beforeAll(() => {
    sut = new ContactQueries(database.db);
  });

  const create = (request: CreateRequest): Promise<ContactView> => service.create(request, metadata);
  const ids = (views: ContactView[]): string[] => views.map((v) => v.id).sort();

  describe('list', () => {
    it('finds a contact by its email, however the filter is cased or padded', async () => {
      const email = uniqueEmail('Listed');
      const user = await create(aRequest(aUser({ email })));
      await create(aRequest(aUser({ email: uniqueEmail('other') })));

      const page = await sut.list(aFilter({ email: `  ${email.toUpperCase()}\t` }), now);

      expect(page.contacts).toEqual([user]);
      expect(page.pagination).toEqual({ page: 1, limit: 20, total: 1, totalPages: 1 });
    });

    it('filters by type and tag, alone and together', async () => {
      const tag = unique('tag');
      const user = await create(aRequest(aUser({ email: uniqueEmail(), tags: { contact: [tag, 'x'] } })));
      const guest = await create(aRequest(aGuest({ email: uniqueEmail(), tags: { contact: [tag] } })));
      const otherGuest = await create(aRequest(aGuest({ email: uniqueEmail(), tags: { contact: [unique('tag')] } })));

      const tagged = await sut.list(aFilter({ tag }), now);
      const taggedGuests = await sut.list(aFilter({ tag, type: 'guest' }), now);
      const guests = await sut.list(aFilter({ type: 'guest', limit: 1000 }), now);

      expect(ids(tagged.contacts)).toEqual(ids([user, guest]));
      expect(taggedGuests.contacts).toEqual([guest]);
      expect(ids(guests.contacts)).toEqual(expect.arrayContaining(ids([guest, otherGuest])));
      expect(guests.contacts.every((c) => c.type === 'guest')).toBe(true);
      expect(guests.contacts.map((c) => c.id)).not.toContain(user.id);
    });

    it('pages with limit and reports the total', async () => {
      const tag = unique('paged');
      const created = await Promise.all(
        Array.from({ length: 5 }, () => create(aRequest(aGuest({ email: uniqueEmail(), tags: { contact: [tag] } })))),
      );

      const pages = await Promise.all([1, 2, 3, 4].map((page) => sut.list(aFilter({ tag, page, limit: 2 }), now)));

      expect(pages.map((p) => p.contacts.length)).toEqual([2, 2, 1, 0]);
      for (const [i, p] of pages.entries()) expect(p.pagination).toEqual({ page: i + 1, limit: 2, total: 5, totalPages: 3 });
      const seen = pages.flatMap((p) => p.contacts.map((c) => c.id));
      expect([...seen].sort()).toEqual(ids(created));
    });

    it('finds nothing for a filter nothing matches', async () => {
      const page = await sut.list(aFilter({ email: uniqueEmail('nobody') }), now);

      expect(page).toEqual({ contacts: [], pagination: { page: 1, limit: 20, total: 0, totalPages: 0 } });
    });

    it('shows contacts as of the moment asked', async () => {
      const email = uniqueEmail('listed-expiring');
      await create(aRequest(aUser({ email, accessRoles: [{ reference: 'customer', expires: '2026-01-16T10:00:00+00:00' }] })));

      const [before, after] = await Promise.all([now, new Date(now.getTime() + DAY)].map((at) => sut.list(aFilter({ email }), at)));

      expect(before?.contacts[0]?.accessRoles.map((r) => r.reference)).toEqual(['customer']);
      expect(after?.contacts[0]?.accessRoles).toEqual([]);
    });
  });

  describe('byId', () => {
    it('hides a grant from the moment it expires, before any worker revokes it', async () => {
      const expires = '2026-01-16T10:00:00+00:00';
      const user = await create(
        aRequest(aUser({ email: uniqueEmail('expiring'), accessRoles: ['customer', { reference: 'trade', expires, status: 'active' }] }), {
          mayBypassApproval: true,
        }),
      );
      const at = (ms: number): Promise<ContactView | null> => sut.byId(user.id, new Date(new Date(expires).getTime() + ms));

      expect((await at(-1))?.accessRoles).toEqual([
        { reference: 'customer', status: 'active', expires: null },
        { reference: 'trade', status: 'active', expires },
      ]);
      expect((await at(0))?.accessRoles).toEqual([{ reference: 'customer', status: 'active', expires: null }]);
      expect((await at(DAY))?.accessRoles.map((r) => r.reference)).toEqual(['customer']);
    });

    it('shows an unaccepted invite as expired after its time', async () => {
      const user = await create(aRequest(aUser({ email: uniqueEmail('invite') }), { invite: true }));

      const [fresh, stale] = await Promise.all([now, new Date(now.getTime() + 8 * DAY)].map((at) => sut.byId(user.id, at)));

      expect(fresh?.invite?.status).toBe('pending');
      expect(stale?.invite).toEqual({ status: 'expired', expiresAt: '2026-01-22T10:00:00+00:00' });
    });

    it('returns null for an unknown contact', async () => {
      await expect(sut.byId(randomUUID(), now)).resolves.toBeNull();
    });
  });
});
