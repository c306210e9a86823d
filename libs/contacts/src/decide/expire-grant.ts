import type { ExpireGrant } from '../contact.commands.js';
import { ContactNotFound } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';
import { hasPassed } from '../contact.time.js';

/**
 * Revokes a grant whose time is up. A grant since revoked, or given another expiry, is left alone
 * (the job was for terms that no longer hold), and so is one whose time has not come.
 */
export function expireGrant(command: ExpireGrant, state: ContactState, now: Date): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  const grant = state.grants.find((g) => g.reference === command.reference);
  if (!grant || grant.expires === null || grant.expires !== command.expires) return [];
  if (!hasPassed(grant.expires, now)) return [];
  return [{ type: 'RoleRevoked', data: { reference: grant.reference, reason: 'expired' } }];
}
