import type { FixedClock } from '@app/config';
import type { ContactView } from '@app/contacts';
import { EventStore } from '@app/event-store';
import {
  aBranchPayload,
  aCreatedContact,
  aGuestPayload,
  anAddressPayload,
  anAddressView,
  aRecipientPayload,
  aRole,
  aUserPayload,
  contactOf,
  createContact,
  errorsOf,
  post,
  problemOf,
  readContact,
  uniqueEmail,
  updateContact,
  type Body,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const HOUR = 3_600_000;
// The harness's FixedClock stands at 2026-01-15T10:00:00Z; updates happen an hour later.
const CREATED = '2026-01-15T10:00:00+00:00';
const UPDATED = '2026-01-15T11:00:00+00:00';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('POST /api/contacts/{id}.json', () => {
  let api: TestApi;
  let token: string;
  let clock: FixedClock;
  let start: Date;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'update' }));
    clock = api.clock;
    start = clock.now();
  });
  beforeEach(() => {
    clock.set(start);
  });
  afterAll(() => api.close());

  /** POST /api/contacts/{id}.json with `{contact, ...extra}`, an hour after the contact was created. */
  const update = (id: string, contact: Body, extra: Body = {}, headers: Record<string, string> = {}): Promise<Response> => {
    clock.set(new Date(start.getTime() + HOUR));
    return updateContact(api, token, id, contact, extra, headers);
  };
  const read = (id: string): Promise<ContactView> => readContact(api, token, id);
  const updated = async (id: string, contact: Body, extra: Body = {}): Promise<ContactView> => {
    const response = await update(id, contact, extra);
    expect(response.statusCode).toBe(200);
    return contactOf(response);
  };
  const streamEvents = async (id: string): Promise<{ type: string; data: Record<string, unknown> }[]> => {
    const { rows } = await api.database.db.query<{ type: string; data: Record<string, unknown> }>(
      'SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [id],
    );
    return rows;
  };

  describe('the response', () => {
    it('is 200 {contact} with the change, the version advanced, updated set and the ETag of the new version', async () => {
      const before = await aCreatedContact(api, token, aGuestPayload());

      const sut = await update(before.id, { lastname: 'Smith' });

      expect(sut.statusCode).toBe(200);
      expect(sut.headers['content-type']).toMatch(/^application\/json/);
      const body = sut.json<{ contact: ContactView }>();
      expect(Object.keys(body)).toEqual(['contact']);
      expect(body.contact).toEqual({ ...before, lastname: 'Smith', version: before.version + 1, created: CREATED, updated: UPDATED });
      expect(sut.headers.etag).toBe(`"${before.version + 1}"`);
    });

    it('is what a read returns afterwards', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ address: anAddressPayload(), tags: { contact: ['vip'] } }));

      const sut = await update(id, { firstname: 'Robert', address: { city: 'Norwich' }, tags: { contact: ['trade'] } });

      expect(await read(id)).toEqual(contactOf(sut));
    });

    it('records one ContactUpdated holding only the fields that changed', async () => {
      const created = await aCreatedContact(api, token, aGuestPayload({ firstname: 'Gus', company: 'Acme' }));

      await updated(created.id, { firstname: 'Gus', lastname: 'Smith', company: 'Acme', email: created.email });

      expect((await streamEvents(created.id)).slice(1)).toEqual([{ type: 'ContactUpdated', data: { lastname: 'Smith' } }]);
    });

    it('keeps the version, and writes nothing, when nothing changes', async () => {
      const before = await aCreatedContact(api, token, aGuestPayload());

      const sut = await updated(before.id, { firstname: before.firstname, type: 'guest' });

      expect(sut).toEqual(before);
      expect(await streamEvents(before.id)).toHaveLength(1);
    });

    it('keeps the version for an empty contact', async () => {
      const before = await aCreatedContact(api, token, aGuestPayload());

      expect(await updated(before.id, {})).toEqual(before);
    });

    it.each([
      ['an unknown id', `/api/contacts/${UNKNOWN_ID}.json`],
      ['an id that is not a UUID', '/api/contacts/not-a-uuid.json'],
      ['an id without .json', `/api/contacts/${UNKNOWN_ID}`],
      ['a UUID with a trailing character', `/api/contacts/${UNKNOWN_ID}0.json`],
    ])('is a 404 problem for %s', async (_case, url) => {
      const sut = await post(api, token, url, { contact: { firstname: 'Rob' } });

      expect(sut.statusCode).toBe(404);
      expect(problemOf(sut).type).toBe('/problems/not_found');
    });

    it('is a 404 for an unknown id even with a password to hash', async () => {
      const sut = await post(api, token, `/api/contacts/${UNKNOWN_ID}.json`, { contact: { password: 'secret123' } });

      expect(sut.statusCode).toBe(404);
      problemOf(sut);
    });
  });

  describe('only what is sent changes', () => {
    it('leaves every field not sent as it was', async () => {
      const reference = await aRole(api, token, 'none');
      const before = await aCreatedContact(
        api,
        token,
        aUserPayload({ company: 'Acme', address: anAddressPayload(), tags: { contact: ['vip'] }, accessRoles: [reference] }),
      );

      const sut = await updated(before.id, { lastname: 'Smith' });

      expect(sut).toEqual({
        ...before,
        lastname: 'Smith',
        address: { ...before.address, lastname: 'Smith' },
        version: before.version + 1,
        updated: UPDATED,
      });
    });
  });

  describe('the rules of a create, on the values sent', () => {
    it.each([
      ['user', 'firstname', aUserPayload],
      ['user', 'lastname', aUserPayload],
      ['user', 'email', aUserPayload],
      ['guest', 'firstname', aGuestPayload],
      ['guest', 'lastname', aGuestPayload],
      ['guest', 'email', aGuestPayload],
      ['branch', 'company', aBranchPayload],
      ['branch', 'email', aBranchPayload],
      ['recipient', 'email', aRecipientPayload],
    ] as const)('refuses to set the %s %s to null with 422 required at its pointer, changing nothing', async (_type, field, payload) => {
      const before = await aCreatedContact(api, token, payload());

      const sut = await update(before.id, { [field]: null, tags: { contact: ['changed'] } });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: `/contact/${field}`, code: 'required' }]);
      expect(await read(before.id)).toEqual(before);
    });

    it.each([
      ['user', 'firstname', aUserPayload],
      ['guest', 'lastname', aGuestPayload],
      ['branch', 'company', aBranchPayload],
    ] as const)('refuses a blank %s %s with required', async (_type, field, payload) => {
      const { id } = await aCreatedContact(api, token, payload());

      for (const blank of ['', '   ']) {
        const sut = await update(id, { [field]: blank });

        expect(sut.statusCode).toBe(422);
        expect(errorsOf(sut)).toEqual([{ pointer: `/contact/${field}`, code: 'required' }]);
      }
    });

    it.each(['', '   ', 'not-an-email', 'a@', 'two words@example.com'])('refuses the email %j as a create does', async (email) => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      const sut = await update(id, { email });
      const create = await createContact(api, token, aGuestPayload({ email }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: expect.stringMatching(/^(required|invalid_email)$/) }]);
      expect(errorsOf(sut)).toEqual(errorsOf(create));
    });

    it('lets a branch keep no names and a user no company', async () => {
      const branch = await aCreatedContact(api, token, aBranchPayload());
      const user = await aCreatedContact(api, token, aUserPayload({ company: 'Acme' }));

      expect(await updated(branch.id, { firstname: null, lastname: 'Ignored' })).toEqual(branch);
      expect((await updated(user.id, { company: null })).company).toBeNull();
    });

    it.each([
      ['HTML', '<b>Acme</b>', 'html_not_allowed'],
      ['201 characters', 'c'.repeat(201), 'too_long'],
    ])('refuses a company with %s at /contact/company', async (_case, company, code) => {
      const { id } = await aCreatedContact(api, token, aBranchPayload());

      const sut = await update(id, { company });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/company', code }]);
    });

    it('refuses HTML in the address company at /contact/address/company', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ address: anAddressPayload() }));

      const sut = await update(id, { address: { company: '<i>Acme</i>' } });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/address/company', code: 'html_not_allowed' }]);
    });

    it.each([
      ['abc1', 'password_too_short'],
      ['abcdefghij', 'password_too_weak'],
      ['a1'.repeat(37), 'password_too_long'],
    ])('refuses the user password %j with %s, changing nothing', async (password, code) => {
      const before = await aCreatedContact(api, token, aUserPayload());

      const sut = await update(before.id, { password, firstname: 'Robert' });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/password', code }]);
      expect(await streamEvents(before.id)).toHaveLength(before.version);
    });

    it('sets a new password for a user', async () => {
      const before = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });

      const sut = await updated(before.id, { password: 'n3w-secret' });

      // The pending invite was for setting a password: it is retired with it (trust-domain.e2e-spec.ts).
      expect(sut).toMatchObject({ hasPassword: true, invite: null, version: before.version + 2 });
      expect((await streamEvents(before.id)).slice(-2).map((e) => e.type)).toEqual(['PasswordSet', 'InviteRetired']);
    });

    it.each([
      ['guest', aGuestPayload],
      ['branch', aBranchPayload],
      ['recipient', aRecipientPayload],
    ] as const)('ignores a password sent for a %s, even one a user could not have', async (_type, payload) => {
      const before = await aCreatedContact(api, token, payload());

      const sut = await updated(before.id, { password: 'x' });

      expect(sut).toEqual(before);
      expect(sut.hasPassword).toBe(false);
    });

    it.each([
      ['user', 'guest', aUserPayload],
      ['guest', 'user', aGuestPayload],
      ['branch', 'recipient', aBranchPayload],
      ['recipient', 'branch', aRecipientPayload],
    ] as const)('refuses to turn a %s into a %s with type_change_not_allowed', async (_type, type, payload) => {
      const before = await aCreatedContact(api, token, payload());

      const sut = await update(before.id, { type });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/type', code: 'type_change_not_allowed' }]);
      expect(await read(before.id)).toEqual(before);
    });

    it('refuses hq, as on creation, with type_not_allowed', async () => {
      const before = await aCreatedContact(api, token, aRecipientPayload());

      const sut = await update(before.id, { type: 'hq' });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/type', code: 'type_not_allowed' }]);
      expect(await read(before.id)).toEqual(before);
    });

    it('accepts the type the contact already has', async () => {
      const { id } = await aCreatedContact(api, token, aBranchPayload());

      expect(await updated(id, { type: 'branch', company: 'Acme Norwich' })).toMatchObject({ type: 'branch', company: 'Acme Norwich' });
    });

    it('refuses a type that is not a string', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      const sut = await update(id, { type: 7 });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/type', code: 'type_not_allowed' }]);
    });

    it('refuses a field the contract does not know with unknown_field', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      const sut = await update(id, { nickname: 'Gussie' });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/nickname', code: 'unknown_field' }]);
    });

    it('accepts a contact sent back as a read returned it, changing only what differs', async () => {
      const [active, pending] = [await aRole(api, token, 'none'), await aRole(api, token, 'admin')];
      const before = await aCreatedContact(
        api,
        token,
        aUserPayload({
          address: anAddressPayload(),
          tags: { contact: ['vip'] },
          accessRoles: [{ reference: active, expires: '2030-01-01T00:00:00+00:00' }, pending],
        }),
        { invite: true },
      );

      const sut = await updated(before.id, { ...before, lastname: 'Smith' });

      // The address showed the contact's names by inheritance; sent back, it still inherits them.
      expect(sut).toEqual({
        ...before,
        lastname: 'Smith',
        address: { ...before.address, lastname: 'Smith' },
        version: before.version + 1,
        updated: UPDATED,
      });
      expect((await streamEvents(before.id)).at(-1)).toEqual({ type: 'ContactUpdated', data: { lastname: 'Smith' } });
    });

    it('refuses a body without a contact with required at /contact', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      const sut = await post(api, token, `/api/contacts/${id}.json`, { invite: false });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact', code: 'required' }]);
    });
  });

  describe('invite', () => {
    it('issues a new invite to a user', async () => {
      const before = await aCreatedContact(api, token, aUserPayload());

      const sut = await updated(before.id, {}, { invite: true });

      expect(sut.invite).toEqual({ status: 'pending', expiresAt: expect.stringMatching(/^2026-01-\d\dT\d\d:00:00\+00:00$/) });
      expect(sut.version).toBe(before.version + 1);
    });

    it.each([
      ['guest', aGuestPayload],
      ['branch', aBranchPayload],
      ['recipient', aRecipientPayload],
    ] as const)('is refused for a %s with invite_not_allowed at /invite', async (_type, payload) => {
      const { id } = await aCreatedContact(api, token, payload());

      const sut = await update(id, {}, { invite: true });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/invite', code: 'invite_not_allowed' }]);
    });

    it('is issued again once the user has accepted one, as a verification mail', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });
      // Record the acceptance straight in the store (the invite page's own tests go through the form).
      const store = new EventStore(api.database.db);
      const stream = await store.readStream(id);
      const issued = stream.events.find((e) => e.type === 'InviteIssued');
      await api.database.db.transaction((tx) =>
        store.append(tx, id, stream.head, [{ type: 'InviteAccepted', data: { tokenHash: issued?.data.tokenHash } }], {
          metadata: { clientId: 'invite-page', requestId: 'r', correlationId: 'r', causationId: null },
          recordedAt: clock.now(),
        }),
      );

      const sut = await update(id, { firstname: 'Robert' }, { invite: true });

      expect(sut.statusCode).toBe(200);
      expect(sut.json<{ contact: ContactView }>().contact.invite?.status).toBe('pending');
    });

    it('refuses an invite that is not a boolean', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload());

      const sut = await update(id, {}, { invite: 'yes' });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/invite', code: 'invalid_type' }]);
    });
  });

  describe('email', () => {
    it('changes, keeping the case sent', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload());
      const email = uniqueEmail('Moved');

      expect(await updated(id, { email: ` ${email} ` })).toMatchObject({ email });
      expect((await read(id)).email).toBe(email);
    });

    it('is refused with 409 email_taken when another user holds it, changing nothing', async () => {
      const taken = uniqueEmail('taken');
      await aCreatedContact(api, token, aUserPayload({ email: taken }));
      const before = await aCreatedContact(api, token, aUserPayload());

      const sut = await update(before.id, { email: taken.toUpperCase(), firstname: 'Robert' });

      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
      expect(await read(before.id)).toEqual(before);
    });

    it('is refused for a recipient taking a user email, allowed for a branch', async () => {
      const email = uniqueEmail('shared');
      await aCreatedContact(api, token, aUserPayload({ email }));
      const recipient = await aCreatedContact(api, token, aRecipientPayload());
      const branch = await aCreatedContact(api, token, aBranchPayload());

      const refused = await update(recipient.id, { email });

      expect(refused.statusCode).toBe(409);
      expect(errorsOf(refused)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
      expect(await updated(branch.id, { email })).toMatchObject({ email });
    });

    it('releases the old email: another user can then take it', async () => {
      const old = uniqueEmail('old');
      const { id } = await aCreatedContact(api, token, aUserPayload({ email: old }));
      expect((await createContact(api, token, aUserPayload({ email: old }))).statusCode).toBe(409);

      await updated(id, { email: uniqueEmail('new') });

      expect((await createContact(api, token, aUserPayload({ email: old }))).statusCode).toBe(201);
    });

    it('keeps the reservation when only the case changes', async () => {
      const email = uniqueEmail('case');
      const { id } = await aCreatedContact(api, token, aUserPayload({ email }));

      expect(await updated(id, { email: email.toUpperCase() })).toMatchObject({ email: email.toUpperCase() });

      const sut = await createContact(api, token, aUserPayload({ email }));
      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
    });

    it('lets guests share an email on update as on create', async () => {
      const email = uniqueEmail('guests');
      await aCreatedContact(api, token, aGuestPayload({ email }));
      const { id } = await aCreatedContact(api, token, aGuestPayload());

      expect(await updated(id, { email })).toMatchObject({ email });
    });
  });

  describe('address', () => {
    it('adds one under a new id when the contact has none, never the id sent', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ firstname: 'Ann', company: 'Acme' }));

      const sut = await updated(id, { address: { ...anAddressPayload(), id: UNKNOWN_ID } });

      expect(sut.address).toEqual(anAddressView({ company: 'Acme' }));
      expect(sut.address?.id).not.toBe(UNKNOWN_ID);
      expect((await read(id)).address).toEqual(sut.address);
    });

    it('modifies the current one in place: same id, only the fields sent change', async () => {
      const before = await aCreatedContact(api, token, aUserPayload({ address: anAddressPayload() }));

      await updated(before.id, { address: { id: UNKNOWN_ID, line1: '1 New Road', line2: null, firstname: 'Robert' } });

      expect((await read(before.id)).address).toEqual({ ...before.address, line1: '1 New Road', line2: null, firstname: 'Robert' });
    });

    it('refuses a bad country code at /contact/address/countryCode', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ address: anAddressPayload() }));

      const sut = await update(id, { address: { countryCode: 'GBR' } });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/address/countryCode', code: 'invalid_country_code' }]);
    });
  });

  describe('tags', () => {
    it('replaces the whole list', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload({ tags: { contact: ['vip', 'trade'] } }));

      await updated(id, { tags: { contact: ['wholesale', 'vip'] } });

      expect((await read(id)).tags).toEqual({ contact: ['wholesale', 'vip'] });
    });

    it('clears the list with an empty one', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload({ tags: { contact: ['vip'] } }));

      await updated(id, { tags: { contact: [] } });

      expect((await read(id)).tags).toEqual({ contact: [] });
    });

    it.each([
      ['a list', ['vip']],
      ['another property', { contact: [], other: [] }],
      ['a number in the list', { contact: [1] }],
    ])('refuses tags given as %s with invalid_tags', async (_case, tags) => {
      const { id } = await aCreatedContact(api, token, aGuestPayload({ tags: { contact: ['vip'] } }));

      const sut = await update(id, { tags });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual(
        expect.objectContaining({ pointer: expect.stringMatching(/^\/contact\/tags/), code: 'invalid_tags' }),
      );
      expect((await read(id)).tags).toEqual({ contact: ['vip'] });
    });
  });

  describe('accessRoles replace the whole set', () => {
    let none: string;
    let email: string;
    let admin: string;

    beforeAll(async () => {
      [none, email, admin] = [await aRole(api, token, 'none'), await aRole(api, token, 'email'), await aRole(api, token, 'admin')];
    });

    it('revokes what is left out and grants what is new by its approval method, keeping what is kept', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ accessRoles: [none, email] }));

      await updated(id, { accessRoles: [email, admin] });

      expect((await read(id)).accessRoles).toEqual([
        { reference: email, status: 'pending', expires: null, pendingReason: 'email_verification' },
        { reference: admin, status: 'pending', expires: null, pendingReason: 'admin_approval' },
      ]);
      expect((await streamEvents(id)).filter((e) => e.type === 'RoleRevoked').map((e) => e.data)).toEqual([
        { reference: none, reason: 'removed' },
      ]);
    });

    it('revokes every grant for an empty list', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ accessRoles: [none, admin] }));

      expect((await updated(id, { accessRoles: [] })).accessRoles).toEqual([]);
    });

    it('grants a kept role again with a new expiry, and bypasses approval with status active', async () => {
      const { id } = await aCreatedContact(api, token, aUserPayload({ accessRoles: [none, admin] }));

      await updated(id, {
        accessRoles: [
          { reference: none, expires: '2030-01-01T02:00:00+02:00' },
          { reference: admin, status: 'active' },
        ],
      });

      expect((await read(id)).accessRoles).toEqual([
        { reference: none, status: 'active', expires: '2030-01-01T00:00:00+00:00' },
        { reference: admin, status: 'active', expires: null },
      ]);
    });

    it('writes nothing for a set re-sent unchanged, and keeps an active grant active when re-sent as a string', async () => {
      const before = await aCreatedContact(api, token, aUserPayload({ accessRoles: [{ reference: admin, status: 'active' }, email] }));

      expect(await updated(before.id, { accessRoles: [admin, { reference: email }] })).toEqual(before);
    });

    it('leaves the grants alone when accessRoles is not sent', async () => {
      const before = await aCreatedContact(api, token, aUserPayload({ accessRoles: [none, email] }));

      expect((await updated(before.id, { firstname: 'Robert' })).accessRoles).toEqual(before.accessRoles);
    });

    it.each([
      ['an unknown reference', (): unknown[] => [none, 'no-such-role'], '/contact/accessRoles/1', 'unknown_access_role'],
      [
        'a past expiry',
        (): unknown[] => [{ reference: none, expires: '2020-01-01T00:00:00+00:00' }],
        '/contact/accessRoles/0/expires',
        'expires_in_past',
      ],
      ['a role twice', (): unknown[] => [none, { reference: none }], '/contact/accessRoles/1/reference', 'duplicate_access_role'],
      ['a bad status', (): unknown[] => [{ reference: none, status: 'on' }], '/contact/accessRoles/0/status', 'invalid_status'],
    ])('refuses %s, revoking nothing', async (_case, accessRoles, pointer, code) => {
      const before = await aCreatedContact(api, token, aUserPayload({ accessRoles: [email] }));

      const sut = await update(before.id, { accessRoles: accessRoles() });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer, code }]);
      expect(await read(before.id)).toEqual(before);
    });

    it('are ignored for a guest, unknown references included', async () => {
      const before = await aCreatedContact(api, token, aGuestPayload());

      expect(await updated(before.id, { accessRoles: [none, 'no-such-role'] })).toEqual(before);
    });
  });

  describe('If-Match', () => {
    it('updates when it names the current version, answering with the next ETag', async () => {
      const before = await aCreatedContact(api, token, aGuestPayload());

      const sut = await update(before.id, { lastname: 'Smith' }, {}, { 'if-match': `"${before.version}"` });

      expect(sut.statusCode).toBe(200);
      expect(sut.headers.etag).toBe(`"${before.version + 1}"`);
    });

    it('accepts a weak ETag and *', async () => {
      const before = await aCreatedContact(api, token, aGuestPayload());

      expect((await update(before.id, { lastname: 'One' }, {}, { 'if-match': `W/"${before.version}"` })).statusCode).toBe(200);
      expect((await update(before.id, { lastname: 'Two' }, {}, { 'if-match': '*' })).statusCode).toBe(200);
    });

    it.each([
      ['an older version', (v: number): number => v - 1],
      ['a later version', (v: number): number => v + 5],
    ])('is a 412 problem for %s, changing nothing', async (_case, versionOf) => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());
      const before = await updated(id, { lastname: 'Smith' });

      const sut = await update(id, { lastname: 'Jones' }, {}, { 'if-match': `"${versionOf(before.version)}"` });

      expect(sut.statusCode).toBe(412);
      expect(problemOf(sut)).toMatchObject({ type: '/problems/stale_version', status: 412 });
      expect(sut.headers.etag).toBe(`"${before.version}"`);
      expect(await read(id)).toEqual(before);
    });

    it.each(['garbage', '3', '"three"', '"-1"', '"1", "2"', '""', 'W/3'])(
      'refuses If-Match %j with 400 invalid_if_match',
      async (ifMatch) => {
        const before = await aCreatedContact(api, token, aGuestPayload());

        const sut = await update(before.id, { lastname: 'Smith' }, {}, { 'if-match': ifMatch });

        expect(sut.statusCode).toBe(400);
        expect(errorsOf(sut)).toEqual([{ pointer: '', code: 'invalid_if_match' }]);
        expect(await read(before.id)).toEqual(before);
      },
    );

    it('is a 404 for an unknown contact, whatever version it names', async () => {
      const sut = await post(api, token, `/api/contacts/${UNKNOWN_ID}.json`, { contact: { lastname: 'Smith' } }, { 'if-match': '"1"' });

      expect(sut.statusCode).toBe(404);
    });
  });

  describe('scopes', () => {
    it('needs the contacts scope', async () => {
      const { id } = await aCreatedContact(api, token, aGuestPayload());
      const readOnly = await api.token(['contacts.readonly']);

      const sut = await post(api, readOnly, `/api/contacts/${id}.json`, { contact: { lastname: 'Smith' } });

      expect(sut.statusCode).toBe(403);
      problemOf(sut);
    });
  });
});
