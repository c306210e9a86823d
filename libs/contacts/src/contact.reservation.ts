import type { ContactType } from './contact.events.js';
import { normalizeEmail } from './contact.rules.js';
import type { ContactState } from './contact.state.js';

/**
 * The email a contact holds exclusively within its type; guests hold none (Evance allows
 * duplicates), nor does a deleted contact (its email is free for a new one at once).
 */
export interface EmailReservation {
  kind: Exclude<ContactType, 'guest'>;
  email: string;
}

export function emailReservation(state: ContactState): EmailReservation | null {
  if (state === null || state.type === 'guest' || state.deleted !== undefined) return null;
  return { kind: state.type, email: normalizeEmail(state.email) };
}

/** Recipients must not take an email a user holds (Evance); users may take a recipient's. */
export function conflictingKinds(kind: EmailReservation['kind']): EmailReservation['kind'][] {
  return kind === 'recipient' ? ['user'] : [];
}
