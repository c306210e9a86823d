import type { DecideGrant, ExpireGrant } from './contact.commands.js';
import { decide } from './contact.decide.js';
import { ContactNotFound, ContactRejected, GrantNotFound } from './contact.errors.js';
import type { ContactEvent } from './contact.events.js';
import { fold } from './contact.state.js';
import { aContactCreated, aContactId, aRoleGranted, given, recorded } from './testing/contact.factories.js';

const now = new Date('2026-01-15T10:00:00Z');
const EXPIRES = '2026-01-15T10:00:00+00:00';

const expire = (reference = 'customer', expires = EXPIRES): ExpireGrant => ({
  type: 'ExpireGrant',
  contactId: aContactId,
  reference,
  expires,
});
const approve = (reference = 'trade-account'): DecideGrant => ({ type: 'ApproveGrant', contactId: aContactId, reference });
const reject = (reference = 'trade-account'): DecideGrant => ({ type: 'RejectGrant', contactId: aContactId, reference });

const awaitingAdmin = aRoleGranted({ reference: 'trade-account', status: 'pending', pendingReason: 'admin_approval' });
const awaitingEmail = aRoleGranted({ reference: 'newsletter', status: 'pending', pendingReason: 'email_verification' });

describe(decide.name, () => {
  describe('ExpireGrant', () => {
    it('revokes a grant whose expiry has come', () => {
      given(aContactCreated(), aRoleGranted({ expires: EXPIRES }))
        .when(expire(), now)
        .then([{ type: 'RoleRevoked', data: { reference: 'customer', reason: 'expired' } }]);
    });

    it('does nothing before the expiry, not even a millisecond early', () => {
      given(aContactCreated(), aRoleGranted({ expires: EXPIRES }))
        .when(expire(), new Date(now.getTime() - 1))
        .then([]);
    });

    it.each<[string, ContactEvent[]]>([
      ['given a later expiry since', [aRoleGranted({ expires: EXPIRES }), aRoleGranted({ expires: '2026-02-01T00:00:00+00:00' })]],
      ['made permanent since', [aRoleGranted({ expires: EXPIRES }), aRoleGranted({ expires: null })]],
      [
        'revoked already',
        [aRoleGranted({ expires: EXPIRES }), { type: 'RoleRevoked', data: { reference: 'customer', reason: 'removed' } }],
      ],
      [
        'revoked by an earlier run of the job',
        [aRoleGranted({ expires: EXPIRES }), { type: 'RoleRevoked', data: { reference: 'customer', reason: 'expired' } }],
      ],
    ])('leaves alone a grant %s', (_case, history) => {
      given(aContactCreated(), ...history)
        .when(expire(), now)
        .then([]);
    });

    it('needs the contact to exist', () => {
      given().when(expire(), now).thenThrows(ContactNotFound);
    });
  });

  describe('ApproveGrant and RejectGrant', () => {
    it('activates a grant waiting for an administrator', () => {
      given(aContactCreated(), awaitingAdmin)
        .when(approve(), now)
        .then([{ type: 'RoleActivated', data: { reference: 'trade-account', by: 'admin' } }]);
    });

    it('revokes a rejected grant', () => {
      given(aContactCreated(), awaitingAdmin)
        .when(reject(), now)
        .then([{ type: 'RoleRevoked', data: { reference: 'trade-account', reason: 'rejected' } }]);
    });

    it('may reject a grant waiting for email verification, but not approve it', () => {
      given(aContactCreated(), awaitingEmail)
        .when(reject('newsletter'), now)
        .then([{ type: 'RoleRevoked', data: { reference: 'newsletter', reason: 'rejected' } }]);
      given(aContactCreated(), awaitingEmail)
        .when(approve('newsletter'), now)
        .thenRejected([{ field: '', code: 'grant_awaits_email_verification' }]);
    });

    it.each([approve, reject])('refuses to decide a grant that is not pending (%p), as a conflict', (command) => {
      const state = fold(recorded([aContactCreated(), aRoleGranted({ reference: 'trade-account' })]));

      const error = (() => {
        try {
          decide(command(), state, now);
        } catch (e) {
          return e;
        }
        return null;
      })();

      expect(error).toBeInstanceOf(ContactRejected);
      expect((error as ContactRejected).kind).toBe('conflict');
      expect((error as ContactRejected).errors.map((e) => e.code)).toEqual(['grant_not_pending']);
    });

    it('answers that there is no such grant for an unknown or expired one', () => {
      given(aContactCreated()).when(approve(), now).thenThrows(GrantNotFound);
      given(aContactCreated(), { ...awaitingAdmin, data: { ...awaitingAdmin.data, expires: EXPIRES } })
        .when(approve(), now)
        .thenThrows(GrantNotFound);
    });
  });
});
