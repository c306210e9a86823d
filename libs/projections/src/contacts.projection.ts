import {
  CONTACT_EVENT_TYPES,
  FOLD_VERSION,
  fold,
  normalizeEmail,
  toContactView,
  type Contact,
  type ContactEventType,
  type ContactState,
  type ContactView,
} from '@app/contacts';
import type { Queryable } from '@app/database';
import { toRecorded, type AlongsideStatement, type StoredEvent } from '@app/event-store';

/**
 * The folded contact as the read row keeps it, with the version of the fold that made it: a
 * snapshot of another fold is not used (see `loadContact`).
 */
export type ContactSnapshot = Contact & { foldVersion: number };

/** The row of the `contacts` read table a contact's state projects to. */
export interface ContactRow {
  id: string;
  type: string;
  email: string;
  tags: string[];
  version: number;
  created: string;
  view: ContactView;
  /** the folded contact: a snapshot commands start from instead of re-reading the stream */
  state: ContactSnapshot;
  /** the hash of the stream's last event, which the next append chains from */
  headHash: string | null;
  /** the earliest `expires` of the contact's grants: the expiry sweep finds what is due by it */
  nextExpiry: string | null;
}

/**
 * The `contacts` read table. It folds a contact's events with the domain's own `evolve`, so the
 * table, the write side and an `asOf` read can never disagree on what the events mean. The same
 * code runs inline in the append transaction and in a rebuild from the log.
 */
export const contactsProjection = {
  table: 'contacts',
  handles: CONTACT_EVENT_TYPES satisfies readonly ContactEventType[],

  toRow(state: ContactState, headHash: string | null = null): ContactRow | null {
    if (state === null) return null;
    return {
      state: { ...state, foldVersion: FOLD_VERSION },
      headHash,
      id: state.id,
      type: state.type,
      email: normalizeEmail(state.email),
      tags: state.tags,
      version: state.version,
      created: state.created,
      view: toContactView(state),
      nextExpiry: earliest(state.grants.map((g) => g.expires)),
    };
  },

  fromEvents(events: StoredEvent[]): ContactRow | null {
    return this.toRow(fold(events.map(toRecorded)), events.at(-1)?.hash ?? null);
  },

  /** Writes the row unless the table already holds a later version of it. */
  async save(tx: Queryable, row: ContactRow): Promise<void> {
    await tx.query({
      name: 'contacts_save',
      text: `${SAVE_SELECT}, $10::text ${SAVE_CONFLICT}`,
      values: [...saveValues(row), row.headHash],
    });
  },

  /**
   * The same write, to ride along with the append of the events it projects (one round trip);
   * the head hash is the one the append just computed.
   */
  saveAlongside(row: ContactRow): AlongsideStatement {
    return {
      name: 'contacts_save',
      text: `${SAVE_SELECT}, (SELECT hash FROM appended ORDER BY stream_version DESC LIMIT 1)
        WHERE EXISTS (SELECT 1 FROM appended) ${SAVE_CONFLICT}`,
      values: saveValues(row),
    };
  },
};

/** `saveAlongside` for rows of streams a `startStreams` just started, in one statement. */
export function saveManyAlongside(rows: ContactRow[]): AlongsideStatement {
  const columns: unknown[][] = [[], [], [], [], [], [], [], [], []];
  for (const row of rows) {
    const values = saveValues(row);
    values[3] = textArrayLiteral(row.tags);
    values.forEach((value, c) => columns[c]?.push(value));
  }
  return {
    name: 'contacts_save_many',
    text: `INSERT INTO contacts (id, type, email, tags, version, created, view, state, next_expiry, head_hash)
      SELECT r.id, r.type, r.email, r.tags::text[], r.version, r.created, r.view, r.state, r.next_expiry,
             (SELECT a.hash FROM appended a WHERE a.stream_id = r.id ORDER BY a.stream_version DESC LIMIT 1)
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::json[], $8::jsonb[], $9::timestamptz[])
           AS r(id, type, email, tags, version, created, view, state, next_expiry)
      ${SAVE_CONFLICT}`,
    values: columns,
  };
}

/**
 * A text[] literal: every element quoted, with its backslashes and quotes escaped. For an array
 * that travels as one element of a parameter, or as one field of a COPY.
 */
export function textArrayLiteral(values: string[]): string {
  return `{${values.map((value) => `"${value.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

const SAVE_SELECT = `INSERT INTO contacts (id, type, email, tags, version, created, view, state, next_expiry, head_hash)
  SELECT $1::uuid, $2::text, $3::text, $4::text[], $5::int, $6::timestamptz, $7::json, $8::jsonb, $9::timestamptz`;
const SAVE_CONFLICT = `ON CONFLICT (id) DO UPDATE SET
    type = EXCLUDED.type, email = EXCLUDED.email, tags = EXCLUDED.tags, version = EXCLUDED.version,
    view = EXCLUDED.view, state = EXCLUDED.state, next_expiry = EXCLUDED.next_expiry, head_hash = EXCLUDED.head_hash
  WHERE contacts.version < EXCLUDED.version`;

function saveValues(row: ContactRow): unknown[] {
  return [
    row.id,
    row.type,
    row.email,
    row.tags,
    row.version,
    row.created,
    JSON.stringify(row.view),
    JSON.stringify(row.state),
    row.nextExpiry,
  ];
}

function earliest(dates: (string | null)[]): string | null {
  let first: string | null = null;
  for (const date of dates) if (date !== null && (first === null || new Date(date) < new Date(first))) first = date;
  return first;
}
