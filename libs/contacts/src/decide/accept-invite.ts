import type { AcceptInvite } from '../contact.commands.js';
import { InviteUnusable } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';

/**
 * Accepting an invite sets the password and verifies the email (the person read the mail), so
 * grants waiting for email verification become active. Grants past their expiry stay as they are.
 */
export function acceptInvite(command: AcceptInvite, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new InviteUnusable('unknown');
  const invite = state.invite;
  if (invite === null) throw new InviteUnusable('unknown');
  if (invite.tokenHash !== command.tokenHash) throw new InviteUnusable('superseded');
  if (invite.status === 'accepted') throw new InviteUnusable('used');
  if (new Date(invite.expiresAt).getTime() <= now.getTime()) throw new InviteUnusable('expired');
  const events: ContactEvent[] = [
    { type: 'PasswordSet', data: { passwordHash: command.passwordHash } },
    { type: 'InviteAccepted', data: { tokenHash: command.tokenHash } },
  ];
  for (const g of state.grants) {
    if (g.status !== 'pending' || g.pendingReason !== 'email_verification') continue;
    if (g.expires !== null && new Date(g.expires).getTime() <= now.getTime()) continue;
    events.push({ type: 'RoleActivated', data: { reference: g.reference, by: 'email' } });
  }
  return events;
}
