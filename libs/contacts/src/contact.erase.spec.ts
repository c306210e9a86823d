import type { ContactCommand, EraseContact } from './contact.commands.js';
import { decide } from './contact.decide.js';
import { ContactIsErased, ContactNotFound } from './contact.errors.js';
import { emailsHeld, ERASED, maskPersonalData, personalFields } from './contact.erasure.js';
import type { ContactErased, ContactEvent } from './contact.events.js';
import { emailReservation } from './contact.reservation.js';
import { fold } from './contact.state.js';
import {
  aContactCreated,
  aContactId,
  anInviteIssued,
  anUpdateCommand,
  aPasswordHash,
  aPrimaryAddressSet,
  aRoleGranted,
  given,
  recorded,
} from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');
const erased: ContactErased = { type: 'ContactErased', data: { reason: 'the person asked (ticket 42)' } };
const eraseIt: EraseContact = { type: 'EraseContact', contactId: aContactId, reason: 'the person asked (ticket 42)' };

const history: ContactEvent[] = [
  aContactCreated({ company: 'Bobsworth Ltd' }),
  { type: 'PasswordSet', data: { passwordHash: aPasswordHash } },
  aPrimaryAddressSet({ line1: '1 High Street', city: 'Ipswich' }),
  { type: 'TagsSet', data: { tags: ['vip', 'north'] } },
  aRoleGranted({ reference: 'customer' }),
  anInviteIssued(),
  { type: 'InviteSent', data: { tokenHash: 'invite-hash-at-2' } },
];

/** The history as it reads once erasure masked it. */
const masked = (events: ContactEvent[]): ContactEvent[] =>
  events.map((e) => ({ ...e, data: maskPersonalData(e.type, e.data as Record<string, unknown>) }) as ContactEvent);

describe(`${decide.name} EraseContact`, () => {
  it('records the erasure with its reason', () => {
    given(...history)
      .when(eraseIt, now)
      .then([erased]);
  });

  it('erases a deleted contact too', () => {
    given(...history, { type: 'ContactDeleted', data: {} })
      .when(eraseIt, now)
      .then([erased]);
  });

  it('records nothing on a repeat: the first erasure stands', () => {
    given(...history, erased)
      .when({ ...eraseIt, reason: 'again' }, now)
      .then([]);
  });

  it('needs the contact to exist', () => {
    given().when(eraseIt, now).thenThrows(ContactNotFound);
  });

  it.each<[string, ContactCommand]>([
    ['an update', anUpdateCommand({ firstname: 'Robert' })],
    ['an approval', { type: 'ApproveGrant', contactId: aContactId, reference: 'customer' }],
    ['a deletion', { type: 'DeleteContact', contactId: aContactId }],
  ])('refuses %s on an erased contact', (_case, command) => {
    given(...history, erased)
      .when(command, now)
      .thenThrows(ContactIsErased);
  });

  it('lets a late invite mail record nothing', () => {
    given(...history.slice(0, -1), erased)
      .when({ type: 'RecordInviteSent', contactId: aContactId, tokenHash: 'invite-hash-at-2' }, now)
      .then([]);
  });
});

describe('evolve ContactErased', () => {
  it('leaves no personal value in the state, and keeps when and why', () => {
    const sut = fold(
      recorded([...history, erased], { at: [...Array<string>(7).fill('2026-01-10T09:00:00.000Z'), '2026-01-12T08:30:00.000Z'] }),
    );
    const text = JSON.stringify(sut);
    for (const value of [
      'Bob',
      'Bobsworth',
      'bob@example.com',
      'Bobsworth Ltd',
      '1 High Street',
      'Ipswich',
      'vip',
      aPasswordHash,
      'invite-hash',
    ]) {
      expect(text).not.toContain(value);
    }
    expect(sut).toMatchObject({
      email: ERASED,
      grants: [],
      tags: [],
      invite: null,
      erased: { erasedAt: '2026-01-12T08:30:00.000Z', reason: erased.data.reason },
    });
    expect(emailReservation(sut)).toBeNull();
  });

  it('folds the masked history into the same contact as the original (a replay equals the inline projection)', () => {
    expect(fold(recorded(masked([...history, erased])))).toEqual(fold(recorded([...history, erased])));
  });

  it('folds a masked history without the erasure without throwing', () => {
    expect(() => fold(recorded(masked(history)))).not.toThrow();
  });
});

describe(maskPersonalData.name, () => {
  it('masks names, email and company but keeps the id and type', () => {
    const sut = maskPersonalData('ContactCreated', aContactCreated({ company: 'Acme' }).data);
    expect(sut).toEqual({
      contactId: aContactId,
      contactType: 'user',
      firstname: ERASED,
      lastname: ERASED,
      email: ERASED,
      company: ERASED,
    });
  });

  it('masks address lines but keeps the address id and nulls', () => {
    const sut = maskPersonalData('PrimaryAddressSet', aPrimaryAddressSet({ line1: '1 High St', line2: null }).data);
    expect(sut).toMatchObject({ address: { line1: ERASED, line2: null } });
    expect((sut.address as { id: string }).id).toBe(aPrimaryAddressSet().data.address.id);
  });

  it('masks tags, secrets and keeps role events as they are', () => {
    expect(maskPersonalData('TagsSet', { tags: ['a', 'b'] })).toEqual({ tags: [ERASED] });
    expect(maskPersonalData('PasswordSet', { passwordHash: aPasswordHash, reason: 'rehash' })).toEqual({
      passwordHash: ERASED,
      reason: 'rehash',
    });
    expect(maskPersonalData('RoleGranted', aRoleGranted().data)).toEqual(aRoleGranted().data);
    expect(personalFields('SomethingNew')).toEqual([]);
  });

  it('changes nothing when masking again', () => {
    const once = maskPersonalData('ContactCreated', aContactCreated().data);
    expect(maskPersonalData('ContactCreated', once)).toEqual(once);
  });
});

describe(emailsHeld.name, () => {
  it('lists every email the history gave the contact, normalized, once each, and none once masked', () => {
    const events: ContactEvent[] = [
      aContactCreated({ email: 'Bob@Example.com ' }),
      { type: 'ContactUpdated', data: { email: 'robert@example.com' } },
      { type: 'ContactUpdated', data: { firstname: 'Rob' } },
      { type: 'ContactUpdated', data: { email: 'bob@example.com' } },
    ];

    expect(emailsHeld(events)).toEqual(['bob@example.com', 'robert@example.com']);
    expect(emailsHeld(masked(events))).toEqual([]);
  });
});
