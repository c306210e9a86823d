import type { ContactEvent } from './contact.events.js';
import { evolve, fold, initialState } from './contact.state.js';
import {
  aContact,
  aContactCreated,
  aContactFrom,
  aContactId,
  aPasswordHash,
  aRecordedAddress,
  recorded,
} from './testing/contact.factories.js';

const grant = (reference: string, overrides: Partial<Extract<ContactEvent, { type: 'RoleGranted' }>['data']> = {}): ContactEvent => ({
  type: 'RoleGranted',
  data: { reference, status: 'active', expires: null, pendingReason: null, ...overrides },
});

describe(evolve.name, () => {
  const sut = evolve;

  it('starts a contact from ContactCreated, at its version and time', () => {
    const [created] = recorded([aContactCreated({ company: 'Bobsworth Ltd' })], { from: 1, at: '2026-01-15T10:00:00.000Z' });

    expect(sut(initialState, created!)).toEqual({
      id: aContactId,
      type: 'user',
      firstname: 'Bob',
      lastname: 'Bobsworth',
      email: 'bob@example.com',
      company: 'Bobsworth Ltd',
      address: null,
      grants: [],
      tags: [],
      passwordHash: null,
      invite: null,
      version: 1,
      created: '2026-01-15T10:00:00.000Z',
      updated: '2026-01-15T10:00:00.000Z',
    });
  });

  it('holds no contact for an event before ContactCreated', () => {
    const [tags] = recorded([{ type: 'TagsSet', data: { tags: ['vip'] } }]);

    expect(sut(null, tags!)).toBeNull();
  });

  it('moves version and updated on every later event, keeping created', () => {
    const [event] = recorded([{ type: 'TagsSet', data: { tags: ['vip'] } }], { from: 7, at: '2026-02-01T00:00:00.000Z' });

    const next = sut(aContact({ version: 6 }), event!);

    expect(next).toMatchObject({ version: 7, created: aContact().created, updated: '2026-02-01T00:00:00.000Z', tags: ['vip'] });
  });

  it('does not change the state it is given', () => {
    const state = aContact({ tags: ['old'] });
    const [event] = recorded([{ type: 'TagsSet', data: { tags: ['new'] } }], { from: 2 });

    sut(state, event!);

    expect(state).toEqual(aContact({ tags: ['old'] }));
  });
});

