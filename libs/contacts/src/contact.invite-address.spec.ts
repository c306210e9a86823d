import type { AcceptInvite } from './contact.commands.js';
import { decide } from './contact.decide.js';
import { ContactRejected, InviteUnusable } from './contact.errors.js';
import type { ContactEvent } from './contact.events.js';
import { fold } from './contact.state.js';
import {
  aContactCreated,
  aContactId,
  anInvite,
  anInviteIssued,
  anUpdateCommand,
  aPasswordHash,
  aRoleGranted,
  given,
  recorded,
} from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');
const TOKEN_HASH = 'hash-of-the-mailed-token';
const NEW_HASH = '$2b$04$anotherhashanotherhashanotherhashanotherhashanotherha';

const issued = anInviteIssued({ tokenHash: TOKEN_HASH, expiresAt: '2026-01-22T10:00:00+00:00' });
const sent: ContactEvent = { type: 'InviteSent', data: { tokenHash: TOKEN_HASH } };
const accepted: ContactEvent = { type: 'InviteAccepted', data: { tokenHash: TOKEN_HASH } };
const passwordSet: ContactEvent = { type: 'PasswordSet', data: { passwordHash: aPasswordHash } };
const retired = (reason: 'email_changed' | 'password_set'): ContactEvent => ({
  type: 'InviteRetired',
  data: { tokenHash: TOKEN_HASH, reason },
});
const awaitingEmail = aRoleGranted({ reference: 'newsletter', status: 'pending', pendingReason: 'email_verification' });

const accept = (tokenHash = TOKEN_HASH, passwordHash: string | null = aPasswordHash): AcceptInvite => ({
  type: 'AcceptInvite',
  contactId: aContactId,
  tokenHash,
  passwordHash,
});

/** What accepting `tokenHash` on this history is refused with. */
const refusalOf = (history: ContactEvent[], command: AcceptInvite): unknown => {
  try {
    decide(command, fold(recorded(history)), now);
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
};

describe('an invite belongs to an address', () => {
  describe('UpdateContact', () => {
    it.each([
      ['issued', [issued]],
      ['sent', [issued, sent]],
    ])('retires an invite %s when the email changes', (_case, history: ContactEvent[]) => {
      given(aContactCreated(), ...history)
        .when(anUpdateCommand({ email: 'robert@example.com' }), now)
        .then([{ type: 'ContactUpdated', data: { email: 'robert@example.com' } }, retired('email_changed')]);
    });

    it('retires a pending invite when a password is set through the API', () => {
      given(aContactCreated(), issued, sent)
        .when(anUpdateCommand({}, { passwordHash: NEW_HASH }), now)
        .then([{ type: 'PasswordSet', data: { passwordHash: NEW_HASH } }, retired('password_set')]);
    });

    it('retires it once, as an email change, when both happen', () => {
      given(aContactCreated(), issued)
        .when(anUpdateCommand({ email: 'robert@example.com' }, { passwordHash: NEW_HASH }), now)
        .then([
          { type: 'ContactUpdated', data: { email: 'robert@example.com' } },
          { type: 'PasswordSet', data: { passwordHash: NEW_HASH } },
          retired('email_changed'),
        ]);
    });

    it('retires the old invite before it issues the one the same request asks for', () => {
      given(aContactCreated(), issued)
        .when(anUpdateCommand({ email: 'robert@example.com' }, { invite: anInvite() }), now)
        .then([
          { type: 'ContactUpdated', data: { email: 'robert@example.com' } },
          retired('email_changed'),
          anInviteIssued({ tokenHash: 'invite-hash-at-5' }),
        ]);
    });

    it.each([
      ['the email is sent unchanged', [issued], anUpdateCommand({ email: 'bob@example.com' })],
      ['only the name changes', [issued], anUpdateCommand({ firstname: 'Rob' })],
      ['the invite was accepted', [issued, accepted], anUpdateCommand({ email: 'robert@example.com' }, { passwordHash: NEW_HASH })],
      ['there is no invite', [], anUpdateCommand({ email: 'robert@example.com' })],
    ])('retires nothing when %s', (_case, history: ContactEvent[], command) => {
      const events = decide(command, fold(recorded([aContactCreated(), ...history])), now);

      expect(events.map((e) => e.type)).not.toContain('InviteRetired');
    });

    it('leaves the contact without an invite', () => {
      const state = fold(recorded([aContactCreated(), issued, sent, retired('email_changed')]));

      expect(state?.invite).toBeNull();
      expect(state?.retiredInvite).toEqual({ tokenHash: TOKEN_HASH, reason: 'email_changed' });
    });
  });

  describe('AcceptInvite', () => {
    it.each([
      ['after an email change', [issued, sent, retired('email_changed')]],
      ['after an API password set', [issued, passwordSet, retired('password_set')]],
      ['after a retirement and a newer invite', [issued, retired('email_changed'), anInviteIssued({ tokenHash: 'newer' })]],
    ])('refuses the retired link %s', (_case, history: ContactEvent[]) => {
      const error = refusalOf([aContactCreated(), ...history], accept());

      expect(error).toBeInstanceOf(InviteUnusable);
      expect((error as InviteUnusable).reason).toBe('retired');
    });

    it('records nothing when the worker mails a retired invite after all', () => {
      given(aContactCreated(), issued, retired('email_changed'))
        .when({ type: 'RecordInviteSent', contactId: aContactId, tokenHash: TOKEN_HASH }, now)
        .then([]);
    });
  });
});

describe('email-verification grants never dead-end', () => {
  const verification = anInviteIssued({ tokenHash: 'verification', expiresAt: '2026-01-22T10:00:00+00:00' });

  it('confirms the email of a person who holds a password, without a new one, and activates the grants waiting for it', () => {
    given(aContactCreated(), issued, passwordSet, accepted, awaitingEmail, verification)
      .when(accept('verification', null), now)
      .then([
        { type: 'InviteAccepted', data: { tokenHash: 'verification' } },
        { type: 'RoleActivated', data: { reference: 'newsletter', by: 'email' } },
      ]);
  });

  it('sets a password chosen on the verification page too', () => {
    given(aContactCreated(), passwordSet, awaitingEmail, verification)
      .when(accept('verification', NEW_HASH), now)
      .then([
        { type: 'PasswordSet', data: { passwordHash: NEW_HASH } },
        { type: 'InviteAccepted', data: { tokenHash: 'verification' } },
        { type: 'RoleActivated', data: { reference: 'newsletter', by: 'email' } },
      ]);
  });

  it('needs a password from a person who holds none', () => {
    given(aContactCreated(), issued)
      .when(accept(TOKEN_HASH, null), now)
      .thenRejected([{ field: '/password', code: 'required' }]);
  });

  it('refuses a used verification link', () => {
    const error = refusalOf(
      [aContactCreated(), passwordSet, verification, { type: 'InviteAccepted', data: { tokenHash: 'verification' } }],
      accept('verification', null),
    );

    expect(error).toBeInstanceOf(InviteUnusable);
    expect((error as InviteUnusable).reason).toBe('used');
    expect(error).not.toBeInstanceOf(ContactRejected);
  });
});
