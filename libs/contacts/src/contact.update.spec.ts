import type { AccessRoleInput, ContactPatch } from './contact.commands.js';
import { checkUpdate, decide } from './contact.decide.js';
import { ContactNotFound } from './contact.errors.js';
import type { AddressData, ContactEvent, ContactType, RoleGranted } from './contact.events.js';
import { emailReservation } from './contact.reservation.js';
import {
  aCatalogue,
  aContact,
  aContactCreated,
  aContactFrom,
  aContactId,
  anAddressId,
  anInvite,
  anInviteIssued,
  anUpdateCommand,
  aPasswordHash,
  aRecordedAddress,
  aRoleGranted,
  given,
} from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');

const typesOf = (events: ContactEvent[]): string[] => events.map((e) => e.type);

const aGuestCreated = (): ContactEvent =>
  aContactCreated({ contactType: 'guest', firstname: 'Gail', lastname: 'Guest', email: 'gail@example.com' });
const aBranchCreated = (): ContactEvent =>
  aContactCreated({ contactType: 'branch', firstname: null, lastname: null, email: 'ipswich@example.com', company: 'Bobsworth Ipswich' });
const aRecipientCreated = (): ContactEvent =>
  aContactCreated({ contactType: 'recipient', firstname: null, lastname: null, email: 'reader@example.com' });

const createdOf: Record<ContactType, () => ContactEvent> = {
  user: () => aContactCreated(),
  guest: aGuestCreated,
  branch: aBranchCreated,
  recipient: aRecipientCreated,
};

const storedAddressId = '11111111-2222-4333-8444-555555555555';
const storedAddress = aRecordedAddress({ id: storedAddressId });
const anAddressSet = (address: AddressData = storedAddress): ContactEvent => ({ type: 'PrimaryAddressSet', data: { address } });

const granted = (data: Partial<RoleGranted['data']> & { reference: string }): RoleGranted => aRoleGranted(data);
const revoked = (reference: string): ContactEvent => ({ type: 'RoleRevoked', data: { reference, reason: 'removed' } });
const roles = (accessRoles: AccessRoleInput[]): ContactPatch => ({ accessRoles });

