import { fold, FOLD_VERSION, type ContactState } from '@app/contacts';
import type { Queryable } from '@app/database';
import { EMPTY_STREAM, toRecorded, type StreamHead } from '@app/event-store';
import type { ContactSnapshot } from './contacts.projection.js';

export interface LoadedContact {
  state: ContactState;
  head: StreamHead;
}

interface SnapshotColumns {
  snapshot_version: number | null;
  state: ContactSnapshot | null;
  head_hash: string | null;
}

/** An event past the snapshot; all null on the one row of a stream with none. */
interface EventColumns {
  stream_version: number;
  type: string;
  data: unknown;
  recorded_at: Date;
  hash: string;
}

type Row = SnapshotColumns & (EventColumns | { [K in keyof EventColumns]: null });

/**
 * A contact as commands need it, in one round trip: the snapshot its read row keeps, plus any
 * events past it (none, unless a writer outside the service appended), folded with `evolve`. A
 * row without a snapshot, or with one another version of the fold made, means the whole stream is
 * read.
 */
export async function loadContact(on: Queryable, contactId: string): Promise<LoadedContact> {
  const { rows } = await on.query<Row>({
    name: 'contact_load',
    text: `SELECT s.version AS snapshot_version, s.state, s.head_hash,
                  e.stream_version, e.type, e.data, e.recorded_at, e.hash
           FROM (SELECT 1) AS one
           LEFT JOIN contacts s ON s.id = $1 AND s.state IS NOT NULL AND s.head_hash IS NOT NULL
                                AND s.state -> 'foldVersion' = to_jsonb($2::int)
           LEFT JOIN LATERAL (
             SELECT stream_version, type, data, recorded_at, hash FROM events
             WHERE stream_id = $1 AND stream_version > coalesce(s.version, 0)
           ) e ON true
           ORDER BY e.stream_version`,
    values: [contactId, FOLD_VERSION],
  });
  const first = rows[0];
  const snapshot: LoadedContact =
    first?.state && first.snapshot_version !== null
      ? { state: contactOf(first.state), head: { version: first.snapshot_version, hash: first.head_hash } }
      : { state: null, head: EMPTY_STREAM };
  const tail = rows.filter((r): r is SnapshotColumns & EventColumns => r.stream_version !== null);
  const last = tail.at(-1);
  if (!last) return snapshot;
  const events = tail.map((r) => toRecorded({ type: r.type, data: r.data, version: r.stream_version, recordedAt: r.recorded_at }));
  return { state: fold(events, snapshot.state), head: { version: last.stream_version, hash: last.hash } };
}

function contactOf(snapshot: ContactSnapshot): ContactState {
  const { foldVersion: _, ...contact } = snapshot;
  return contact;
}
