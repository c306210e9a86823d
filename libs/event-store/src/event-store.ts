import { isPgError, PgError, type Queryable } from '@app/database';
import { canonicalJson } from './canonical-json.js';
import { eventHash } from './event-hash.js';
import {
  ConcurrencyError,
  EMPTY_STREAM,
  type EventMetadata,
  type LogCheckpoint,
  type NewEvent,
  type StoredEvent,
  type StreamHead,
} from './event.types.js';

interface EventRow {
  position: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recorded_at: Date;
  transaction_id: string;
  hash: string;
  erasure_seal: string | null;
}

const COLUMNS = 'position, stream_id, stream_version, type, data, metadata, recorded_at, transaction_id::text, hash, erasure_seal';

function toStored(row: EventRow): StoredEvent {
  return {
    position: row.position,
    streamId: row.stream_id,
    version: row.stream_version,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at.toISOString(),
    transactionId: row.transaction_id,
    hash: row.hash,
    // Only an erased event carries one: every other event reads as it was appended.
    ...(row.erasure_seal === null ? {} : { seal: row.erasure_seal }),
  };
}

export interface Stream {
  events: StoredEvent[];
  head: StreamHead;
}

export interface AppendOptions {
  metadata: EventMetadata;
  recordedAt: Date;
  /**
   * A statement that must take effect exactly when the events do (an inline projection), sent in
   * the same round trip as the append: its `$1..$n` are its own `values`, and it may read the
   * `appended` rows. It is how a write reaches Postgres in one statement when no transaction is
   * needed for anything else. `appended` has `position`, `transaction_id`, `stream_version`, `hash`.
   */
  alongside?: AlongsideStatement;
}

export interface AlongsideStatement {
  /** names the combined prepared statement; the same name must always carry the same text */
  name: string;
  text: string;
  values: unknown[];
}

const APPEND_PARAMS = 5;
const START_PARAMS = 7;

/** A stream to start: its first events, with the metadata and time of the command that made them. */
export interface NewStream {
  streamId: string;
  events: NewEvent[];
  metadata: EventMetadata;
  recordedAt: Date;
}

/** The Postgres event store (DESIGN §3.2–3.3): append with an expected version, read a stream, read the log. */
export class EventStore {
  constructor(private readonly db: Queryable) {}

  async readStream(streamId: string, on: Queryable = this.db): Promise<Stream> {
    const { rows } = await on.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
    const events = rows.map(toStored);
    const last = events.at(-1);
    return { events, head: last ? { version: last.version, hash: last.hash } : EMPTY_STREAM };
  }

  /**
   * Masks the personal values of an erased stream's events (DESIGN §10), through `erase_stream`,
   * the log owner's one writer of existing events: each event whose data `mask` changes gets its
   * masked data and its seal, `eventHash(its hash, its masked content)`, which the verifier checks
   * in place of its link to the event before it. An event sealed already is left alone. Run it in
   * the transaction that appends the erasure; the stream must hold it. Returns how many it masked.
   */
  async maskStream(tx: Queryable, streamId: string, mask: (event: StoredEvent) => Record<string, unknown>): Promise<number> {
    const { events } = await this.readStream(streamId, tx);
    const masked = [];
    for (const event of events) {
      if (event.seal !== undefined) continue;
      const data = mask(event);
      if (canonicalJson(data) === canonicalJson(event.data)) continue;
      masked.push({ version: event.version, data, seal: eventHash(event.hash, { ...event, data }) });
    }
    if (masked.length === 0) return 0;
    const { rows } = await tx.query<{ changed: number }>('SELECT erase_stream($1, $2::jsonb) AS changed', [
      streamId,
      JSON.stringify(masked),
    ]);
    return rows[0]?.changed ?? 0;
  }

