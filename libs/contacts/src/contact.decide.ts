import type { ContactCommand } from './contact.commands.js';
import type { ContactEvent } from './contact.events.js';
import type { ContactState } from './contact.state.js';
import { acceptInvite } from './decide/accept-invite.js';
import { createContact } from './decide/create-contact.js';
import { decideGrant } from './decide/decide-grant.js';
import { ContactIsErased } from './contact.errors.js';
import { deleteContact } from './decide/delete-contact.js';
import { eraseContact } from './decide/erase-contact.js';
import { expireGrant } from './decide/expire-grant.js';
import { recordInviteSent } from './decide/record-invite-sent.js';
import { rehashPassword } from './decide/rehash-password.js';
import { updateContact } from './decide/update-contact.js';

export { checkCreate, type CreateOptions } from './decide/create-contact.js';
export { checkUpdate, type UpdateOptions } from './decide/update-contact.js';
export { needsRehash } from './decide/rehash-password.js';

const CLIENT_COMMANDS: ReadonlySet<ContactCommand['type']> = new Set([
  'UpdateContact',
  'ApproveGrant',
  'RejectGrant',
  'DeleteContact',
  'RehashPassword',
]);

/** The events a command gives on this state at `now`, or a domain error; one file per command under `decide/`. */
export function decide(command: ContactCommand, state: ContactState, now: Date): ContactEvent[] {
  // An erased contact is gone for every client's command; the worker's (a late mail, an expiry)
  // and an invite link find nothing to do on it, as on a deleted one.
  if (state?.erased !== undefined && CLIENT_COMMANDS.has(command.type)) throw new ContactIsErased(command.contactId, state.erased.erasedAt);
  switch (command.type) {
    case 'CreateContact':
      return createContact(command, state, now);
    case 'UpdateContact':
      return updateContact(command, state, now);
    case 'RecordInviteSent':
      return recordInviteSent(command, state);
    case 'AcceptInvite':
      return acceptInvite(command, state, now);
    case 'ExpireGrant':
      return expireGrant(command, state, now);
    case 'ApproveGrant':
    case 'RejectGrant':
      return decideGrant(command, state, now);
    case 'DeleteContact':
      return deleteContact(command, state);
    case 'EraseContact':
      return eraseContact(command, state);
    case 'RehashPassword':
      return rehashPassword(command, state);
    default: {
      const unhandled: never = command;
      throw new Error(`unhandled command ${(unhandled as { type: string }).type}`);
    }
  }
}
