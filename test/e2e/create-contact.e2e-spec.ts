import type { ContactView } from '@app/contacts';
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
  problemOf,
  uniqueEmail,
  UUID,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const CONTACT_KEYS = [
  'id',
  'type',
  'firstname',
  'lastname',
  'email',
  'company',
  'address',
  'accessRoles',
  'tags',
  'hasPassword',
  'invite',
  'version',
  'created',
  'updated',
].sort();
const ADDRESS_KEYS = ['id', 'firstname', 'lastname', 'company', 'line1', 'line2', 'line3', 'city', 'region', 'countryCode', 'zip'].sort();
// The harness's FixedClock stands at 2026-01-15T10:00:00Z.
const NOW = '2026-01-15T10:00:00+00:00';

describe('POST /api/contacts.json', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'create' }));
  });
  afterAll(() => api.close());

  describe('the response', () => {
    it('is 201 with a Location of the new contact and a body {contact} holding exactly the contract keys', async () => {
      const email = uniqueEmail('shape');
      const sut = await createContact(api, token, aUserPayload({ email, address: anAddressPayload() }));

      expect(sut.statusCode).toBe(201);
      expect(sut.headers['content-type']).toMatch(/^application\/json/);
      const body = sut.json<{ contact: ContactView }>();
      expect(Object.keys(body)).toEqual(['contact']);
      expect(Object.keys(body.contact).sort()).toEqual(CONTACT_KEYS);
      expect(Object.keys(body.contact.address ?? {}).sort()).toEqual(ADDRESS_KEYS);
      expect(body.contact.id).toMatch(UUID);
      expect(sut.headers.location).toBe(`/api/contacts/${body.contact.id}.json`);
      expect(sut.headers.etag).toBe(`"${body.contact.version}"`);
      expect(body.contact).toMatchObject({
        type: 'user',
        firstname: 'Ann',
        lastname: 'Lee',
        email,
        company: null,
        accessRoles: [],
        tags: { contact: [] },
        hasPassword: true,
        invite: null,
        created: NOW,
        updated: NOW,
      });
      expect(body.contact.version).toBeGreaterThanOrEqual(1);
    });

    it('gives dates in ATOM format with a +00:00 offset', async () => {
      const sut = contactOf(await createContact(api, token, aUserPayload({ password: undefined }), { invite: true }));

      const atom = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;
      expect(sut.created).toMatch(atom);
      expect(sut.updated).toMatch(atom);
      expect(sut.invite?.expiresAt).toMatch(atom);
    });

    it('ignores contact fields a client copied from an earlier response (id, version, dates)', async () => {
      const sentId = '00000000-0000-4000-8000-000000000000';
      const sut = contactOf(
        await createContact(api, token, aGuestPayload({ id: sentId, version: 9, created: '2000-01-01T00:00:00+00:00', hasPassword: true })),
      );

      expect(sut.id).not.toBe(sentId);
      expect(sut.created).toBe(NOW);
      expect(sut.hasPassword).toBe(false);
    });

    it('trims the email but keeps its case', async () => {
      const email = uniqueEmail('Trim.Case');
      const sut = contactOf(await createContact(api, token, aGuestPayload({ email: `  ${email}  ` })));

      expect(sut.email).toBe(email);
    });
  });

  describe('types', () => {
    it.each(['hq', 'HQ', 'admin', ''])('refuses type %j with type_not_allowed at /contact/type', async (type) => {
      const sut = await createContact(api, token, aUserPayload({ type }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/type', code: 'type_not_allowed' });
    });

    it('refuses a type that is not a string with type_not_allowed', async () => {
      const sut = await createContact(api, token, aUserPayload({ type: 7 }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/type', code: 'type_not_allowed' });
    });

    it('refuses a contact without a type with required at /contact/type', async () => {
      const sut = await createContact(api, token, aUserPayload({ type: undefined }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/type', code: 'required' });
    });

    it('refuses a body without a contact with required at /contact', async () => {
      const sut = await createContact(api, token, undefined as never);

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact', code: 'required' });
    });
  });

  describe('required fields', () => {
    it.each([
      ['user', aUserPayload, ['firstname', 'lastname', 'email']],
      ['guest', aGuestPayload, ['firstname', 'lastname', 'email']],
      ['branch', aBranchPayload, ['company', 'email']],
      ['recipient', aRecipientPayload, ['email']],
    ] as const)('refuses a %s missing each of %j with required at its pointer', async (_type, payload, fields) => {
      for (const field of fields) {
        const sut = await createContact(api, token, payload({ [field]: undefined }));

        expect(sut.statusCode).toBe(422);
        expect(errorsOf(sut)).toContainEqual({ pointer: `/contact/${field}`, code: 'required' });
      }
    });

    it('lists every missing field of a user in one refusal', async () => {
      const sut = await createContact(api, token, { type: 'user', password: 'secret123' });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual(
        expect.arrayContaining([
          { pointer: '/contact/firstname', code: 'required' },
          { pointer: '/contact/lastname', code: 'required' },
          { pointer: '/contact/email', code: 'required' },
        ]),
      );
    });

    it.each([null, '', '   '])('treats a firstname of %j as missing', async (firstname) => {
      const sut = await createContact(api, token, aGuestPayload({ firstname }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/firstname', code: 'required' });
    });

    it('accepts a recipient with only an email', async () => {
      const email = uniqueEmail('only');
      const sut = await createContact(api, token, { type: 'recipient', email });

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut)).toMatchObject({ type: 'recipient', email, firstname: null, lastname: null, company: null });
    });

    it.each(['not-an-email', 'a@', '@example.com', 'two words@example.com'])('refuses the email %j with invalid_email', async (email) => {
      const sut = await createContact(api, token, aGuestPayload({ email }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/email', code: 'invalid_email' });
    });

    it('refuses a field the contract does not know with unknown_field at its pointer', async () => {
      const sut = await createContact(api, token, aGuestPayload({ nickname: 'Gussie' }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/nickname', code: 'unknown_field' });
    });
  });

  describe('password', () => {
    it.each([
      ['abc1', 'password_too_short'],
      ['a1b2c3d', 'password_too_short'],
      // Seven code points, though eleven UTF-16 units: characters are counted, not units.
      ['😀😀😀😀a1b', 'password_too_short'],
      ['abcdefgh', 'password_too_weak'],
      ['12345678', 'password_too_weak'],
      ['!!!!????', 'password_too_weak'],
      [`a1${'x'.repeat(71)}`, 'password_too_long'],
      // 36 × 2-byte "é" + "1" = 73 bytes in 37 characters: bcrypt's limit is bytes.
      [`${'é'.repeat(36)}1`, 'password_too_long'],
      [`a1${'x'.repeat(2000)}`, 'password_too_long'],
    ])('refuses %j with %s at /contact/password', async (password, code) => {
      const sut = await createContact(api, token, aUserPayload({ password }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/password', code });
    });

    it.each([
      ['exactly 8 characters', 'abcdefg1'],
      ['exactly 72 bytes', `a1${'x'.repeat(70)}`],
      ['72 bytes of multibyte letters', `${'é'.repeat(35)}12`],
      ['non-Latin letters and digits', 'пароль123'],
      ['emoji with letters and digits', '😀😀😀😀a1b2'],
    ])('accepts a password of %s', async (_case, password) => {
      const sut = await createContact(api, token, aUserPayload({ password }));

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut).hasPassword).toBe(true);
    });

    it('refuses a password that is not a string', async () => {
      const sut = await createContact(api, token, aUserPayload({ password: 12345678 }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/password', code: 'invalid_type' });
    });

    it('refuses a user with neither a password nor an invite with required at /contact/password', async () => {
      const sut = await createContact(api, token, aUserPayload({ password: undefined }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/password', code: 'required' }]);
    });

    it('refuses a user with a password of null and invite false', async () => {
      const sut = await createContact(api, token, aUserPayload({ password: null }), { invite: false });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/password', code: 'required' });
    });
  });

  describe('invite', () => {
    it('creates a user without a password when invite is true: invite pending, no password', async () => {
      const sut = await createContact(api, token, aUserPayload({ password: undefined }), { invite: true });

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut)).toMatchObject({
        hasPassword: false,
        invite: { status: 'pending', expiresAt: '2026-01-22T10:00:00+00:00' },
      });
    });

    it('keeps a temporary password given with an invite', async () => {
      const sut = contactOf(await createContact(api, token, aUserPayload(), { invite: true }));

      expect(sut.hasPassword).toBe(true);
      expect(sut.invite?.status).toBe('pending');
    });

    it.each([
      ['guest', aGuestPayload],
      ['branch', aBranchPayload],
      ['recipient', aRecipientPayload],
    ] as const)('refuses an invite for a %s with invite_not_allowed at /invite', async (_type, payload) => {
      const sut = await createContact(api, token, payload(), { invite: true });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/invite', code: 'invite_not_allowed' });
    });

    it('refuses an invite that is not a boolean with invalid_type at /invite', async () => {
      const sut = await createContact(api, token, aUserPayload(), { invite: 'yes' });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/invite', code: 'invalid_type' });
    });
  });

  describe('branch', () => {
    it('ignores names and password', async () => {
      const sut = await createContact(api, token, aBranchPayload({ firstname: 'Bea', lastname: 'Branch', password: 'secret123' }));

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut)).toMatchObject({
        type: 'branch',
        firstname: null,
        lastname: null,
        company: 'Acme Ipswich',
        hasPassword: false,
      });
    });

    it('ignores a password that would break the password policy', async () => {
      const sut = await createContact(api, token, aBranchPayload({ password: 'weak' }));

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut).hasPassword).toBe(false);
    });
  });

  describe('guest and recipient', () => {
    it.each([
      ['guest', aGuestPayload],
      ['recipient', aRecipientPayload],
    ] as const)('a %s holds no password even when one is sent', async (_type, payload) => {
      const sut = contactOf(await createContact(api, token, payload({ password: 'secret123' })));

      expect(sut.hasPassword).toBe(false);
    });
  });

  describe('address', () => {
    it('inherits firstname, lastname and company from the contact', async () => {
      const sut = contactOf(await createContact(api, token, aUserPayload({ company: 'Bobsworth Ltd', address: anAddressPayload() })));

      expect(sut.address).toEqual(anAddressView({ company: 'Bobsworth Ltd' }));
    });

    it('keeps names and company given on the address itself', async () => {
      const sut = contactOf(
        await createContact(
          api,
          token,
          aUserPayload({ company: 'Own Co', address: anAddressPayload({ firstname: 'Al', lastname: 'Other', company: 'Other Co' }) }),
        ),
      );

      expect(sut.address).toMatchObject({ firstname: 'Al', lastname: 'Other', company: 'Other Co' });
    });

    it('gets a new id even when the address is sent with one', async () => {
      const first = contactOf(await createContact(api, token, aUserPayload({ address: anAddressPayload() })));
      const firstAddressId = first.address?.id;

      const sut = contactOf(await createContact(api, token, aUserPayload({ address: anAddressPayload({ id: firstAddressId }) })));

      expect(firstAddressId).toMatch(UUID);
      expect(sut.address?.id).toMatch(UUID);
      expect(sut.address?.id).not.toBe(firstAddressId);
    });

    it('gives a branch address the branch company and no names', async () => {
      const sut = contactOf(await createContact(api, token, aBranchPayload({ firstname: 'Ignored', address: anAddressPayload() })));

      expect(sut.address).toMatchObject({ firstname: null, lastname: null, company: 'Acme Ipswich' });
    });

    it('upper-cases the country code', async () => {
      const sut = contactOf(await createContact(api, token, aGuestPayload({ address: anAddressPayload({ countryCode: 'gb' }) })));

      expect(sut.address?.countryCode).toBe('GB');
    });

    it('refuses a country code that is not two letters', async () => {
      const sut = await createContact(api, token, aGuestPayload({ address: anAddressPayload({ countryCode: 'GBR' }) }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/address/countryCode', code: 'invalid_country_code' });
    });

    it('refuses an address that is not an object', async () => {
      const sut = await createContact(api, token, aGuestPayload({ address: '2 Sorrel Horse Mews' }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut).map((e) => e.pointer)).toContain('/contact/address');
    });

    it('shows no address when none was sent', async () => {
      const sut = contactOf(await createContact(api, token, aGuestPayload()));

      expect(sut.address).toBeNull();
    });
  });

  describe('accessRoles', () => {
    it.each([
      ['none', { status: 'active' }],
      ['email', { status: 'pending', pendingReason: 'email_verification' }],
      ['admin', { status: 'pending', pendingReason: 'admin_approval' }],
    ] as const)('grants a role given as a string by its approval method %s', async (method, expected) => {
      const reference = await aRole(api, token, method);

      const sut = contactOf(await createContact(api, token, aUserPayload({ accessRoles: [reference] })));

      expect(sut.accessRoles).toEqual([{ reference, expires: null, ...expected }]);
    });

    it('keeps a future ATOM expiry given in the object form', async () => {
      const reference = await aRole(api, token, 'none');
      const expires = '2030-01-01T00:00:00+00:00';

      const sut = contactOf(await createContact(api, token, aUserPayload({ accessRoles: [{ reference, expires }] })));

      expect(sut.accessRoles).toEqual([{ reference, status: 'active', expires }]);
    });

    it('shows an expiry given with another offset as the same instant in UTC', async () => {
      const reference = await aRole(api, token, 'none');

      const sut = contactOf(
        await createContact(api, token, aUserPayload({ accessRoles: [{ reference, expires: '2030-01-01T02:00:00+02:00' }] })),
      );

      expect(sut.accessRoles[0]?.expires).toBe('2030-01-01T00:00:00+00:00');
    });

    it.each(['email', 'admin'] as const)('grants a %s role at once when the object form says status active', async (method) => {
      const reference = await aRole(api, token, method);

      const sut = contactOf(
        await createContact(
          api,
          token,
          aUserPayload({ accessRoles: [{ reference, status: 'active', expires: '2030-06-01T12:00:00+00:00' }] }),
        ),
      );

      expect(sut.accessRoles).toEqual([{ reference, status: 'active', expires: '2030-06-01T12:00:00+00:00' }]);
    });

    it('applies the approval method to an object without a status', async () => {
      const reference = await aRole(api, token, 'admin');

      const sut = contactOf(await createContact(api, token, aUserPayload({ accessRoles: [{ reference }] })));

      expect(sut.accessRoles).toEqual([{ reference, status: 'pending', expires: null, pendingReason: 'admin_approval' }]);
    });

    it('grants roles to an invited user without a password', async () => {
      const reference = await aRole(api, token, 'email');

      const sut = contactOf(
        await createContact(api, token, aUserPayload({ password: undefined, accessRoles: [reference] }), { invite: true }),
      );

      expect(sut.accessRoles).toEqual([{ reference, status: 'pending', expires: null, pendingReason: 'email_verification' }]);
    });

    it.each([
      ['in the past', '2020-01-01T00:00:00+00:00'],
      ['at this very moment', NOW],
    ])('refuses an expiry %s with expires_in_past at /contact/accessRoles/0/expires', async (_case, expires) => {
      const reference = await aRole(api, token, 'none');

      const sut = await createContact(api, token, aUserPayload({ accessRoles: [{ reference, expires }] }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/accessRoles/0/expires', code: 'expires_in_past' });
    });

    it.each(['2030-01-01', 'tomorrow', '2030-02-31T00:00:00+00:00', '2030-01-01 00:00:00'])(
      'refuses the expiry %j, which is not an ATOM date',
      async (expires) => {
        const reference = await aRole(api, token, 'none');

        const sut = await createContact(api, token, aUserPayload({ accessRoles: [{ reference, expires }] }));

        expect(sut.statusCode).toBe(422);
        expect(errorsOf(sut).map((e) => e.pointer)).toContain('/contact/accessRoles/0/expires');
      },
    );

    it('refuses an unknown reference given as a string with unknown_access_role', async () => {
      const sut = await createContact(api, token, aUserPayload({ accessRoles: ['no-such-role'] }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/accessRoles/0', code: 'unknown_access_role' });
    });

    it('refuses an unknown reference in the object form, pointing at its reference', async () => {
      const known = await aRole(api, token, 'none');

      const sut = await createContact(api, token, aUserPayload({ accessRoles: [known, { reference: 'no-such-role' }] }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/accessRoles/1/reference', code: 'unknown_access_role' });
    });

    it('refuses the same role twice', async () => {
      const reference = await aRole(api, token, 'none');

      const sut = await createContact(api, token, aUserPayload({ accessRoles: [reference, { reference }] }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut).map((e) => e.pointer)).toContain('/contact/accessRoles/1/reference');
    });

    it('refuses a status other than active or pending', async () => {
      const reference = await aRole(api, token, 'none');

      const sut = await createContact(api, token, aUserPayload({ accessRoles: [{ reference, status: 'approved' }] }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut).map((e) => e.pointer)).toContain('/contact/accessRoles/0/status');
    });

    it.each([[[42]], [[null]], [[['nested']]], ['customer'], [{ reference: 'customer' }]])(
      'refuses accessRoles %j with a 422, never a 500',
      async (accessRoles) => {
        const sut = await createContact(api, token, aUserPayload({ accessRoles }));

        expect(sut.statusCode).toBe(422);
        expect(errorsOf(sut).every((e) => e.pointer.startsWith('/contact/accessRoles'))).toBe(true);
      },
    );

    it.each([
      ['guest', aGuestPayload],
      ['branch', aBranchPayload],
      ['recipient', aRecipientPayload],
    ] as const)('ignores accessRoles for a %s, even unknown ones', async (_type, payload) => {
      const known = await aRole(api, token, 'none');

      const sut = await createContact(
        api,
        token,
        payload({ accessRoles: [known, 'no-such-role', { reference: 'x', expires: '2001-01-01T00:00:00+00:00' }] }),
      );

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut).accessRoles).toEqual([]);
    });
  });

  describe('tags', () => {
    it('keeps {"contact": [...]} as given, without duplicates', async () => {
      const sut = contactOf(await createContact(api, token, aGuestPayload({ tags: { contact: ['vip', 'trade', 'vip'] } })));

      expect(sut.tags).toEqual({ contact: ['vip', 'trade'] });
    });

    it('accepts an empty tag list', async () => {
      const sut = contactOf(await createContact(api, token, aGuestPayload({ tags: { contact: [] } })));

      expect(sut.tags).toEqual({ contact: [] });
    });

    it.each([
      ['a bare array', ['vip'], '/contact/tags'],
      ['a string', 'vip', '/contact/tags'],
      ['an object without contact', {}, '/contact/tags/contact'],
      ['contact as a string', { contact: 'vip' }, '/contact/tags/contact'],
      ['contact holding a number', { contact: ['vip', 7] }, '/contact/tags/contact'],
      ['contact holding an object', { contact: [{ name: 'vip' }] }, '/contact/tags/contact'],
    ])('refuses tags as %s with invalid_tags', async (_case, tags, pointer) => {
      const sut = await createContact(api, token, aGuestPayload({ tags }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer, code: 'invalid_tags' });
    });

    it('refuses tags with a property besides contact', async () => {
      const sut = await createContact(api, token, aGuestPayload({ tags: { contact: ['vip'], order: ['x'] } }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/tags/order', code: 'invalid_tags' });
    });
  });

  describe('company', () => {
    it('accepts 200 characters', async () => {
      const sut = await createContact(api, token, aBranchPayload({ company: 'c'.repeat(200) }));

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut).company).toHaveLength(200);
    });

    it.each([
      ['branch', aBranchPayload],
      ['user', aUserPayload],
    ] as const)('refuses more than 200 characters on a %s with too_long', async (_type, payload) => {
      const sut = await createContact(api, token, payload({ company: 'c'.repeat(201) }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/company', code: 'too_long' });
    });

    it.each(['<b>Acme</b>', 'Acme <script>alert(1)</script>', 'Acme</div>', 'Acme &amp; Sons', 'Acme &#60;', '<!-- x -->'])(
      'refuses the HTML %j with html_not_allowed',
      async (company) => {
        const sut = await createContact(api, token, aBranchPayload({ company }));

        expect(sut.statusCode).toBe(422);
        expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/company', code: 'html_not_allowed' });
      },
    );

    it.each(['Smith & Sons', '1 < 2 Ltd', 'Q&A Ltd'])('accepts the plain text %j', async (company) => {
      const sut = await createContact(api, token, aBranchPayload({ company }));

      expect(sut.statusCode).toBe(201);
      expect(contactOf(sut).company).toBe(company);
    });

    it('applies the same rules to the address company', async () => {
      const sut = await createContact(api, token, aGuestPayload({ address: anAddressPayload({ company: '<i>x</i>' }) }));

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/contact/address/company', code: 'html_not_allowed' });
    });
  });

  describe('email uniqueness', () => {
    it('refuses a second user whose email differs only in case and spaces with 409 email_taken', async () => {
      const email = uniqueEmail('dup');
      await aCreatedContact(api, token, aUserPayload({ email }));

      const sut = await createContact(api, token, aUserPayload({ email: `  ${email.toUpperCase()} ` }));

      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
    });

    it('allows guests to share an email, with each other and with a user', async () => {
      const email = uniqueEmail('guests');
      await aCreatedContact(api, token, aUserPayload({ email }));

      const first = await createContact(api, token, aGuestPayload({ email }));
      const second = await createContact(api, token, aGuestPayload({ email: email.toUpperCase() }));

      expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
      expect(contactOf(first).id).not.toBe(contactOf(second).id);
    });

    it("lets a branch share a user's email", async () => {
      const email = uniqueEmail('shared');
      await aCreatedContact(api, token, aUserPayload({ email }));

      const sut = await createContact(api, token, aBranchPayload({ email }));

      expect(sut.statusCode).toBe(201);
    });

    it("lets a user take a branch's email", async () => {
      const email = uniqueEmail('shared');
      await aCreatedContact(api, token, aBranchPayload({ email }));

      const sut = await createContact(api, token, aUserPayload({ email }));

      expect(sut.statusCode).toBe(201);
    });

    it('refuses two branches with one email', async () => {
      const email = uniqueEmail('branches');
      await aCreatedContact(api, token, aBranchPayload({ email }));

      const sut = await createContact(api, token, aBranchPayload({ email: email.toUpperCase() }));

      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
    });

    it('refuses a recipient when a user has the email', async () => {
      const email = uniqueEmail('taken');
      await aCreatedContact(api, token, aUserPayload({ email }));

      const sut = await createContact(api, token, aRecipientPayload({ email: ` ${email.toUpperCase()}` }));

      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
    });

    it('refuses two recipients with one email', async () => {
      const email = uniqueEmail('recipients');
      await aCreatedContact(api, token, aRecipientPayload({ email }));

      const sut = await createContact(api, token, aRecipientPayload({ email }));

      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
    });

    it('does not let a refused user hold the email', async () => {
      const email = uniqueEmail('refused');
      const refused = await createContact(api, token, aUserPayload({ email, password: 'short1' }));

      const sut = await createContact(api, token, aUserPayload({ email }));

      expect(refused.statusCode).toBe(422);
      expect(sut.statusCode).toBe(201);
    });

    it('answers a conflict with a problem document titled Conflict', async () => {
      const email = uniqueEmail('conflict');
      await aCreatedContact(api, token, aUserPayload({ email }));

      const sut = problemOf(await createContact(api, token, aUserPayload({ email })));

      expect(sut).toMatchObject({ status: 409, title: 'Conflict', type: expect.stringContaining('email_taken') });
    });
  });
});
