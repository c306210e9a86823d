import { decide } from './contact.decide.js';
import { fold } from './contact.state.js';
import { atMoment, toContactView, type ContactView } from './contact.view.js';
import {
  aBranch,
  aContact,
  aContactCreated,
  aContactFrom,
  aContactId,
  aCreateCommand,
  anAddress,
  anAddressId,
  anInvite,
  anInviteIssued,
  aPasswordHash,
  aPrimaryAddressSet,
  aUser,
  recorded,
  SAMPLE_ADDRESS,
} from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');

describe(toContactView.name, () => {
  const sut = toContactView;

  it('shows a contact in the shape of DESIGN §6', () => {
    const events = decide(
      aCreateCommand(
        aUser({
          company: 'Bobsworth Ltd',
          address: anAddress(),
          accessRoles: ['customer', 'trade-account', { reference: 'newsletter', expires: '2026-06-01T00:00:00Z', status: 'active' }],
          tags: { contact: ['vip'] },
        }),
        { invite: anInvite(), approvalBypassBy: 'client-with-roles' },
      ),
      null,
      now,
    );
    const contact = fold(recorded(events, { at: '2026-01-15T10:00:00.000Z' }));

    expect(sut(contact!)).toEqual({
      id: aContactId,
      type: 'user',
      firstname: 'Bob',
      lastname: 'Bobsworth',
      email: 'bob@example.com',
      company: 'Bobsworth Ltd',
      address: {
        id: anAddressId,
        firstname: 'Bob',
        lastname: 'Bobsworth',
        company: 'Bobsworth Ltd',
        ...SAMPLE_ADDRESS,
      },
      accessRoles: [
        { reference: 'customer', status: 'active', expires: null },
        { reference: 'trade-account', status: 'pending', expires: null, pendingReason: 'admin_approval' },
        { reference: 'newsletter', status: 'active', expires: '2026-06-01T00:00:00+00:00' },
      ],
      tags: { contact: ['vip'] },
      hasPassword: true,
      invite: { status: 'pending', expiresAt: '2026-01-22T10:00:00+00:00' },
      version: events.length,
      created: '2026-01-15T10:00:00+00:00',
      updated: '2026-01-15T10:00:00+00:00',
    } satisfies ContactView);
  });

  it('never shows the password hash', () => {
    const view = sut(aContactFrom(aContactCreated(), { type: 'PasswordSet', data: { passwordHash: aPasswordHash } }));

    expect(view.hasPassword).toBe(true);
    expect(JSON.stringify(view)).not.toContain(aPasswordHash);
    expect(view).not.toHaveProperty('passwordHash');
  });

  it('shows a contact without a password, address, roles, tags or invite', () => {
    expect(sut(aContactFrom(aContactCreated()))).toMatchObject({
      address: null,
      accessRoles: [],
      tags: { contact: [] },
      hasPassword: false,
      invite: null,
    });
  });

  it('carries pendingReason only on pending grants', () => {
    const view = sut(
      aContactFrom(
        aContactCreated(),
        { type: 'RoleGranted', data: { reference: 'customer', status: 'active', expires: null, pendingReason: null } },
        { type: 'RoleGranted', data: { reference: 'newsletter', status: 'pending', expires: null, pendingReason: 'email_verification' } },
      ),
    );

    expect(view.accessRoles[0]).not.toHaveProperty('pendingReason');
    expect(view.accessRoles[1]).toEqual({ reference: 'newsletter', status: 'pending', expires: null, pendingReason: 'email_verification' });
  });

  it('drops pendingReason once a grant is activated', () => {
    const view = sut(
      aContactFrom(
        aContactCreated(),
        { type: 'RoleGranted', data: { reference: 'trade-account', status: 'pending', expires: null, pendingReason: 'admin_approval' } },
        { type: 'RoleActivated', data: { reference: 'trade-account', by: 'admin' } },
      ),
    );

    expect(view.accessRoles).toEqual([{ reference: 'trade-account', status: 'active', expires: null }]);
  });

  describe('address', () => {
    it("inherits the contact's names and company when it has none of its own", () => {
      const view = sut(aContactFrom(aContactCreated({ company: 'Bobsworth Ltd' }), aPrimaryAddressSet()));

      expect(view.address).toMatchObject({ firstname: 'Bob', lastname: 'Bobsworth', company: 'Bobsworth Ltd' });
    });

    it('shows its own names and company when given', () => {
      const view = sut(
        aContactFrom(
          aContactCreated({ company: 'Bobsworth Ltd' }),
          aPrimaryAddressSet({ firstname: 'Robert', lastname: 'Smith', company: 'Acme' }),
        ),
      );

      expect(view.address).toMatchObject({ firstname: 'Robert', lastname: 'Smith', company: 'Acme' });
    });

    it('inherits field by field', () => {
      const view = sut(aContactFrom(aContactCreated({ company: 'Bobsworth Ltd' }), aPrimaryAddressSet({ lastname: 'Smith' })));

      expect(view.address).toMatchObject({ firstname: 'Bob', lastname: 'Smith', company: 'Bobsworth Ltd' });
    });

    it("follows the contact's later changes when inherited", () => {
      const view = sut(aContactFrom(aContactCreated(), aPrimaryAddressSet(), { type: 'ContactUpdated', data: { firstname: 'Robert' } }));

      expect(view.address?.firstname).toBe('Robert');
    });

    it('of a branch inherits the company and no names', () => {
      const events = decide(aCreateCommand(aBranch({ firstname: 'Bob', address: anAddress() })), null, now);

      expect(sut(fold(recorded(events))!).address).toMatchObject({ firstname: null, lastname: null, company: 'Bobsworth Ipswich' });
    });
  });

  it('returns tags the view owns, not the state', () => {
    const contact = aContact({ tags: ['a'] });

    sut(contact).tags.contact.push('b');

    expect(contact.tags).toEqual(['a']);
  });

  it('writes created and updated in ATOM, to the second', () => {
    const view = sut(aContact({ created: '2026-01-10T09:00:00.000Z', updated: '2026-01-15T10:00:00.125Z' }));

    expect([view.created, view.updated]).toEqual(['2026-01-10T09:00:00+00:00', '2026-01-15T10:00:00+00:00']);
  });

  it.each([
    ['pending', []],
    ['sent', [{ type: 'InviteSent', data: { tokenHash: anInviteIssued().data.tokenHash } }]],
    ['accepted', [{ type: 'InviteAccepted', data: { tokenHash: anInviteIssued().data.tokenHash } }]],
  ] as const)('shows an invite %s', (status, after) => {
    const view = sut(aContactFrom(aContactCreated(), anInviteIssued(), ...after));

    expect(view.invite).toEqual({ status, expiresAt: anInviteIssued().data.expiresAt });
  });
});

