import type { RehashPassword } from './contact.commands.js';
import { decide, needsRehash } from './contact.decide.js';
import { ContactNotFound } from './contact.errors.js';
import type { ContactEvent } from './contact.events.js';
import { aContactCreated, aContactId, given } from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');
const COST_4 = '$2b$04$abcdefghijklmnopqrstuu0123456789ABCDEFGHIJKLMNOPQRSTU';
const COST_5 = '$2b$05$abcdefghijklmnopqrstuu0123456789ABCDEFGHIJKLMNOPQRSTU';
const OLD_VARIANT = '$2y$05$abcdefghijklmnopqrstuu0123456789ABCDEFGHIJKLMNOPQRSTU';
const REHASHED = '$2b$05$zyxwvutsrqponmlkjihgfe9876543210ZYXWVUTSRQPONMLKJIHGF';

const passwordSet = (passwordHash: string): ContactEvent => ({ type: 'PasswordSet', data: { passwordHash } });
const rehash = (overrides: Partial<Omit<RehashPassword, 'type'>> = {}): RehashPassword => ({
  type: 'RehashPassword',
  contactId: aContactId,
  verifiedHash: COST_4,
  passwordHash: REHASHED,
  cost: 5,
  ...overrides,
});

describe(needsRehash.name, () => {
  const sut = needsRehash;

  it.each([
    ['a lower cost', COST_4, 5, true],
    ['the same cost', COST_5, 5, false],
    ['a higher cost', COST_5, 4, false],
    ['a $2a$ hash of the same cost', COST_5.replace('$2b$', '$2a$'), 5, true],
    ['a $2y$ hash of a higher cost', OLD_VARIANT, 4, true],
    ['something that is not a bcrypt hash', 'plain-text', 12, false],
  ])('judges %s', (_case, hash, cost, expected) => {
    expect(sut(hash, cost)).toBe(expected);
  });
});

describe(decide.name, () => {
  describe('RehashPassword', () => {
    it('replaces a weaker hash, saying why', () => {
      given(aContactCreated(), passwordSet(COST_4))
        .when(rehash(), now)
        .then([{ type: 'PasswordSet', data: { passwordHash: REHASHED, reason: 'rehash' } }]);
    });

    it('replaces a $2y$ hash of the current cost', () => {
      given(aContactCreated(), passwordSet(OLD_VARIANT))
        .when(rehash({ verifiedHash: OLD_VARIANT }), now)
        .then([{ type: 'PasswordSet', data: { passwordHash: REHASHED, reason: 'rehash' } }]);
    });

    it('records nothing when the password changed since it was verified', () => {
      given(aContactCreated(), passwordSet(COST_4), passwordSet(COST_5.replace('abc', 'xyz')))
        .when(rehash(), now)
        .then([]);
    });

    it('records nothing when another sign-in rehashed it first', () => {
      given(aContactCreated(), passwordSet(COST_4), { type: 'PasswordSet', data: { passwordHash: COST_5, reason: 'rehash' } })
        .when(rehash(), now)
        .then([]);
    });

    it('records nothing for a hash as strong as the cost asks', () => {
      given(aContactCreated(), passwordSet(COST_5))
        .when(rehash({ verifiedHash: COST_5 }), now)
        .then([]);
    });

    it('records nothing for a contact that is not a user', () => {
      given(aContactCreated({ contactType: 'guest' }), passwordSet(COST_4))
        .when(rehash(), now)
        .then([]);
    });

    it('needs the contact to exist', () => {
      given().when(rehash(), now).thenThrows(ContactNotFound);
    });
  });
});
