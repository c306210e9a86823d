import type { Recorded } from './contact.events.js';
import { fold } from './contact.state.js';
import { atMoment, toContactView, type ContactView } from './contact.view.js';

/**
 * The contact a person's data export shows (DESIGN §10): as a read shows it at `now`, or, once it
 * is deleted, as a read showed it just before the deletion. Null for a stream that holds no contact.
 */
export function exportedContact(events: readonly Recorded[], now: Date): ContactView | null {
  const deletion = events.find((e) => e.type === 'ContactDeleted');
  const state = fold(deletion ? events.filter((e) => e.version < deletion.version) : events);
  if (state === null) return null;
  return atMoment(toContactView(state), deletion ? new Date(deletion.recordedAt) : now);
}
