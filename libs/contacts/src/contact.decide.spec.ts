import type { AccessRoleInput, AddressInput, ContactInput } from './contact.commands.js';
import { checkCreate, decide } from './contact.decide.js';
import { ApprovalBypassForbidden, ContactAlreadyExists, ContactRejected } from './contact.errors.js';
import type { ContactEvent, ContactType, RoleGranted } from './contact.events.js';
import { fold } from './contact.state.js';
import {
  aBranch,
  aCatalogue,
  aContact,
  aContactCreated,
  aContactId,
  aCreateCommand,
  aGuest,
  anAddress,
  anInvite,
  anInviteIssued,
  aPasswordHash,
  aPrimaryAddressSet,
  aRecipient,
  aUser,
  given,
  recorded,
} from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');

const typesOf = (events: ContactEvent[]): string[] => events.map((e) => e.type);
/** What `act` threw (it must throw). */
const refusalOf = (act: () => unknown): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
};

const grantsIn = (events: ContactEvent[]): RoleGranted['data'][] => events.flatMap((e) => (e.type === 'RoleGranted' ? [e.data] : []));

describe(decide.name, () => {
  const sut = decide;

  describe('contact types', () => {
    it.each([
      ['user', aUser()],
      ['guest', aGuest()],
      ['branch', aBranch()],
      ['recipient', aRecipient()],
    ])('creates a %s', (type, input) => {
      const [created] = sut(aCreateCommand(input), null, now);

      expect(created).toEqual({ type: 'ContactCreated', data: expect.objectContaining({ contactId: aContactId, contactType: type }) });
    });

    it.each(['hq', 'admin', 'User', ''])('refuses the type %p, and only for that', (type) => {
      given()
        .when(aCreateCommand(aUser({ type: type as ContactType, firstname: null, company: '<b>x</b>' })), now)
        .thenRejected([{ field: '/contact/type', code: 'type_not_allowed' }]);
    });
  });

  describe('required fields', () => {
    it.each([
      ['user', aUser({ firstname: null }), '/contact/firstname'],
      ['user', aUser({ lastname: undefined }), '/contact/lastname'],
      ['user', aUser({ email: null }), '/contact/email'],
      ['guest', aGuest({ firstname: undefined }), '/contact/firstname'],
      ['guest', aGuest({ lastname: null }), '/contact/lastname'],
      ['guest', aGuest({ email: undefined }), '/contact/email'],
      ['branch', aBranch({ company: null }), '/contact/company'],
      ['branch', aBranch({ email: null }), '/contact/email'],
      ['recipient', aRecipient({ email: undefined }), '/contact/email'],
    ])('a %s needs %s', (_, input, field) => {
      given()
        .when(aCreateCommand(input), now)
        .thenRejected([{ field, code: 'required' }]);
    });

    it.each([
      ['an empty string', ''],
      ['only whitespace', ' \t\n'],
    ])('counts %s as missing', (_, blank) => {
      given()
        .when(aCreateCommand(aGuest({ firstname: blank })), now)
        .thenRejected([{ field: '/contact/firstname', code: 'required' }]);
    });

    it('reports every missing field of a user at once, the password last', () => {
      given()
        .when(aCreateCommand({ type: 'user' }, { passwordHash: null }), now)
        .thenRejected([
          { field: '/contact/firstname', code: 'required' },
          { field: '/contact/lastname', code: 'required' },
          { field: '/contact/email', code: 'required' },
          { field: '/contact/password', code: 'required' },
        ]);
    });

    it('needs nothing but an email from a recipient', () => {
      given()
        .when(aCreateCommand({ type: 'recipient', email: 'reader@example.com' }), now)
        .then([
          {
            type: 'ContactCreated',
            data: {
              contactId: aContactId,
              contactType: 'recipient',
              firstname: null,
              lastname: null,
              email: 'reader@example.com',
              company: null,
            },
          },
        ]);
    });

    it('needs no names from a branch', () => {
      expect(() => sut(aCreateCommand(aBranch({ firstname: null, lastname: null })), null, now)).not.toThrow();
    });

    it('needs no company from a user', () => {
      expect(() => sut(aCreateCommand(aUser({ company: null })), null, now)).not.toThrow();
    });
  });

  describe('a user', () => {
    it('is created with its password hash', () => {
      given()
        .when(aCreateCommand(aUser({ company: 'Bobsworth Ltd' })), now)
        .then([
          {
            type: 'ContactCreated',
            data: {
              contactId: aContactId,
              contactType: 'user',
              firstname: 'Bob',
              lastname: 'Bobsworth',
              email: 'bob@example.com',
              company: 'Bobsworth Ltd',
            },
          },
          { type: 'PasswordSet', data: { passwordHash: aPasswordHash } },
        ]);
    });

    it('needs a password when not invited', () => {
      given()
        .when(aCreateCommand(aUser(), { passwordHash: null }), now)
        .thenRejected([{ field: '/contact/password', code: 'required' }]);
    });

    it('needs no password when invited', () => {
      given()
        .when(aCreateCommand(aUser(), { passwordHash: null, invite: anInvite() }), now)
        .then([aContactCreated(), anInviteIssued({ tokenHash: 'invite-hash-at-2' })]);
    });

    it('may have a temporary password and an invite', () => {
      const events = sut(aCreateCommand(aUser(), { invite: anInvite() }), null, now);

      expect(typesOf(events)).toEqual(['ContactCreated', 'PasswordSet', 'InviteIssued']);
    });

    it('trims names and email, keeping the case of the email', () => {
      const [created] = sut(
        aCreateCommand(aUser({ firstname: '  Bob ', lastname: '\tBobsworth', email: ' Bob@Example.com  ', company: '   ' })),
        null,
        now,
      );

      expect(created).toEqual(aContactCreated({ firstname: 'Bob', lastname: 'Bobsworth', email: 'Bob@Example.com', company: null }));
    });
  });

  describe('a branch', () => {
    it('ignores firstname, lastname and password', () => {
      given()
        .when(aCreateCommand(aBranch({ firstname: 'Bob', lastname: 'Bobsworth' }), { passwordHash: aPasswordHash }), now)
        .then([
          {
            type: 'ContactCreated',
            data: {
              contactId: aContactId,
              contactType: 'branch',
              firstname: null,
              lastname: null,
              email: 'ipswich@example.com',
              company: 'Bobsworth Ipswich',
            },
          },
        ]);
    });
  });

  describe('only users hold a password', () => {
    it.each([
      ['guest', aGuest()],
      ['recipient', aRecipient()],
    ])('a %s given a password hash sets none', (_, input) => {
      const events = sut(aCreateCommand(input, { passwordHash: aPasswordHash }), null, now);

      expect(typesOf(events)).toEqual(['ContactCreated']);
    });
  });

  describe('invite', () => {
    it('issues the invite the command carries, its token derived from the version the event takes', () => {
      const invite = anInvite({ expiresAt: '2026-01-22T10:00:00+00:00', tokenHashAt: (version) => `hash-for-version-${version}` });

      const events = sut(aCreateCommand(aUser(), { invite }), null, now);

      expect(events.at(-1)).toEqual({
        type: 'InviteIssued',
        data: { tokenHash: 'hash-for-version-3', expiresAt: '2026-01-22T10:00:00+00:00' },
      });
      expect(events).toHaveLength(3);
    });

    it.each([
      ['guest', aGuest()],
      ['branch', aBranch()],
      ['recipient', aRecipient()],
    ])('is refused for a %s', (_, input) => {
      given()
        .when(aCreateCommand(input, { invite: anInvite() }), now)
        .thenRejected([{ field: '/invite', code: 'invite_not_allowed' }]);
    });

    it('is not issued when not asked for', () => {
      expect(typesOf(sut(aCreateCommand(aUser()), null, now))).not.toContain('InviteIssued');
    });
  });

  describe('company', () => {
    it('accepts 200 characters', () => {
      const [created] = sut(aCreateCommand(aBranch({ company: 'c'.repeat(200) })), null, now);

      expect(created).toMatchObject({ type: 'ContactCreated', data: { company: 'c'.repeat(200) } });
    });

    it('refuses more than 200 characters', () => {
      given()
        .when(aCreateCommand(aBranch({ company: 'c'.repeat(201) })), now)
        .thenRejected([{ field: '/contact/company', code: 'too_long' }]);
    });

    it.each(['<b>Acme</b>', 'Acme <script>alert(1)</script>', 'Smith &amp; Sons', 'Acme</div>'])('refuses HTML: %p', (company) => {
      given()
        .when(aCreateCommand(aUser({ company })), now)
        .thenRejected([{ field: '/contact/company', code: 'html_not_allowed' }]);
    });

    it('allows a plain ampersand', () => {
      const [created] = sut(aCreateCommand(aBranch({ company: 'Smith & Sons' })), null, now);

      expect(created).toMatchObject({ type: 'ContactCreated', data: { company: 'Smith & Sons' } });
    });

    it('judges the address company by the same rules', () => {
      given()
        .when(aCreateCommand(aUser({ address: anAddress({ company: '<i>Acme</i>' }) })), now)
        .thenRejected([{ field: '/contact/address/company', code: 'html_not_allowed' }]);
      given()
        .when(aCreateCommand(aUser({ address: anAddress({ company: 'a'.repeat(201) }) })), now)
        .thenRejected([{ field: '/contact/address/company', code: 'too_long' }]);
    });
  });

  describe('address', () => {
    it('sets a primary address under the id the command brings, leaving names to be inherited', () => {
      given()
        .when(aCreateCommand(aUser({ address: anAddress() })), now)
        .then([aContactCreated(), { type: 'PasswordSet', data: { passwordHash: aPasswordHash } }, aPrimaryAddressSet()]);
    });

    it('never uses an id sent with the address', () => {
      const address = { ...anAddress(), id: 'sent-by-the-client' } as AddressInput;

      const events = sut(aCreateCommand(aUser({ address }), { addressId: 'new-address-id' }), null, now);

      expect(events).toContainEqual({ type: 'PrimaryAddressSet', data: { address: expect.objectContaining({ id: 'new-address-id' }) } });
      expect(JSON.stringify(events)).not.toContain('sent-by-the-client');
    });

    it('keeps names and company given to the address, blanks as null, the country upper-cased', () => {
      const input = aUser({
        address: anAddress({ firstname: ' Robert ', lastname: 'Smith', company: 'Acme', line3: '', zip: '  ', countryCode: 'gb' }),
      });

      const set = sut(aCreateCommand(input), null, now).find((e) => e.type === 'PrimaryAddressSet');

      expect(set?.data).toEqual({
        address: expect.objectContaining({
          firstname: 'Robert',
          lastname: 'Smith',
          company: 'Acme',
          line3: null,
          zip: null,
          countryCode: 'GB',
        }),
      });
    });

    it('sets none when none is given', () => {
      expect(typesOf(sut(aCreateCommand(aUser({ address: null })), null, now))).not.toContain('PrimaryAddressSet');
    });
  });

  describe('access roles', () => {
    const roles = (accessRoles: AccessRoleInput[]): ContactInput => aUser({ accessRoles });

    it('grants a string reference as its approval method says', () => {
      const events = sut(aCreateCommand(roles(['customer', 'newsletter', 'trade-account'])), null, now);

      expect(grantsIn(events)).toEqual([
        { reference: 'customer', status: 'active', expires: null, pendingReason: null },
        { reference: 'newsletter', status: 'pending', expires: null, pendingReason: 'email_verification' },
        { reference: 'trade-account', status: 'pending', expires: null, pendingReason: 'admin_approval' },
      ]);
    });

    it('grants an object with status active at once, whatever the approval method, for a client that may bypass approval, and names it', () => {
      const events = sut(
        aCreateCommand(
          roles([
            { reference: 'trade-account', status: 'active' },
            { reference: 'newsletter', status: 'active' },
            { reference: 'customer', status: 'active' },
          ]),
          { approvalBypassBy: 'client-with-roles' },
        ),
        null,
        now,
      );

      expect(grantsIn(events)).toEqual([
        { reference: 'trade-account', status: 'active', expires: null, pendingReason: null, bypassedBy: 'client-with-roles' },
        { reference: 'newsletter', status: 'active', expires: null, pendingReason: null, bypassedBy: 'client-with-roles' },
        { reference: 'customer', status: 'active', expires: null, pendingReason: null },
      ]);
    });

    it('refuses status active on an email or admin role for a client that may not bypass approval, pointing at each status', () => {
      const command = aCreateCommand(
        roles([
          { reference: 'customer', status: 'active' },
          { reference: 'trade-account', status: 'active' },
          { reference: 'newsletter', status: 'active' },
        ]),
        { approvalBypassBy: null },
      );

      const error = refusalOf(() => sut(command, null, now));

      expect(error).toBeInstanceOf(ApprovalBypassForbidden);
      expect((error as ApprovalBypassForbidden).errors.map((e) => [e.field, e.code])).toEqual([
        ['/contact/accessRoles/1/status', 'insufficient_scope'],
        ['/contact/accessRoles/2/status', 'insufficient_scope'],
      ]);
    });

    it('keeps who bypassed the approval in the event only: the grant holds its terms', () => {
      const events = sut(aCreateCommand(roles([{ reference: 'trade-account', status: 'active' }]), { approvalBypassBy: 'c1' }), null, now);

      expect(fold(recorded(events))?.grants).toEqual([
        { reference: 'trade-account', status: 'active', expires: null, pendingReason: null },
      ]);
    });

    it('lets any client grant a role without approval with status active, and asks nothing of a pending status', () => {
      const events = sut(
        aCreateCommand(
          roles([
            { reference: 'customer', status: 'active' },
            { reference: 'trade-account', status: 'pending' },
          ]),
        ),
        null,
        now,
      );

      expect(grantsIn(events).map((g) => g.status)).toEqual(['active', 'pending']);
    });

    it('applies the approval method to an object without status active', () => {
      const events = sut(aCreateCommand(roles([{ reference: 'trade-account' }, { reference: 'customer', status: 'pending' }])), null, now);

      expect(grantsIn(events)).toEqual([
        { reference: 'trade-account', status: 'pending', expires: null, pendingReason: 'admin_approval' },
        { reference: 'customer', status: 'active', expires: null, pendingReason: null },
      ]);
    });

    it('keeps a future expiry, in ATOM and UTC', () => {
      const events = sut(
        aCreateCommand(roles([{ reference: 'trade-account', expires: '2026-06-30T17:30:00+05:30', status: 'active' }]), {
          approvalBypassBy: 'client-with-roles',
        }),
        null,
        now,
      );

      expect(grantsIn(events)).toEqual([
        {
          reference: 'trade-account',
          status: 'active',
          expires: '2026-06-30T12:00:00+00:00',
          pendingReason: null,
          bypassedBy: 'client-with-roles',
        },
      ]);
    });

    it('keeps an expiry one second from now', () => {
      const events = sut(aCreateCommand(roles([{ reference: 'customer', expires: '2026-01-15T10:00:01Z' }])), null, now);

      expect(grantsIn(events)[0]?.expires).toBe('2026-01-15T10:00:01+00:00');
    });

    it('treats a null expiry as none', () => {
      const events = sut(aCreateCommand(roles([{ reference: 'customer', expires: null }])), null, now);

      expect(grantsIn(events)[0]?.expires).toBeNull();
    });

    it.each([
      ['in the past', '2018-01-01T00:00:00+00:00'],
      ['exactly now', '2026-01-15T10:00:00+00:00'],
      ['now, written in another offset', '2026-01-15T11:00:00+01:00'],
    ])('refuses an expiry %s', (_, expires) => {
      given()
        .when(aCreateCommand(roles([{ reference: 'customer', expires }])), now)
        .thenRejected([{ field: '/contact/accessRoles/0/expires', code: 'expires_in_past' }]);
    });

    it.each(['2030-02-31T00:00:00+00:00', '2030-01-01T00:00:00', '2030-01-01', 'tomorrow'])('refuses the malformed date %p', (expires) => {
      given()
        .when(aCreateCommand(roles(['customer', { reference: 'trade-account', expires }])), now)
        .thenRejected([{ field: '/contact/accessRoles/1/expires', code: 'invalid_date' }]);
    });

    it('refuses an unknown reference given as a string at its index', () => {
      given()
        .when(aCreateCommand(roles(['no-such-role'])), now)
        .thenRejected([{ field: '/contact/accessRoles/0', code: 'unknown_access_role' }]);
    });

    it('refuses an unknown reference given as an object at its reference', () => {
      given()
        .when(aCreateCommand(roles(['customer', { reference: 'no-such-role', status: 'active' }])), now)
        .thenRejected([{ field: '/contact/accessRoles/1/reference', code: 'unknown_access_role' }]);
    });

    it('looks references up in the catalogue the command carries', () => {
      const command = aCreateCommand(roles(['customer']), { catalogue: aCatalogue({ wholesale: 'none' }) });

      given()
        .when(command, now)
        .thenRejected([{ field: '/contact/accessRoles/0', code: 'unknown_access_role' }]);
    });

    it('refuses a role given twice, in either form', () => {
      given()
        .when(aCreateCommand(roles(['customer', 'newsletter', { reference: 'customer' }, 'newsletter'])), now)
        .thenRejected([
          { field: '/contact/accessRoles/2/reference', code: 'duplicate_access_role' },
          { field: '/contact/accessRoles/3', code: 'duplicate_access_role' },
        ]);
    });

    it('grants nothing when there are no roles', () => {
      expect(grantsIn(sut(aCreateCommand(roles([])), null, now))).toEqual([]);
      expect(grantsIn(sut(aCreateCommand(aUser({ accessRoles: null })), null, now))).toEqual([]);
    });

    it.each([
      ['guest', aGuest],
      ['recipient', aRecipient],
      ['branch', aBranch],
    ])('are ignored entirely for a %s, unknown references and bad dates included', (_, aContact) => {
      const accessRoles: AccessRoleInput[] = [
        'customer',
        'no-such-role',
        'customer',
        { reference: 'trade-account', status: 'active', expires: '2018-01-01T00:00:00+00:00' },
        { reference: 'other', expires: 'garbage' },
      ];

      const events = sut(aCreateCommand(aContact({ accessRoles })), null, now);

      expect(typesOf(events)).toEqual(['ContactCreated']);
    });

    it('are granted after the password and before the invite', () => {
      const events = sut(aCreateCommand(roles(['customer']), { invite: anInvite() }), null, now);

      expect(typesOf(events)).toEqual(['ContactCreated', 'PasswordSet', 'RoleGranted', 'InviteIssued']);
    });
  });

  describe('tags', () => {
    it('sets trimmed tags without duplicates, in first-seen order', () => {
      const events = sut(aCreateCommand(aGuest({ tags: { contact: [' vip', 'trade', 'vip ', 'trade', 'wholesale'] } })), null, now);

      expect(events).toContainEqual({ type: 'TagsSet', data: { tags: ['vip', 'trade', 'wholesale'] } });
    });

    it.each([
      ['no tags', null],
      ['an empty list', { contact: [] }],
      ['only blank tags', { contact: ['', '  '] }],
    ])('sets none for %s', (_, tags) => {
      expect(typesOf(sut(aCreateCommand(aGuest({ tags })), null, now))).toEqual(['ContactCreated']);
    });
  });

  describe('refusals', () => {
    it('collect every problem at once', () => {
      given()
        .when(
          aCreateCommand(
            aUser({
              email: '',
              company: '<b>Acme</b>',
              accessRoles: ['nope', { reference: 'customer', expires: '2020-01-01T00:00:00Z' }],
            }),
            { passwordHash: null },
          ),
          now,
        )
        .thenRejected([
          { field: '/contact/email', code: 'required' },
          { field: '/contact/password', code: 'required' },
          { field: '/contact/company', code: 'html_not_allowed' },
          { field: '/contact/accessRoles/0', code: 'unknown_access_role' },
          { field: '/contact/accessRoles/1/expires', code: 'expires_in_past' },
        ]);
    });

    it('are invalid, not conflicts, with a message naming the field', () => {
      let error: unknown;
      try {
        sut(aCreateCommand(aRecipient({ email: null })), null, now);
      } catch (e) {
        error = e;
      }

      expect(error).toBeInstanceOf(ContactRejected);
      expect(error).toMatchObject({ kind: 'invalid', name: 'ContactRejected', message: expect.stringContaining('/email') });
    });
  });

  describe('on a stream that already holds a contact', () => {
    it('refuses to create it again', () => {
      given(aContactCreated()).when(aCreateCommand(aUser()), now).thenThrows(ContactAlreadyExists);
    });

    it('refuses even a create that would be valid for another type', () => {
      given(aContactCreated({ contactType: 'guest' }), { type: 'TagsSet', data: { tags: ['vip'] } })
        .when(aCreateCommand(aRecipient()), now)
        .thenThrows(ContactAlreadyExists);
    });

    it('names the contact', () => {
      expect(() => sut(aCreateCommand(aUser()), aContact({ id: aContactId }), now)).toThrow(aContactId);
    });
  });

  it('is pure: the same command on the same state gives the same events', () => {
    const command = aCreateCommand(aUser({ address: anAddress(), accessRoles: ['customer'], tags: { contact: ['a'] } }), {
      invite: anInvite(),
    });

    expect(sut(command, null, now)).toEqual(sut(command, null, now));
  });
});

describe(checkCreate.name, () => {
  const sut = checkCreate;
  const catalogue = aCatalogue();

  it('passes a valid user before any password is hashed', () => {
    expect(sut(aUser({ accessRoles: ['customer'] }), { passwordGiven: true, invite: false }, catalogue, now)).toEqual([]);
  });

  it('asks for a password unless invited', () => {
    expect(sut(aUser(), { passwordGiven: false, invite: false }, catalogue, now).map((e) => e.code)).toEqual(['required']);
    expect(sut(aUser(), { passwordGiven: false, invite: true }, catalogue, now)).toEqual([]);
  });

  it('judges expiry against the time it is given', () => {
    const input = aUser({ accessRoles: [{ reference: 'customer', expires: '2026-01-15T10:00:00Z' }] });

    expect(sut(input, { passwordGiven: true, invite: false }, catalogue, new Date('2026-01-15T09:59:59Z'))).toEqual([]);
    expect(sut(input, { passwordGiven: true, invite: false }, catalogue, now).map((e) => e.code)).toEqual(['expires_in_past']);
  });
});
