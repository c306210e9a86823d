import type { NewInvite } from '../contact.commands.js';
import type { InviteIssued } from '../contact.events.js';

/** The invite issued as the stream's `version`th event: its token is derived from that version. */
export function issueInvite(invite: NewInvite, version: number): InviteIssued {
  return { type: 'InviteIssued', data: { tokenHash: invite.tokenHashAt(version), expiresAt: invite.expiresAt } };
}
