import type { ContactCommand, DeleteContact, ExpireGrant } from './contact.commands.js';
import { decide } from './contact.decide.js';
import { ContactIsDeleted, ContactNotFound, InviteUnusable } from './contact.errors.js';
import type { ContactDeleted, ContactEvent } from './contact.events.js';
import { exportedContact } from './contact.export.js';
import { emailReservation } from './contact.reservation.js';
import { fold } from './contact.state.js';
import {
  aContactCreated,
  aContactId,
  anInviteIssued,
  anUpdateCommand,
  aPasswordHash,
  aRoleGranted,
  given,
  recorded,
} from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');
const deleted: ContactDeleted = { type: 'ContactDeleted', data: {} };
const deleteIt: DeleteContact = { type: 'DeleteContact', contactId: aContactId };
const TOKEN_HASH = 'invite-hash-at-2';

describe(`${decide.name} DeleteContact`, () => {
  it('records the deletion', () => {
    given(aContactCreated()).when(deleteIt, now).then([deleted]);
  });

  it('needs the contact to exist', () => {
    given().when(deleteIt, now).thenThrows(ContactNotFound);
  });

  it('refuses a second deletion: the first is the one the history records', () => {
    given(aContactCreated(), deleted).when(deleteIt, now).thenThrows(ContactIsDeleted);
  });

  describe('a deleted contact', () => {
    it.each<[string, ContactCommand]>([
      ['an update', anUpdateCommand({ firstname: 'Robert' })],
      ['a new invite', anUpdateCommand({}, { invite: { expiresAt: '2026-01-22T10:00:00+00:00', tokenHashAt: () => 'h' } })],
      ['an approval', { type: 'ApproveGrant', contactId: aContactId, reference: 'trade-account' }],
      ['a rejection', { type: 'RejectGrant', contactId: aContactId, reference: 'trade-account' }],
    ])('refuses %s', (_case, command) => {
      given(aContactCreated(), aRoleGranted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' }), deleted)
        .when(command, now)
        .thenThrows(ContactIsDeleted);
    });

    it('lets an expiry job that fires later do nothing', () => {
      const expire: ExpireGrant = {
        type: 'ExpireGrant',
        contactId: aContactId,
        reference: 'customer',
        expires: '2026-01-15T09:00:00+00:00',
      };
      given(aContactCreated(), aRoleGranted({ expires: '2026-01-15T09:00:00+00:00' }), deleted)
        .when(expire, now)
        .then([]);
    });

    it('records nothing when its invite mail goes out late', () => {
      given(aContactCreated(), anInviteIssued(), deleted)
        .when({ type: 'RecordInviteSent', contactId: aContactId, tokenHash: TOKEN_HASH }, now)
        .then([]);
    });

    it('refuses its pending invite', () => {
      given(aContactCreated(), anInviteIssued(), deleted)
        .when({ type: 'AcceptInvite', contactId: aContactId, tokenHash: TOKEN_HASH, passwordHash: aPasswordHash }, now)
        .thenThrows(InviteUnusable);
    });
  });
});

describe('evolve ContactDeleted', () => {
  const history: ContactEvent[] = [
    aContactCreated(),
    aRoleGranted({ reference: 'customer' }),
    aRoleGranted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' }),
    anInviteIssued(),
    deleted,
  ];

  it('ends its grants and retires its pending invite, keeping when it was deleted', () => {
    const state = fold(recorded(history, { at: [...Array<string>(4).fill('2026-01-10T09:00:00.000Z'), '2026-01-12T08:30:00.000Z'] }));
    expect(state).toMatchObject({
      grants: [],
      invite: null,
      retiredInvite: { tokenHash: TOKEN_HASH, reason: 'contact_deleted' },
      deleted: '2026-01-12T08:30:00.000Z',
      version: 5,
    });
  });

  it('frees its email', () => {
    expect(emailReservation(fold(recorded(history.slice(0, -1))))).toEqual({ kind: 'user', email: 'bob@example.com' });
    expect(emailReservation(fold(recorded(history)))).toBeNull();
  });
});

describe(exportedContact.name, () => {
  it('shows a live contact as a read does at that moment', () => {
    const events = recorded([
      aContactCreated(),
      aRoleGranted({ expires: '2026-01-12T00:00:00+00:00' }),
      aRoleGranted({ reference: 'vip' }),
    ]);
    const sut = exportedContact(events, now);
    expect(sut).toMatchObject({ id: aContactId, email: 'bob@example.com', version: 3, accessRoles: [{ reference: 'vip' }] });
  });

  it('shows a deleted contact as it was just before the deletion', () => {
    const events = recorded([aContactCreated(), aRoleGranted(), anInviteIssued(), deleted], {
      at: ['2026-01-10T09:00:00.000Z', '2026-01-10T09:00:00.000Z', '2026-01-10T09:00:00.000Z', '2026-01-11T09:00:00.000Z'],
    });
    const sut = exportedContact(events, now);
    expect(sut).toMatchObject({
      email: 'bob@example.com',
      version: 3,
      accessRoles: [{ reference: 'customer', status: 'active' }],
      invite: { status: 'pending' },
      updated: '2026-01-10T09:00:00+00:00',
    });
  });

  it('is null for a stream without a contact', () => {
    expect(exportedContact([], now)).toBeNull();
  });
});