describe(fold.name, () => {
  const sut = fold;

  it('holds nothing for no events', () => {
    expect(sut([])).toBeNull();
  });

  it('takes the version of the last event, created from the first and updated from the last', () => {
    const state = sut(
      recorded(
        [aContactCreated(), { type: 'PasswordSet', data: { passwordHash: aPasswordHash } }, { type: 'TagsSet', data: { tags: ['a'] } }],
        {
          at: ['2026-01-15T10:00:00.000Z', '2026-01-15T10:00:00.000Z', '2026-01-16T08:30:00.000Z'],
        },
      ),
    );

    expect(state).toMatchObject({ version: 3, created: '2026-01-15T10:00:00.000Z', updated: '2026-01-16T08:30:00.000Z' });
  });

  it('continues from a state it is given', () => {
    const state = sut(recorded([{ type: 'TagsSet', data: { tags: ['later'] } }], { from: 5 }), aContact({ version: 4 }));

    expect(state).toMatchObject({ version: 5, tags: ['later'] });
  });

  it('applies a ContactUpdated over the fields it names only', () => {
    const state = aContactFrom(aContactCreated({ company: 'Old Ltd' }), {
      type: 'ContactUpdated',
      data: { lastname: 'Smith', company: null },
    });

    expect(state).toMatchObject({ firstname: 'Bob', lastname: 'Smith', email: 'bob@example.com', company: null });
  });

  it('keeps the password hash of PasswordSet, the latest winning', () => {
    const state = aContactFrom(
      aContactCreated(),
      { type: 'PasswordSet', data: { passwordHash: 'first' } },
      { type: 'PasswordSet', data: { passwordHash: 'second' } },
    );

    expect(state.passwordHash).toBe('second');
  });

  it('sets the primary address, the latest winning', () => {
    const address = aRecordedAddress({ line2: null, region: null });

    const state = aContactFrom(
      aContactCreated(),
      { type: 'PrimaryAddressSet', data: { address: { ...address, id: 'older', city: 'London' } } },
      { type: 'PrimaryAddressSet', data: { address } },
    );

    expect(state.address).toEqual(address);
  });

  it('replaces the tags with those of TagsSet', () => {
    const state = aContactFrom(
      aContactCreated(),
      { type: 'TagsSet', data: { tags: ['a', 'b'] } },
      { type: 'TagsSet', data: { tags: ['c'] } },
    );

    expect(state.tags).toEqual(['c']);
  });

  describe('grants', () => {
    it('lists grants in the order granted', () => {
      const state = aContactFrom(
        aContactCreated(),
        grant('customer'),
        grant('trade-account', { status: 'pending', pendingReason: 'admin_approval', expires: '2030-01-01T00:00:00+00:00' }),
      );

      expect(state.grants).toEqual([
        { reference: 'customer', status: 'active', expires: null, pendingReason: null },
        { reference: 'trade-account', status: 'pending', expires: '2030-01-01T00:00:00+00:00', pendingReason: 'admin_approval' },
      ]);
    });

    it('replaces a grant of the same reference, moving it last', () => {
      const state = aContactFrom(
        aContactCreated(),
        grant('customer'),
        grant('newsletter'),
        grant('customer', { expires: '2030-01-01T00:00:00+00:00' }),
      );

      expect(state.grants.map((g) => [g.reference, g.expires])).toEqual([
        ['newsletter', null],
        ['customer', '2030-01-01T00:00:00+00:00'],
      ]);
    });

    it('activates a pending grant, dropping its pending reason', () => {
      const state = aContactFrom(
        aContactCreated(),
        grant('newsletter', { status: 'pending', pendingReason: 'email_verification' }),
        grant('trade-account', { status: 'pending', pendingReason: 'admin_approval' }),
        { type: 'RoleActivated', data: { reference: 'newsletter', by: 'email' } },
      );

      expect(state.grants).toEqual([
        { reference: 'newsletter', status: 'active', expires: null, pendingReason: null },
        { reference: 'trade-account', status: 'pending', expires: null, pendingReason: 'admin_approval' },
      ]);
    });

    it.each(['removed', 'expired', 'rejected'] as const)('drops a grant revoked as %s', (reason) => {
      const state = aContactFrom(aContactCreated(), grant('customer'), grant('newsletter'), {
        type: 'RoleRevoked',
        data: { reference: 'customer', reason },
      });

      expect(state.grants.map((g) => g.reference)).toEqual(['newsletter']);
    });
  });

  describe('invite', () => {
    const issued: ContactEvent = { type: 'InviteIssued', data: { tokenHash: 'h1', expiresAt: '2026-01-22T10:00:00+00:00' } };

    it('is pending once issued', () => {
      expect(aContactFrom(aContactCreated(), issued).invite).toEqual({
        tokenHash: 'h1',
        expiresAt: '2026-01-22T10:00:00+00:00',
        status: 'pending',
      });
    });

    it('is sent, then accepted', () => {
      const sent = aContactFrom(aContactCreated(), issued, { type: 'InviteSent', data: { tokenHash: 'h1' } });
      const accepted = aContactFrom(
        aContactCreated(),
        issued,
        { type: 'InviteSent', data: { tokenHash: 'h1' } },
        { type: 'InviteAccepted', data: { tokenHash: 'h1' } },
      );

      expect(sent.invite?.status).toBe('sent');
      expect(accepted.invite?.status).toBe('accepted');
    });

    it('ignores sends and acceptances of a token that was rotated away, but still counts them as versions', () => {
      const state = aContactFrom(
        aContactCreated(),
        issued,
        { type: 'InviteIssued', data: { tokenHash: 'h2', expiresAt: '2026-01-29T10:00:00+00:00' } },
        { type: 'InviteSent', data: { tokenHash: 'h1' } },
        { type: 'InviteAccepted', data: { tokenHash: 'h1' } },
      );

      expect(state.invite).toEqual({ tokenHash: 'h2', expiresAt: '2026-01-29T10:00:00+00:00', status: 'pending' });
      expect(state.version).toBe(5);
    });

    it('ignores a send when no invite was issued', () => {
      expect(aContactFrom(aContactCreated(), { type: 'InviteSent', data: { tokenHash: 'h1' } }).invite).toBeNull();
    });
  });
});
