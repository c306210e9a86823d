import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { emailReservation, fold, type ContactState } from '@app/contacts';
import { toRecorded } from '@app/event-store';
import { contactsProjection, textArrayLiteral, type ContactRow } from './contacts.projection.js';
import type { Client, Rebuild } from './read-tables.context.js';

/** Loading the shadow tables: the log read stream by stream, folded, and written (COPY on the first fill). */

interface EventRow {
  position: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: Record<string, unknown>;
  recorded_at: Date;
  hash: string;
}

/**
 * Reads events stream by stream (keyset on (stream_id, stream_version), the unique index) and
 * folds each stream with the projection's own code, writing finished rows in multi-row inserts.
 * The next batch is read while the previous one is written. Returns the events and streams read.
 */
export async function foldStreams(
  r: Rebuild,
  source: Client,
  options: { upsert: boolean; only?: string[] },
  onBatch?: (events: number) => void | Promise<void>,
): Promise<{ events: number; streams: number }> {
  const read = (after: [string, number]): Promise<EventRow[]> => {
    const result = source
      .query<EventRow>({
        name: options.only ? 'rebuild_read_streams' : 'rebuild_read_log',
        text: `SELECT position, stream_id, stream_version, type, data, recorded_at, hash FROM events
               WHERE (stream_id, stream_version) > ($1::uuid, $2::int) ${options.only ? 'AND stream_id = ANY($4::uuid[])' : ''}
               ORDER BY stream_id, stream_version LIMIT $3`,
        values: [...after, r.batchSize, ...(options.only ? [options.only] : [])],
      })
      .then((r) => r.rows);
    result.catch(() => undefined); // awaited below; this only keeps a rejection from counting as unhandled meanwhile
    return result;
  };
  let writing: Promise<void> = Promise.resolve();
  const write = (rows: ContactRow[]): void => {
    writing = writing.then(() => writeRows(r, rows, options.upsert));
    writing.catch(() => undefined);
  };

  const streams = new StreamFold();
  let events = 0;
  let next: Promise<EventRow[]> | null = read([NO_STREAM, 0]);
  while (next) {
    const batch: EventRow[] = await next;
    const last = batch.at(-1);
    next = batch.length === r.batchSize && last ? read([last.stream_id, last.stream_version]) : null;
    const finished: ContactRow[] = [];
    for (const event of batch) {
      const row = streams.add(event);
      if (row) finished.push(row);
    }
    events += batch.length;
    write(finished);
    await onBatch?.(events);
  }
  const row = streams.finish();
  if (row) write([row]);
  await writing;
  return { events, streams: streams.count };
}

/**
 * The rows of one batch. The first fill COPYs them in: Postgres parses COPY about six times
 * faster than the same rows through json_to_recordset, which made the writer the slowest stage of
 * a rebuild. A catch-up (`upsert`) replaces rows already there, which COPY cannot.
 */
export async function writeRows(r: Rebuild, rows: ContactRow[], upsert: boolean): Promise<void> {
  if (rows.length === 0) return;
  if (!upsert) return copyIn(r, rows);
  const contacts = rows.map((row) => ({
    id: row.id,
    type: row.type,
    email: row.email,
    tags: row.tags,
    version: row.version,
    created: row.created,
    // json_to_recordset hands a json column the text it was given: the view keeps its field
    // order byte for byte, as the inline projection's `$n::json` does
    view: row.view,
    state: row.state,
    next_expiry: row.nextExpiry,
    head_hash: row.headHash,
  }));
  await r.writer.query(
    `INSERT INTO contacts_rebuild (id, type, email, tags, version, created, view, state, next_expiry, head_hash)
     SELECT id, type, email, tags, version, created, view, state, next_expiry, head_hash
     FROM json_to_recordset($1::json) AS r(id uuid, type text, email text, tags text[], version int, created timestamptz,
                                          view json, state jsonb, next_expiry timestamptz, head_hash text)
     ${
       upsert
         ? `ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, email = EXCLUDED.email, tags = EXCLUDED.tags,
              version = EXCLUDED.version, created = EXCLUDED.created, view = EXCLUDED.view, state = EXCLUDED.state,
              next_expiry = EXCLUDED.next_expiry, head_hash = EXCLUDED.head_hash`
         : ''
     }`,
    [JSON.stringify(contacts)],
  );
  const reservations = rows.flatMap((row) => {
    const reservation = emailReservation(row.state);
    return reservation ? [{ kind: reservation.kind, email: reservation.email, contact_id: row.id }] : [];
  });
  if (reservations.length === 0) return;
  await r.writer.query(
    `INSERT INTO email_reservations_rebuild (kind, email, contact_id)
     SELECT kind, email, contact_id FROM json_to_recordset($1::json) AS r(kind text, email text, contact_id uuid)`,
    [JSON.stringify(reservations)],
  );
}

export async function copyIn(r: Rebuild, rows: ContactRow[]): Promise<void> {
  await copyRows(
    r.writer,
    'contacts_rebuild (id, type, email, tags, version, created, view, state, next_expiry, head_hash)',
    rows.map((row) => [
      row.id,
      row.type,
      row.email,
      textArrayLiteral(row.tags),
      String(row.version),
      row.created,
      // a json column keeps the text it is given: the view keeps its field order byte for byte,
      // as the inline projection's `$n::json` does
      JSON.stringify(row.view),
      JSON.stringify(row.state),
      row.nextExpiry,
      row.headHash,
    ]),
  );
  const reservations = rows.flatMap((row) => {
    const reservation = emailReservation(row.state);
    return reservation ? [[reservation.kind, reservation.email, row.id]] : [];
  });
  if (reservations.length > 0) await copyRows(r.writer, 'email_reservations_rebuild (kind, email, contact_id)', reservations);
}

const NO_STREAM = '00000000-0000-0000-0000-000000000000';

/** Folds events that arrive in stream order, handing back each stream's row once its last event has passed. */
class StreamFold {
  count = 0;
  private streamId: string | null = null;
  private state: ContactState = null;
  private hash: string | null = null;

  add(event: EventRow): ContactRow | null {
    let finished: ContactRow | null = null;
    if (event.stream_id !== this.streamId) {
      finished = this.finish();
      this.streamId = event.stream_id;
      this.state = null;
      this.count += 1;
    }
    this.state = fold(
      [toRecorded({ type: event.type, data: event.data, version: event.stream_version, recordedAt: event.recorded_at })],
      this.state,
    );
    this.hash = event.hash;
    return finished;
  }

  /** The row of the stream being folded (null before any event, or for a stream that holds no contact). */
  finish(): ContactRow | null {
    return this.streamId === null ? null : contactsProjection.toRow(this.state, this.hash);
  }
}

/** COPY … FROM STDIN in CSV: a null is an unquoted empty field, every other value is quoted. */
export async function copyRows(on: Client, target: string, rows: (string | null)[][]): Promise<void> {
  const field = (value: string | null): string => (value === null ? '' : `"${value.replace(/"/g, '""')}"`);
  const text = rows.map((row) => row.map(field).join(',')).join('\n') + '\n';
  await pipeline(Readable.from([text]), on.query(copyFrom(`COPY ${target} FROM STDIN WITH (FORMAT csv)`)));
}
