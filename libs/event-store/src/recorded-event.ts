import { isContactEvent, type Recorded } from '@app/contacts';
import { UnknownEventType } from './event.types.js';

/** What reading an event as the domain's needs of a stored row, whichever columns a query selected. */
export interface StoredEventFields {
  type: string;
  data: unknown;
  version: number;
  recordedAt: string | Date;
}

/**
 * The one crossing from a stored event to a domain event: its type must be one the domain knows.
 * An unknown type (written by a newer release during a rolling upgrade) is refused with
 * UnknownEventType rather than folded as something it is not.
 */
export function toRecorded(stored: StoredEventFields): Recorded {
  const event = { type: stored.type, data: stored.data };
  if (!isContactEvent(event)) throw new UnknownEventType(stored.type);
  const recordedAt = typeof stored.recordedAt === 'string' ? stored.recordedAt : stored.recordedAt.toISOString();
  return { ...event, version: stored.version, recordedAt };
}
