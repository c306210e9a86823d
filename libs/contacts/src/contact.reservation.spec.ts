import { conflictingKinds, emailReservation } from './contact.reservation.js';
import { aContact } from './testing/contact.factories.js';

describe(emailReservation.name, () => {
  const sut = emailReservation;

  it.each(['user', 'branch', 'recipient'] as const)('reserves the normalized email of a %s within its type', (type) => {
    expect(sut(aContact({ type, email: '  Bob@Example.COM ' }))).toEqual({ kind: type, email: 'bob@example.com' });
  });

  it('reserves nothing for a guest, whose email may be shared', () => {
    expect(sut(aContact({ type: 'guest' }))).toBeNull();
  });

  it('reserves nothing where there is no contact', () => {
    expect(sut(null)).toBeNull();
  });
});

describe(conflictingKinds.name, () => {
  const sut = conflictingKinds;

  it("keeps a recipient off a user's email", () => {
    expect(sut('recipient')).toEqual(['user']);
  });

  it.each(['user', 'branch'] as const)('lets a %s share an email with the other types', (kind) => {
    expect(sut(kind)).toEqual([]);
  });
});
