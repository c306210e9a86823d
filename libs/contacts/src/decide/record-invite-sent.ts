import type { RecordInviteSent } from '../contact.commands.js';
import { ContactNotFound } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';

/** Recording a sent invite twice, or one that was superseded or accepted meanwhile, records nothing. */
export function recordInviteSent(command: RecordInviteSent, state: ContactState): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  const invite = state.invite;
  if (invite?.tokenHash !== command.tokenHash || invite.status !== 'pending') return [];
  return [{ type: 'InviteSent', data: { tokenHash: command.tokenHash } }];
}
