import type { DeleteContact } from '../contact.commands.js';
import { ContactIsDeleted, ContactNotFound } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';

/**
 * Deletes a contact (DESIGN §10). Deleting it again is refused like any other command on a
 * deleted contact: the first deletion is the one its history records, with who made it.
 */
export function deleteContact(command: DeleteContact, state: ContactState): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  if (state.deleted !== undefined) throw new ContactIsDeleted(command.contactId, state.deleted);
  return [{ type: 'ContactDeleted', data: {} }];
}