describe(atMoment.name, () => {
  const sut = atMoment;

  const withGrants = (...expires: Array<string | null>): ContactView =>
    toContactView(
      aContact({
        grants: expires.map((e, i) => ({ reference: `role-${i}`, status: 'active', expires: e, pendingReason: null })),
      }),
    );

  it('hides grants whose expiry is past or now, keeping the rest in order', () => {
    const view = withGrants(
      null,
      '2026-01-15T09:59:59+00:00',
      '2026-01-15T10:00:00+00:00',
      '2026-01-15T10:00:00.001+00:00',
      '2030-01-01T00:00:00+00:00',
    );

    expect(sut(view, now).accessRoles.map((r) => r.reference)).toEqual(['role-0', 'role-3', 'role-4']);
  });

  it('hides a pending grant past its expiry too', () => {
    const view = toContactView(
      aContact({
        grants: [{ reference: 'trade-account', status: 'pending', expires: '2026-01-01T00:00:00+00:00', pendingReason: 'admin_approval' }],
      }),
    );

    expect(sut(view, now).accessRoles).toEqual([]);
  });

  it('returns the view unchanged when nothing has expired', () => {
    const view = withGrants(null, '2030-01-01T00:00:00+00:00');

    expect(sut(view, now)).toBe(view);
  });

  it('does not change the view it is given', () => {
    const view = withGrants('2020-01-01T00:00:00+00:00');

    sut(view, now);

    expect(view.accessRoles).toHaveLength(1);
  });

  describe('invite', () => {
    const inviteView = (status: 'pending' | 'sent' | 'accepted', expiresAt: string): ContactView =>
      toContactView(aContact({ invite: { tokenHash: 'h', expiresAt, status } }));

    it.each(['pending', 'sent'] as const)('shows a %s invite past its time as expired', (status) => {
      expect(sut(inviteView(status, '2026-01-15T09:00:00+00:00'), now).invite).toEqual({
        status: 'expired',
        expiresAt: '2026-01-15T09:00:00+00:00',
      });
    });

    it('shows an invite expiring exactly now as expired', () => {
      expect(sut(inviteView('sent', '2026-01-15T10:00:00+00:00'), now).invite?.status).toBe('expired');
    });

    it('keeps an accepted invite accepted after its time', () => {
      expect(sut(inviteView('accepted', '2026-01-01T00:00:00+00:00'), now).invite?.status).toBe('accepted');
    });

    it('keeps an invite before its time as it is', () => {
      expect(sut(inviteView('sent', '2026-01-22T10:00:00+00:00'), now).invite?.status).toBe('sent');
    });

    it('leaves a contact without an invite without one', () => {
      expect(sut(toContactView(aContact()), now).invite).toBeNull();
    });
  });

  it('shows the past as it was: a grant hidden now was visible before it expired', () => {
    const view = withGrants('2026-01-15T10:00:00+00:00');

    expect(sut(view, new Date('2026-01-15T09:59:59Z')).accessRoles).toHaveLength(1);
    expect(sut(view, now).accessRoles).toHaveLength(0);
  });
});
