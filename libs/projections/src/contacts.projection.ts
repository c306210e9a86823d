import {
  CONTACT_EVENT_TYPES,
  fold,
  normalizeEmail,
  toContactView,
  type ContactEventType,
  type ContactState,
  type ContactView,
  type Recorded,
} from '@app/contacts';
import type { Queryable } from '@app/database';
import type { AlongsideStatement, StoredEvent } from '@app/event-store';

/** The row of the `contacts` read table a contact's state projects to. */
export interface ContactRow {
  id: string;
  type: string;
  email: string;
  tags: string[];
  version: number;
  created: string;
  view: ContactView;
}

/**
 * The `contacts` read table. It folds a contact's events with the domain's own `evolve`, so the
 * table, the write side and an `asOf` read can never disagree on what the events mean. The same
 * code runs inline in the append transaction and in a rebuild from the log.
 */
export const contactsProjection = {
  table: 'contacts',
  handles: CONTACT_EVENT_TYPES satisfies readonly ContactEventType[],

  toRow(state: ContactState): ContactRow | null {
    if (state === null) return null;
    return {
      id: state.id,
      type: state.type,
      email: normalizeEmail(state.email),
      tags: state.tags,
      version: state.version,
      created: state.created,
      view: toContactView(state),
    };
  },

  fromEvents(events: StoredEvent[]): ContactRow | null {
    return this.toRow(fold(events.map(asRecorded)));
  },

  /** Writes the row unless the table already holds a later version of it. */
  async save(tx: Queryable, row: ContactRow): Promise<void> {
    await tx.query({ name: 'contacts_save', text: SAVE, values: saveValues(row) });
  },

  /** The same write, to ride along with the append of the events it projects (one round trip). */
  saveAlongside(row: ContactRow): AlongsideStatement {
    return { name: 'contacts_save', text: `${SAVE_SELECT} WHERE EXISTS (SELECT 1 FROM appended) ${SAVE_CONFLICT}`, values: saveValues(row) };
  },
};

const SAVE_SELECT = `INSERT INTO contacts (id, type, email, tags, version, created, view)
  SELECT $1::uuid, $2::text, $3::text, $4::text[], $5::int, $6::timestamptz, $7::json`;
const SAVE_CONFLICT = `ON CONFLICT (id) DO UPDATE SET
    type = EXCLUDED.type, email = EXCLUDED.email, tags = EXCLUDED.tags,
    version = EXCLUDED.version, view = EXCLUDED.view
  WHERE contacts.version < EXCLUDED.version`;
const SAVE = `${SAVE_SELECT} ${SAVE_CONFLICT}`;

function saveValues(row: ContactRow): unknown[] {
  return [row.id, row.type, row.email, row.tags, row.version, row.created, JSON.stringify(row.view)];
}

/** Events of a contact stream as the domain reads them. */
export function asRecorded(event: StoredEvent): Recorded {
  return { type: event.type, data: event.data, version: event.version, recordedAt: event.recordedAt } as Recorded;
}