  /**
   * Appends after `head`; a writer that raced past it makes the unique (stream_id, stream_version)
   * index refuse the insert, which surfaces as a ConcurrencyError. Run it inside the caller's
   * transaction so reservations and projections commit with the events or not at all.
   */
  async append(tx: Queryable, streamId: string, head: StreamHead, events: NewEvent[], options: AppendOptions): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const recordedAt = options.recordedAt.toISOString();
    const rows = chained(streamId, head, events, options.metadata, recordedAt);
    const insert = `INSERT INTO events (stream_id, stream_version, type, data, metadata, recorded_at, hash)
         SELECT $1, r.version, r.type, r.data, $3, $4, r.hash
         FROM jsonb_to_recordset($2::jsonb) AS r(version int, type text, data jsonb, hash text)
         -- the head must exist: an expected version beyond the stream would leave a gap
         WHERE $5::int = 0 OR EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = $5)
         ORDER BY r.version
         RETURNING position, transaction_id::text, stream_version, hash`;
    const values = [streamId, JSON.stringify(rows), JSON.stringify(options.metadata), recordedAt, head.version];
    const alongside = options.alongside;
    try {
      // Named: prepared once per connection (the hot path of every write).
      const result = await tx.query<{ position: string; transaction_id: string }>(
        alongside
          ? {
              name: `events_append+${alongside.name}`,
              text: `WITH appended AS (${insert}), alongside AS (${renumber(alongside.text, APPEND_PARAMS)})
                     SELECT position, transaction_id FROM appended ORDER BY position`,
              values: [...values, ...alongside.values],
            }
          : { name: 'events_append', text: insert, values },
      );
      if (result.rows.length !== rows.length) throw new ConcurrencyError(streamId, head.version);
      return rows.map((row, i) => ({
        position: result.rows[i]?.position ?? '',
        streamId,
        version: row.version,
        type: row.type,
        data: row.data as Record<string, unknown>,
        metadata: options.metadata,
        recordedAt,
        transactionId: result.rows[i]?.transaction_id ?? '',
        hash: row.hash,
      }));
    } catch (error) {
      if (isPgError(error, PgError.uniqueViolation)) throw new ConcurrencyError(streamId, head.version);
      throw error;
    }
  }

  /**
   * Starts several streams in one statement: concurrent creates share one round trip and one
   * commit (a group commit), each stream with the hash chain and versions a single append gives
   * it. A stream that exists already makes the unique index refuse the whole statement
   * (ConcurrencyError). `alongside` is as for `append`; `appended` also has `stream_id`.
   */
  async startStreams(tx: Queryable, streams: NewStream[], alongside?: AlongsideStatement): Promise<void> {
    const columns: [string[], number[], string[], string[], string[], string[], string[]] = [[], [], [], [], [], [], []];
    for (const { streamId, events, metadata, recordedAt } of streams) {
      const at = recordedAt.toISOString();
      const meta = JSON.stringify(metadata);
      for (const { version, type, data, hash } of chained(streamId, EMPTY_STREAM, events, metadata, at)) {
        const row = [streamId, version, type, JSON.stringify(data), meta, at, hash] as const;
        row.forEach((value, c) => (columns[c] as unknown[]).push(value));
      }
    }
    const insert = `INSERT INTO events (stream_id, stream_version, type, data, metadata, recorded_at, hash)
         SELECT r.stream_id, r.version, r.type, r.data, r.metadata, r.recorded_at, r.hash
         FROM unnest($1::uuid[], $2::int[], $3::text[], $4::jsonb[], $5::jsonb[], $6::timestamptz[], $7::text[])
              WITH ORDINALITY AS r(stream_id, version, type, data, metadata, recorded_at, hash, n)
         ORDER BY r.n
         RETURNING position, transaction_id::text, stream_id, stream_version, hash`;
    try {
      await tx.query(
        alongside
          ? {
              name: `events_start+${alongside.name}`,
              text: `WITH appended AS (${insert}), alongside AS (${renumber(alongside.text, START_PARAMS)}) SELECT count(*) FROM appended`,
              values: [...columns, ...alongside.values],
            }
          : { name: 'events_start', text: insert, values: columns },
      );
    } catch (error) {
      if (isPgError(error, PgError.uniqueViolation)) throw new ConcurrencyError(streams.map((s) => s.streamId).join(', '), 0);
      throw error;
    }
  }

  /**
   * The whole log in commit order after `after` (DESIGN §3.3). Only transactions older than every
   * one still running are visible, so an event whose transaction commits late can never be passed
   * over: until it commits, nothing after it is handed out either. Transaction ids are on the log's
   * clock (`log_horizon()`), which carries on past a restore into a new server.
   */
  async readAll(after: LogCheckpoint | null, limit = 1000, on: Queryable = this.db): Promise<StoredEvent[]> {
    const { rows } = await on.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
       WHERE transaction_id < (SELECT log_horizon())
         AND (transaction_id, position) > ($1::xid8, $2::bigint)
       ORDER BY transaction_id, position
       LIMIT $3`,
      [after?.transactionId ?? '0', after?.position ?? '0', limit],
    );
    return rows.map(toStored);
  }

  /**
   * `readAll` for readers that keep only a position (the audit feed): the event at `after` gives
   * the commit-order place to go on from. Undefined when no event has that position.
   */
  async readFeed(query: FeedQuery): Promise<StoredEvent[] | undefined> {
    let from: LogCheckpoint | null = null;
    if (query.after !== undefined && query.after !== '0') {
      const { rows } = await this.db.query<{ transaction_id: string }>('SELECT transaction_id::text FROM events WHERE position = $1', [
        query.after,
      ]);
      const at = rows[0];
      if (!at) return undefined;
      from = { transactionId: at.transaction_id, position: query.after };
    }
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
       WHERE transaction_id < (SELECT log_horizon())
         AND (transaction_id, position) > ($1::xid8, $2::bigint)
         AND ($4::text IS NULL OR type = $4)
         AND ($5::uuid IS NULL OR stream_id = $5)
       ORDER BY transaction_id, position
       LIMIT $3`,
      [from?.transactionId ?? '0', from?.position ?? '0', query.limit, query.type ?? null, query.streamId ?? null],
    );
    return rows.map(toStored);
  }
}

