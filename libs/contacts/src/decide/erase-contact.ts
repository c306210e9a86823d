import type { EraseContact } from '../contact.commands.js';
import { ContactNotFound } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';

/**
 * Erases the person's data (DESIGN §10), deleted or not. A repeat records nothing: the first
 * erasure, with who made it and why, is the one the history keeps and every repeat answers with.
 */
export function eraseContact(command: EraseContact, state: ContactState): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  if (state.erased !== undefined) return [];
  return [{ type: 'ContactErased', data: { reason: command.reason } }];
}
