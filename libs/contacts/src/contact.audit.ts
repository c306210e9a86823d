import { ERASED } from './contact.erasure.js';
import type { ContactEventType } from './contact.events.js';

export const REDACTED = '[redacted]';

/**
 * The fields of events that hold a secret: a password's hash, an invite token's hash. They stay in
 * the store (the chain's hashes cover them), and any view of history shows them as `[redacted]`
 * (DESIGN §7).
 */
const SECRET_FIELDS: Partial<Record<ContactEventType, readonly string[]>> = {
  PasswordSet: ['passwordHash'],
  InviteIssued: ['tokenHash'],
  InviteSent: ['tokenHash'],
  InviteAccepted: ['tokenHash'],
  InviteRetired: ['tokenHash'],
};

export function redactSecrets(type: string, data: Record<string, unknown>): Record<string, unknown> {
  const fields = SECRET_FIELDS[type as ContactEventType];
  if (!fields) return data;
  const shown = { ...data };
  // An erased secret reads as erased: nothing of it is left to redact.
  for (const field of fields) if (field in shown && shown[field] !== ERASED) shown[field] = REDACTED;
  return shown;
}