describe(decide.name, () => {
  const sut = decide;

  describe('UpdateContact', () => {
    describe('only what is sent changes', () => {
      it('records the one field sent', () => {
        given(aContactCreated())
          .when(anUpdateCommand({ firstname: 'Robert' }), now)
          .then([{ type: 'ContactUpdated', data: { firstname: 'Robert' } }]);
      });

      it('records only the fields whose value changes, trimmed', () => {
        given(aContactCreated({ company: 'Bobsworth Ltd' }))
          .when(anUpdateCommand({ firstname: ' Bob ', lastname: 'Smith ', email: 'bob@example.com', company: 'Bobsworth Ltd' }), now)
          .then([{ type: 'ContactUpdated', data: { lastname: 'Smith' } }]);
      });

      it('records nothing when nothing is sent', () => {
        given(aContactCreated(), anAddressSet(), { type: 'TagsSet', data: { tags: ['vip'] } }, granted({ reference: 'customer' }))
          .when(anUpdateCommand({}), now)
          .then([]);
      });

      it('records nothing when every value sent is the current one', () => {
        given(aContactCreated(), anAddressSet(), { type: 'TagsSet', data: { tags: ['vip'] } }, granted({ reference: 'customer' }))
          .when(
            anUpdateCommand({
              type: 'user',
              firstname: 'Bob',
              lastname: 'Bobsworth',
              email: 'bob@example.com',
              company: null,
              address: { line1: '2 Sorrel Horse Mews', countryCode: 'gb' },
              tags: { contact: ['vip', ' vip'] },
              accessRoles: ['customer'],
            }),
            now,
          )
          .then([]);
      });

      it('clears an optional field sent as null or blank', () => {
        given(aContactCreated({ company: 'Bobsworth Ltd' }))
          .when(anUpdateCommand({ company: '  ' }), now)
          .then([{ type: 'ContactUpdated', data: { company: null } }]);
        given(aContactCreated({ company: 'Bobsworth Ltd' }))
          .when(anUpdateCommand({ company: null }), now)
          .then([{ type: 'ContactUpdated', data: { company: null } }]);
      });

      it('records the changes in the order of a create: fields, password, address, tags, roles, invite', () => {
        const events = sut(
          anUpdateCommand(
            { lastname: 'Smith', address: { line1: 'x' }, tags: { contact: ['vip'] }, accessRoles: ['customer'] },
            { passwordHash: aPasswordHash, invite: anInvite() },
          ),
          aContactFrom(aContactCreated()),
          now,
        );

        expect(typesOf(events)).toEqual(['ContactUpdated', 'PasswordSet', 'PrimaryAddressSet', 'TagsSet', 'RoleGranted', 'InviteIssued']);
      });
    });

    describe('the rules of a create, on the values sent', () => {
      it.each([
        ['user', 'firstname'],
        ['user', 'lastname'],
        ['user', 'email'],
        ['guest', 'firstname'],
        ['guest', 'lastname'],
        ['guest', 'email'],
        ['branch', 'company'],
        ['branch', 'email'],
        ['recipient', 'email'],
      ] as const)('a %s cannot have its %s set to null, empty or blank', (type, field) => {
        for (const value of [null, '', ' \t']) {
          given(createdOf[type]())
            .when(anUpdateCommand({ [field]: value }), now)
            .thenRejected([{ field: `/contact/${field}`, code: 'required' }]);
        }
      });

      it.each([
        ['branch', 'firstname'],
        ['branch', 'lastname'],
        ['recipient', 'firstname'],
        ['recipient', 'lastname'],
        ['recipient', 'company'],
        ['user', 'company'],
        ['guest', 'company'],
      ] as const)('a %s may have its %s set to null', (type, field) => {
        expect(() => sut(anUpdateCommand({ [field]: null }), aContactFrom(createdOf[type]()), now)).not.toThrow();
      });

      it('does not ask for a required field that is not sent', () => {
        given(aBranchCreated())
          .when(anUpdateCommand({ email: 'norwich@example.com' }), now)
          .then([{ type: 'ContactUpdated', data: { email: 'norwich@example.com' } }]);
      });

      it('ignores names sent to a branch', () => {
        given(aBranchCreated())
          .when(anUpdateCommand({ firstname: 'Bob', lastname: 'Bobsworth' }), now)
          .then([]);
      });

      it('keeps names sent to a recipient, as a create does', () => {
        given(aRecipientCreated())
          .when(anUpdateCommand({ firstname: 'Rita' }), now)
          .then([{ type: 'ContactUpdated', data: { firstname: 'Rita' } }]);
      });

      it('refuses a company over 200 characters, and accepts 200', () => {
        given(aBranchCreated())
          .when(anUpdateCommand({ company: 'c'.repeat(201) }), now)
          .thenRejected([{ field: '/contact/company', code: 'too_long' }]);
        given(aBranchCreated())
          .when(anUpdateCommand({ company: 'c'.repeat(200) }), now)
          .then([{ type: 'ContactUpdated', data: { company: 'c'.repeat(200) } }]);
      });

      it.each(['<b>Acme</b>', 'Acme <script>alert(1)</script>', 'Smith &amp; Sons'])('refuses HTML in the company: %p', (company) => {
        given(aContactCreated())
          .when(anUpdateCommand({ company }), now)
          .thenRejected([{ field: '/contact/company', code: 'html_not_allowed' }]);
      });

      it('judges the address company by the same rules', () => {
        given(aContactCreated(), anAddressSet())
          .when(anUpdateCommand({ address: { company: '<i>Acme</i>' } }), now)
          .thenRejected([{ field: '/contact/address/company', code: 'html_not_allowed' }]);
        given(aContactCreated())
          .when(anUpdateCommand({ address: { company: 'a'.repeat(201) } }), now)
          .thenRejected([{ field: '/contact/address/company', code: 'too_long' }]);
      });

      it('collects every problem at once, and writes nothing', () => {
        given(aContactCreated())
          .when(
            anUpdateCommand({
              type: 'guest',
              email: '',
              firstname: null,
              company: '<b>x</b>',
              accessRoles: ['nope', { reference: 'customer', expires: '2020-01-01T00:00:00Z' }],
            }),
            now,
          )
          .thenRejected([
            { field: '/contact/type', code: 'type_change_not_allowed' },
            { field: '/contact/email', code: 'required' },
            { field: '/contact/firstname', code: 'required' },
            { field: '/contact/company', code: 'html_not_allowed' },
            { field: '/contact/accessRoles/0', code: 'unknown_access_role' },
            { field: '/contact/accessRoles/1/expires', code: 'expires_in_past' },
          ]);
      });
    });

    describe('password', () => {
      it('sets the hash the command brings for a user', () => {
        given(aContactCreated(), { type: 'PasswordSet', data: { passwordHash: 'old-hash' } })
          .when(anUpdateCommand({}, { passwordHash: aPasswordHash }), now)
          .then([{ type: 'PasswordSet', data: { passwordHash: aPasswordHash } }]);
      });

      it.each(['guest', 'branch', 'recipient'] as const)('is ignored for a %s', (type) => {
        given(createdOf[type]())
          .when(anUpdateCommand({}, { passwordHash: aPasswordHash }), now)
          .then([]);
      });

      it('is left alone when the command brings none', () => {
        expect(typesOf(sut(anUpdateCommand({ firstname: 'Rob' }), aContactFrom(aContactCreated()), now))).toEqual(['ContactUpdated']);
      });
    });

    describe('type', () => {
      it.each([
        ['user', 'guest'],
        ['guest', 'user'],
        ['branch', 'recipient'],
        ['recipient', 'branch'],
      ] as const)('refuses to turn a %s into a %s', (from, to) => {
        given(createdOf[from]())
          .when(anUpdateCommand({ type: to, email: 'new@example.com' }), now)
          .thenRejected([{ field: '/contact/type', code: 'type_change_not_allowed' }]);
      });

      it.each(['hq', 'User', 'admin'])('refuses a type that does not exist (%s) as type_not_allowed, as on creation', (to) => {
        given(createdOf.user())
          .when(anUpdateCommand({ type: to, email: 'new@example.com' }), now)
          .thenRejected([{ field: '/contact/type', code: 'type_not_allowed' }]);
      });

      it.each(['user', 'guest', 'branch', 'recipient'] as const)('accepts a %s sent with its own type', (type) => {
        given(createdOf[type]())
          .when(anUpdateCommand({ type, email: 'new@example.com' }), now)
          .then([{ type: 'ContactUpdated', data: { email: 'new@example.com' } }]);
      });
    });

    describe('email', () => {
      it('changes to the trimmed address, keeping its case', () => {
        given(aContactCreated())
          .when(anUpdateCommand({ email: '  Robert@Example.com ' }), now)
          .then([{ type: 'ContactUpdated', data: { email: 'Robert@Example.com' } }]);
      });

      it('records a change of case, which keeps the same reservation', () => {
        const before = aContactFrom(aContactCreated({ contactType: 'branch', firstname: null, lastname: null, company: 'Acme' }));

        const events = sut(anUpdateCommand({ email: 'BOB@example.com' }), before, now);

        expect(events).toEqual([{ type: 'ContactUpdated', data: { email: 'BOB@example.com' } }]);
        const after = aContactFrom(aContactCreated({ contactType: 'branch', firstname: null, lastname: null, company: 'Acme' }), ...events);
        expect(emailReservation(after)).toEqual(emailReservation(before));
      });
    });

    describe('address', () => {
      it('adds one under the id the command brings when the contact has none', () => {
        given(aContactCreated())
          .when(
            anUpdateCommand(
              { address: { line1: ' 1 New Road ', city: 'Norwich', countryCode: 'gb', zip: '' } },
              { addressId: anAddressId },
            ),
            now,
          )
          .then([
            {
              type: 'PrimaryAddressSet',
              data: {
                address: {
                  id: anAddressId,
                  firstname: null,
                  lastname: null,
                  company: null,
                  line1: '1 New Road',
                  line2: null,
                  line3: null,
                  city: 'Norwich',
                  region: null,
                  countryCode: 'GB',
                  zip: null,
                },
              },
            },
          ]);
      });

      it('modifies the current one in place: its id stays and only the fields sent change', () => {
        given(aContactCreated(), anAddressSet())
          .when(anUpdateCommand({ address: { line1: '1 New Road', line2: null, firstname: 'Robert' } }, { addressId: 'unused-id' }), now)
          .then([
            {
              type: 'PrimaryAddressSet',
              data: { address: { ...storedAddress, line1: '1 New Road', line2: null, firstname: 'Robert' } },
            },
          ]);
      });

      it('keeps inheriting a name sent back as the address showed it, the contact name changing with it', () => {
        given(aContactCreated({ company: 'Bobsworth Ltd' }), anAddressSet())
          .when(
            anUpdateCommand({
              lastname: 'Smith',
              address: { ...storedAddress, firstname: 'Bob', lastname: ' Bobsworth', company: 'Bobsworth Ltd' },
            }),
            now,
          )
          .then([{ type: 'ContactUpdated', data: { lastname: 'Smith' } }]);
      });

      it('pins a name that differs from the one it would inherit', () => {
        given(aContactCreated(), anAddressSet())
          .when(anUpdateCommand({ address: { firstname: 'Robert', lastname: 'Bobsworth' } }), now)
          .then([{ type: 'PrimaryAddressSet', data: { address: { ...storedAddress, firstname: 'Robert' } } }]);
      });

      it('never takes an id sent with the address', () => {
        const address = { id: 'sent-by-the-client', city: 'Norwich' } as ContactPatch['address'];

        const events = sut(anUpdateCommand({ address }), aContactFrom(aContactCreated(), anAddressSet()), now);

        expect(events).toEqual([{ type: 'PrimaryAddressSet', data: { address: { ...storedAddress, city: 'Norwich' } } }]);
      });

      it('records nothing when the fields sent hold their current values', () => {
        given(aContactCreated(), anAddressSet())
          .when(anUpdateCommand({ address: { line1: ' 2 Sorrel Horse Mews', line3: '', countryCode: 'gb' } }), now)
          .then([]);
      });

      it.each([
        ['absent', {}],
        ['null', { address: null }],
      ])('is left as it is when %s', (_, patch) => {
        given(aContactCreated(), anAddressSet()).when(anUpdateCommand(patch), now).then([]);
      });
    });

    describe('tags', () => {
      const tagged = (tags: string[]): ContactEvent => ({ type: 'TagsSet', data: { tags } });

      it('replaces the whole list, trimmed and without duplicates', () => {
        given(aContactCreated(), tagged(['vip', 'trade']))
          .when(anUpdateCommand({ tags: { contact: ['wholesale ', 'vip', 'wholesale'] } }), now)
          .then([tagged(['wholesale', 'vip'])]);
      });

      it('clears them with an empty list', () => {
        given(aContactCreated(), tagged(['vip']))
          .when(anUpdateCommand({ tags: { contact: [] } }), now)
          .then([tagged([])]);
      });

      it('records nothing when the list is the current one', () => {
        given(aContactCreated(), tagged(['vip', 'trade']))
          .when(anUpdateCommand({ tags: { contact: ['vip', 'trade', ' '] } }), now)
          .then([]);
      });

      it('leaves them alone when not sent', () => {
        given(aContactCreated(), tagged(['vip']))
          .when(anUpdateCommand({ firstname: 'Rob' }), now)
          .then([{ type: 'ContactUpdated', data: { firstname: 'Rob' } }]);
      });
    });

    describe('access roles replace the whole set', () => {
      const customer = granted({ reference: 'customer' });
      const newsletter = granted({ reference: 'newsletter', status: 'pending', pendingReason: 'email_verification' });
      const trade = granted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' });
      const approvedTrade: ContactEvent = { type: 'RoleActivated', data: { reference: 'trade-account', by: 'admin' } };

      it('revokes, as removed, every grant left out, in the order they were granted', () => {
        given(aContactCreated(), customer, newsletter, trade)
          .when(anUpdateCommand(roles(['newsletter'])), now)
          .then([revoked('customer'), revoked('trade-account')]);
      });

      it('revokes every grant for an empty list', () => {
        given(aContactCreated(), customer, newsletter)
          .when(anUpdateCommand(roles([])), now)
          .then([revoked('customer'), revoked('newsletter')]);
      });

      it('grants a new reference as its approval method says', () => {
        given(aContactCreated())
          .when(anUpdateCommand(roles(['customer', 'newsletter', 'trade-account'])), now)
          .then([
            granted({ reference: 'customer', status: 'active', pendingReason: null }),
            granted({ reference: 'newsletter', status: 'pending', pendingReason: 'email_verification' }),
            granted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' }),
          ]);
      });

      it('grants a new object with status active at once, with its expiry in ATOM and UTC', () => {
        given(aContactCreated())
          .when(
            anUpdateCommand(roles([{ reference: 'trade-account', status: 'active', expires: '2026-06-30T17:30:00+05:30' }]), {
              approvalBypassBy: 'client-with-roles',
            }),
            now,
          )
          .then([
            granted({
              reference: 'trade-account',
              status: 'active',
              expires: '2026-06-30T12:00:00+00:00',
              bypassedBy: 'client-with-roles',
            }),
          ]);
      });

      it('revokes before it grants', () => {
        given(aContactCreated(), customer)
          .when(anUpdateCommand(roles(['newsletter'])), now)
          .then([revoked('customer'), granted({ reference: 'newsletter', status: 'pending', pendingReason: 'email_verification' })]);
      });

      it('records nothing for a grant kept on the same terms', () => {
        given(aContactCreated(), customer, newsletter, granted({ reference: 'trade-account', expires: '2026-06-30T12:00:00+00:00' }))
          .when(
            anUpdateCommand(
              roles(['customer', { reference: 'newsletter' }, { reference: 'trade-account', expires: '2026-06-30T12:00:00Z' }]),
            ),
            now,
          )
          .then([]);
      });

      it('grants a kept role again with its new expiry, keeping its status', () => {
        given(aContactCreated(), customer, newsletter)
          .when(
            anUpdateCommand(
              roles([
                { reference: 'customer', expires: '2026-03-01T00:00:00+00:00' },
                { reference: 'newsletter', expires: '2026-04-01T00:00:00+00:00' },
              ]),
            ),
            now,
          )
          .then([
            granted({ reference: 'customer', status: 'active', expires: '2026-03-01T00:00:00+00:00' }),
            granted({
              reference: 'newsletter',
              status: 'pending',
              expires: '2026-04-01T00:00:00+00:00',
              pendingReason: 'email_verification',
            }),
          ]);
      });

      it('drops the expiry of a kept role re-sent without one', () => {
        given(aContactCreated(), granted({ reference: 'customer', expires: '2026-06-30T12:00:00+00:00' }))
          .when(anUpdateCommand(roles(['customer'])), now)
          .then([granted({ reference: 'customer', status: 'active', expires: null })]);
      });

      it('activates a kept pending grant re-sent with status active, for a client that may bypass approval, and names it', () => {
        given(aContactCreated(), trade)
          .when(anUpdateCommand(roles([{ reference: 'trade-account', status: 'active' }]), { approvalBypassBy: 'client-with-roles' }), now)
          .then([granted({ reference: 'trade-account', status: 'active', pendingReason: null, bypassedBy: 'client-with-roles' })]);
      });

      it('refuses to activate a kept pending grant for a client that may not bypass approval, pointing at its status', () => {
        given(aContactCreated(), customer, trade)
          .when(anUpdateCommand(roles(['customer', { reference: 'trade-account', status: 'active' }])), now)
          .thenForbidden([{ field: '/contact/accessRoles/1/status', code: 'insufficient_scope' }]);
      });

      it('lets any client re-send an active grant with status active: nothing is bypassed', () => {
        given(aContactCreated(), trade, approvedTrade)
          .when(anUpdateCommand(roles([{ reference: 'trade-account', status: 'active' }])), now)
          .then([]);
      });

      it('keeps an active grant active when it is re-sent as a string or as pending', () => {
        given(aContactCreated(), trade, approvedTrade)
          .when(anUpdateCommand(roles(['trade-account'])), now)
          .then([]);
        given(aContactCreated(), trade, approvedTrade)
          .when(anUpdateCommand(roles([{ reference: 'trade-account', status: 'pending' }])), now)
          .then([]);
      });

      it('keeps an active grant active when it is re-sent with a new expiry', () => {
        given(aContactCreated(), trade, approvedTrade)
          .when(anUpdateCommand(roles([{ reference: 'trade-account', expires: '2027-01-01T00:00:00+00:00' }])), now)
          .then([granted({ reference: 'trade-account', status: 'active', expires: '2027-01-01T00:00:00+00:00' })]);
      });

      it('counts a grant past its expiry, re-sent, as new: the approval method applies again', () => {
        given(aContactCreated(), granted({ reference: 'trade-account', status: 'active', expires: '2026-01-14T00:00:00+00:00' }))
          .when(anUpdateCommand(roles(['trade-account'])), now)
          .then([granted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' })]);
      });

      it('counts a grant expiring exactly now as past its expiry', () => {
        given(aContactCreated(), granted({ reference: 'trade-account', status: 'active', expires: '2026-01-15T10:00:00+00:00' }))
          .when(anUpdateCommand(roles(['trade-account'])), now)
          .then([granted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' })]);
      });

      it('revokes a grant past its expiry that is left out', () => {
        given(aContactCreated(), granted({ reference: 'customer', expires: '2026-01-14T00:00:00+00:00' }))
          .when(anUpdateCommand(roles([])), now)
          .then([revoked('customer')]);
      });

      it('leaves every grant alone when accessRoles is not sent', () => {
        given(aContactCreated(), customer, newsletter)
          .when(anUpdateCommand({ lastname: 'Smith' }), now)
          .then([{ type: 'ContactUpdated', data: { lastname: 'Smith' } }]);
      });

      it('applies the approval methods of the catalogue the command carries', () => {
        given(aContactCreated())
          .when(anUpdateCommand(roles(['wholesale']), { catalogue: aCatalogue({ wholesale: 'admin' }) }), now)
          .then([granted({ reference: 'wholesale', status: 'pending', pendingReason: 'admin_approval' })]);
      });

      it.each([
        ['an unknown reference as a string', ['customer', 'nope'], '/contact/accessRoles/1', 'unknown_access_role'],
        ['an unknown reference as an object', [{ reference: 'nope' }], '/contact/accessRoles/0/reference', 'unknown_access_role'],
        ['a role given twice', ['customer', { reference: 'customer' }], '/contact/accessRoles/1/reference', 'duplicate_access_role'],
        [
          'an expiry in the past',
          [{ reference: 'customer', expires: '2026-01-15T09:59:59Z' }],
          '/contact/accessRoles/0/expires',
          'expires_in_past',
        ],
        [
          'a malformed expiry',
          [{ reference: 'customer', expires: '2030-02-31T00:00:00Z' }],
          '/contact/accessRoles/0/expires',
          'invalid_date',
        ],
      ] as [string, AccessRoleInput[], string, string][])('refuses %s, revoking nothing', (_, wanted, field, code) => {
        given(aContactCreated(), customer, newsletter)
          .when(anUpdateCommand(roles(wanted)), now)
          .thenRejected([{ field, code }]);
      });

      it.each(['guest', 'branch', 'recipient'] as const)(
        'are ignored entirely for a %s, unknown references and bad dates included',
        (type) => {
          given(createdOf[type]())
            .when(anUpdateCommand(roles(['customer', 'nope', 'nope', { reference: 'x', expires: 'garbage' }])), now)
            .then([]);
        },
      );
    });

    describe('invite', () => {
      it('issues the invite the command carries to a user', () => {
        const invite = anInvite();

        given(aContactCreated())
          .when(anUpdateCommand({}, { invite }), now)
          .then([anInviteIssued({ tokenHash: 'invite-hash-at-2' })]);
      });

      it('rotates an invite not yet accepted', () => {
        given(aContactCreated(), anInviteIssued({ tokenHash: 'first' }), { type: 'InviteSent', data: { tokenHash: 'first' } })
          .when(anUpdateCommand({}, { invite: anInvite() }), now)
          .then([anInviteIssued({ tokenHash: 'invite-hash-at-4' })]);
      });

      it.each(['guest', 'branch', 'recipient'] as const)('is refused for a %s', (type) => {
        given(createdOf[type]())
          .when(anUpdateCommand({}, { invite: anInvite() }), now)
          .thenRejected([{ field: '/invite', code: 'invite_not_allowed' }]);
      });

      it('is issued again once the user has accepted one: it verifies the email', () => {
        given(aContactCreated(), anInviteIssued({ tokenHash: 'first' }), { type: 'InviteAccepted', data: { tokenHash: 'first' } })
          .when(anUpdateCommand({}, { invite: anInvite() }), now)
          .then([anInviteIssued({ tokenHash: 'invite-hash-at-4' })]);
      });
    });

    describe('a contact that does not exist', () => {
      it('is not found', () => {
        given()
          .when(anUpdateCommand({ firstname: 'Rob' }), now)
          .thenThrows(ContactNotFound);
      });

      it('is not found even for an empty update, and the error names it', () => {
        expect(() => sut(anUpdateCommand({}), null, now)).toThrow(ContactNotFound);
        expect(() => sut(anUpdateCommand({}), null, now)).toThrow(aContactId);
      });
    });

    it('is pure: the same command on the same state gives the same events', () => {
      const state = aContactFrom(aContactCreated(), anAddressSet(), granted({ reference: 'customer' }));
      const command = anUpdateCommand(
        { lastname: 'Smith', address: { city: 'Norwich' }, tags: { contact: ['a'] }, accessRoles: ['newsletter'] },
        { passwordHash: aPasswordHash, invite: anInvite() },
      );

      expect(sut(command, state, now)).toEqual(sut(command, state, now));
    });
  });
});

describe(checkUpdate.name, () => {
  const sut = checkUpdate;
  const catalogue = aCatalogue();
  const options = { passwordGiven: true, invite: false };

  it('passes an update that sends only valid values', () => {
    expect(sut(aContact(), { firstname: 'Rob', accessRoles: ['customer'] }, options, catalogue, now)).toEqual([]);
  });

  it('judges only the fields sent, not the contact as it stands', () => {
    // A contact stored without a lastname (as a recipient may be) is not blamed for it.
    expect(sut(aContact({ type: 'recipient', lastname: null }), { email: 'r@example.com' }, options, catalogue, now)).toEqual([]);
  });

  it('judges expiry against the time it is given', () => {
    const patch = roles([{ reference: 'customer', expires: '2026-01-15T10:00:00Z' }]);

    expect(sut(aContact(), patch, options, catalogue, new Date('2026-01-15T09:59:59Z'))).toEqual([]);
    expect(sut(aContact(), patch, options, catalogue, now).map((e) => e.code)).toEqual(['expires_in_past']);
  });
});
