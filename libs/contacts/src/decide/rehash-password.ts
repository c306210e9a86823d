import type { RehashPassword } from '../contact.commands.js';
import { ContactNotFound } from '../contact.errors.js';
import type { ContactEvent } from '../contact.events.js';
import type { ContactState } from '../contact.state.js';

const BCRYPT_HASH = /^\$2([aby])\$(\d{2})\$/;

/**
 * A bcrypt hash a sign-in should replace: one of a lower cost than `cost`, or of the `$2a$`/`$2y$`
 * variants old sites wrote (bcrypt's `$2b$` is the one without their wrap-around bug). Anything
 * that is not a bcrypt hash is left alone: it cannot have matched a password.
 */
export function needsRehash(hash: string, cost: number): boolean {
  const match = BCRYPT_HASH.exec(hash);
  if (!match) return false;
  return match[1] !== 'b' || Number(match[2]) < cost;
}

/**
 * Replaces the hash a sign-in verified with a stronger one of the same password. When the hash is
 * no longer the verified one (the password changed meanwhile, or another sign-in rehashed it
 * first), or no longer needs it, nothing is recorded: a rehash never undoes a newer password.
 */
export function rehashPassword(command: RehashPassword, state: ContactState): ContactEvent[] {
  if (state === null) throw new ContactNotFound(command.contactId);
  if (state.type !== 'user' || state.passwordHash !== command.verifiedHash) return [];
  if (!needsRehash(state.passwordHash, command.cost)) return [];
  return [{ type: 'PasswordSet', data: { passwordHash: command.passwordHash, reason: 'rehash' } }];
}