/**
 * Takes a log restored into a new server onto the log's clock, so events appended from now on
 * follow the restored ones in commit order. Run at start, before anything appends; a no-op on a
 * server the log was not restored into. Tells how far the clock moved (0: not at all).
 */
export async function continueLogAfterRestore(on: Queryable): Promise<bigint> {
  const { rows } = await on.query<{ moved: string }>('SELECT continue_log_after_restore()::text AS moved');
  return BigInt(rows[0]?.moved ?? '0');
}

/**
 * Events no reader of the log can reach: their transaction id is beyond any this server has
 * started, so they wait behind a horizon that will not pass them for a very long time. Only a
 * restore that was not followed by `continueLogAfterRestore` leaves such events; at most `limit`
 * are counted.
 */
export async function unreachableEvents(on: Queryable, limit = 1000): Promise<number> {
  const { rows } = await on.query<{ n: string }>(
    'SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE transaction_id >= (SELECT log_snapshot_xmax()) LIMIT $1) ahead',
    [limit],
  );
  return Number(rows[0]?.n ?? 0);
}

export interface FeedQuery {
  /** the position of the last event the reader has; none: from the start */
  after?: string;
  limit: number;
  type?: string;
  streamId?: string;
}

/** Shifts a statement's `$n` parameters past the append's own. */
/** The events as rows after `head`: their versions, and each one's hash chained onto the one before. */
function chained(
  streamId: string,
  head: StreamHead,
  events: NewEvent[],
  metadata: EventMetadata,
  recordedAt: string,
): { version: number; type: string; data: unknown; hash: string }[] {
  let previous = head.hash;
  return events.map((event, i) => {
    const version = head.version + i + 1;
    previous = eventHash(previous, { streamId, version, type: event.type, data: event.data, metadata, recordedAt });
    return { version, type: event.type, data: event.data, hash: previous };
  });
}

function renumber(text: string, by: number): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);
}

export function checkpointOf(event: StoredEvent): LogCheckpoint {
  return { transactionId: event.transactionId, position: event.position };
}
