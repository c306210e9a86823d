import type { AcceptInvite } from '../contact.commands.js';
import { ContactRejected, fieldError, InviteUnusable } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';
import { grantIsLive, hasPassed } from '../contact.time.js';

/**
 * Accepting an invite verifies the email (the person read the mail), so grants waiting for email
 * verification become active; grants past their expiry stay as they are. It sets the password
 * chosen, and needs one unless the contact holds a password already (a verification mail).
 */
export function acceptInvite(command: AcceptInvite, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new InviteUnusable('unknown');
  if (state.deleted !== undefined) throw new InviteUnusable('deleted');
  const invite = state.invite;
  if (state.retiredInvite?.tokenHash === command.tokenHash) throw new InviteUnusable('retired');
  if (invite === null) throw new InviteUnusable('unknown');
  if (invite.tokenHash !== command.tokenHash) throw new InviteUnusable('superseded');
  if (invite.status === 'accepted') throw new InviteUnusable('used');
  if (hasPassed(invite.expiresAt, now)) throw new InviteUnusable('expired');
  if (command.passwordHash === null && state.passwordHash === null) {
    throw new ContactRejected([fieldError('/password', 'required', 'is required: choose a password')]);
  }
  const events: ContactEvent[] = [];
  if (command.passwordHash !== null) events.push({ type: 'PasswordSet', data: { passwordHash: command.passwordHash } });
  events.push({ type: 'InviteAccepted', data: { tokenHash: command.tokenHash } });
  for (const g of state.grants) {
    if (g.status !== 'pending' || g.pendingReason !== 'email_verification') continue;
    if (!grantIsLive(g, now)) continue;
    events.push({ type: 'RoleActivated', data: { reference: g.reference, by: 'email' } });
  }
  return events;
}
