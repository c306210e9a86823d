import type { AcceptInvite, RecordInviteSent } from './contact.commands.js';
import { decide } from './contact.decide.js';
import { ContactNotFound, InviteUnusable } from './contact.errors.js';
import type { ContactEvent } from './contact.events.js';
import { fold } from './contact.state.js';
import { aContactCreated, aContactId, anInviteIssued, aPasswordHash, aRoleGranted, given, recorded } from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');
const TOKEN_HASH = 'hash-of-the-mailed-token';

const issued = anInviteIssued({ tokenHash: TOKEN_HASH, expiresAt: '2026-01-22T10:00:00+00:00' });
const sent: ContactEvent = { type: 'InviteSent', data: { tokenHash: TOKEN_HASH } };
const accepted: ContactEvent = { type: 'InviteAccepted', data: { tokenHash: TOKEN_HASH } };

const recordSent = (tokenHash = TOKEN_HASH): RecordInviteSent => ({ type: 'RecordInviteSent', contactId: aContactId, tokenHash });
const accept = (tokenHash = TOKEN_HASH): AcceptInvite => ({
  type: 'AcceptInvite',
  contactId: aContactId,
  tokenHash,
  passwordHash: aPasswordHash,
});

describe(decide.name, () => {
  describe('RecordInviteSent', () => {
    it('records that the pending invite was mailed', () => {
      given(aContactCreated(), issued).when(recordSent(), now).then([sent]);
    });

    it.each([
      ['already sent', [issued, sent]],
      ['accepted', [issued, accepted]],
      ['superseded by a newer invite', [issued, anInviteIssued({ tokenHash: 'a-newer-hash' })]],
    ])('records nothing for an invite %s', (_case, history: ContactEvent[]) => {
      given(aContactCreated(), ...history)
        .when(recordSent(), now)
        .then([]);
    });

    it('needs the contact to exist', () => {
      given().when(recordSent(), now).thenThrows(ContactNotFound);
    });
  });

  describe('AcceptInvite', () => {
    it('sets the password and retires the token', () => {
      given(aContactCreated(), issued, sent)
        .when(accept(), now)
        .then([
          { type: 'PasswordSet', data: { passwordHash: aPasswordHash } },
          { type: 'InviteAccepted', data: { tokenHash: TOKEN_HASH } },
        ]);
    });

    it('works before the mail is recorded as sent', () => {
      given(aContactCreated(), issued)
        .when(accept(), now)
        .then([
          { type: 'PasswordSet', data: { passwordHash: aPasswordHash } },
          { type: 'InviteAccepted', data: { tokenHash: TOKEN_HASH } },
        ]);
    });

    it('activates the grants waiting for the email to be verified, and only those', () => {
      given(
        aContactCreated(),
        aRoleGranted({ reference: 'newsletter', status: 'pending', pendingReason: 'email_verification' }),
        aRoleGranted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' }),
        aRoleGranted({ reference: 'customer' }),
        aRoleGranted({ reference: 'lapsed', status: 'pending', pendingReason: 'email_verification', expires: '2026-01-15T09:00:00+00:00' }),
        issued,
      )
        .when(accept(), now)
        .then([
          { type: 'PasswordSet', data: { passwordHash: aPasswordHash } },
          { type: 'InviteAccepted', data: { tokenHash: TOKEN_HASH } },
          { type: 'RoleActivated', data: { reference: 'newsletter', by: 'email' } },
        ]);
    });

    it.each([
      ['used', [issued, accepted], TOKEN_HASH],
      ['superseded', [issued, anInviteIssued({ tokenHash: 'a-newer-hash' })], TOKEN_HASH],
      ['unknown', [], TOKEN_HASH],
    ])('refuses a %s invite', (reason, history: ContactEvent[], tokenHash: string) => {
      const run = (): ContactEvent[] => decide(accept(tokenHash), fold(recorded([aContactCreated(), ...history])), now);

      expect(run).toThrow(InviteUnusable);
      expect(() => run()).toThrow(expect.objectContaining({ reason }) as Error);
    });

    it('refuses an invite past its expiry, to the second', () => {
      const state = fold(recorded([aContactCreated(), issued]));

      expect(() => decide(accept(), state, new Date('2026-01-22T10:00:00Z'))).toThrow(
        expect.objectContaining({ reason: 'expired' }) as Error,
      );
      expect(decide(accept(), state, new Date('2026-01-22T09:59:59Z')).map((e) => e.type)).toContain('InviteAccepted');
    });
  });
});
