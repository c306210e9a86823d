import type { DecideGrant } from '../contact.commands.js';
import { ContactIsDeleted, ContactNotFound, ContactRejected, fieldError, GrantNotFound } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';
import { grantIsLive } from '../contact.time.js';

/** An administrator's decision on a grant waiting for approval (DESIGN §6 approve/reject). */
export function decideGrant(command: DecideGrant, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  if (state.deleted !== undefined) throw new ContactIsDeleted(command.contactId, state.deleted);
  const grant = state.grants.find((g) => g.reference === command.reference);
  if (!grant || !grantIsLive(grant, now)) {
    throw new GrantNotFound(command.contactId, command.reference);
  }
  if (grant.status !== 'pending') {
    throw new ContactRejected(
      [fieldError('', 'grant_not_pending', `the grant of ${grant.reference} is ${grant.status}, not waiting for a decision`)],
      'conflict',
    );
  }
  if (command.type === 'RejectGrant') return [{ type: 'RoleRevoked', data: { reference: grant.reference, reason: 'rejected' } }];
  // An `email` grant is proof the person reads that mailbox: only accepting the invite activates it.
  if (grant.pendingReason === 'email_verification') {
    throw new ContactRejected(
      [fieldError('', 'grant_awaits_email_verification', `the grant of ${grant.reference} becomes active when the email is verified`)],
      'conflict',
    );
  }
  return [{ type: 'RoleActivated', data: { reference: grant.reference, by: 'admin' } }];
}
