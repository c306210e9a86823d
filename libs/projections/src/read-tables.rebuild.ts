import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { emailReservation, fold, type ContactState } from '@app/contacts';
import type { Database } from '@app/database';
import type { StoredEvent } from '@app/event-store';
import { asRecorded, contactsProjection, textArrayLiteral, type ContactRow } from './contacts.projection.js';

/**
 * Rebuilding the read tables from the event log (DESIGN §3.5, `cli replay`). Side effects are off
 * by construction: it reads `events` and writes only the read tables, never the log or the
 * dispatcher's checkpoint, so no job is enqueued and no mail is sent.
 *
 * 1. Shadow tables `<table>_rebuild` (columns, defaults and checks of the live ones; no indexes
 *    yet) are filled stream by stream in batches, from one snapshot of the log (REPEATABLE READ,
 *    read-only: it holds no transaction id, so the dispatcher's commit-order readers never wait
 *    for it).
 * 2. The live tables' indexes and key constraints are built on the shadows under temporary names.
 * 3. Catch-up rounds, without any lock: the streams that got events not visible in the previous
 *    snapshot are folded again from a new snapshot, until few remain. Positions commit out of
 *    order, so "new" is judged by snapshot visibility of `transaction_id`, never by position.
 * 4. The swap, in one short transaction: an ACCESS EXCLUSIVE lock on the live tables (every
 *    append writes its contacts row in the same statement as its events, so once the lock is held
 *    no append is in flight and every committed event is visible), a last catch-up, then the live
 *    tables are dropped and the shadows take their names, indexes and constraints. Writers and
 *    readers of the read tables wait for that transaction and then go on against the new tables.
 */

/** A live read table: its name and the column naming the contact a row belongs to. */
interface ReadTable {
  name: string;
  contactColumn: string;
}

const READ_TABLES: readonly ReadTable[] = [
  { name: 'contacts', contactColumn: 'id' },
  { name: 'email_reservations', contactColumn: 'contact_id' },
];

const shadowOf = (table: string): string => `${table}_rebuild`;
/** A name for an index or constraint while it lives on a shadow table (Postgres names stop at 63 bytes). */
const temporaryName = (name: string): string => `${name.slice(0, 63 - '_rebuild'.length)}_rebuild`;

/** Only one rebuild at a time: the shadow tables have fixed names. */
const REBUILD_LOCK = 'contacts read tables rebuild';
const MAX_UNLOCKED_ROUNDS = 5;
const MAX_SWAP_ATTEMPTS = 60;
/** Streams folded again are read this many at a time. */
const STREAMS_PER_READ = 500;

export type RebuildProgress =
  /** the main read: events folded so far of the events in the snapshot */
  | { phase: 'read'; events: number; total: number }
  /** an unlocked catch-up round is about to fold the streams written since the previous snapshot */
  | { phase: 'catch-up'; round: number; streams: number }
  /** the read tables are locked and the last catch-up is done; the swap comes next */
  | { phase: 'swap'; streams: number; attempt: number };

export interface RebuildOptions {
  /** events read per query */
  batchSize?: number;
  /** compare the rebuilt tables with the live ones and report every row that differs */
  compare?: boolean;
  /** build (and compare) but leave the live tables as they are */
  dryRun?: boolean;
  /** catch-up rounds run without a lock until at most this many streams are left to fold under it (default 500) */
  maxStreamsUnderLock?: number;
  onProgress?: (progress: RebuildProgress) => void | Promise<void>;
}

/** A row the live and the rebuilt table disagree on. */
export interface ReadRowDifference {
  table: string;
  /** the row's primary key, e.g. `{ id }` or `{ kind, email }` */
  key: Record<string, unknown>;
  /** `live`: only the live table has the row; `rebuilt`: only the rebuilt one; `both`: columns differ */
  in: 'live' | 'rebuilt' | 'both';
  columns: string[];
}

export interface RebuildReport {
  /** events and streams folded by the main read */
  events: number;
  streams: number;
  /** rows in the rebuilt tables, by table, counted just after the swap */
  rows: Record<string, number>;
  /** streams folded again because they got events after they were read, without and under the lock */
  caughtUp: number;
  caughtUpUnderLock: number;
  /** how long the swap transaction held the read tables, in ms */
  lockedMs: number;
  /** null unless `compare` */
  differences: ReadRowDifference[] | null;
  swapped: boolean;
}

export class RebuildRefused extends Error {}

interface EventRow {
  position: string;
  stream_id: string;
  stream_version: number;
  type: string;
  data: Record<string, unknown>;
  recorded_at: Date;
  hash: string;
}

interface IndexPlan {
  name: string;
  temporary: string;
  create: string;
  /** the key constraint it backs on the live table */
  constraint: 'PRIMARY KEY' | 'UNIQUE' | null;
}

interface TablePlan extends ReadTable {
  shadow: string;
  columns: string[];
  key: string[];
  indexes: IndexPlan[];
}

type Client = pg.PoolClient;

/** Rebuilds `contacts` and `email_reservations` from the event log and swaps them in. */
export async function rebuildReadTables(db: Database, options: RebuildOptions = {}): Promise<RebuildReport> {
  const reader = await db.pool.connect();
  const writer = await db.pool.connect().catch((error: unknown) => {
    reader.release();
    throw error;
  });
  try {
    for (const client of [reader, writer]) {
      await client.query(`SET statement_timeout = 0; SET idle_in_transaction_session_timeout = '60s'`);
    }
    const { rows: locked } = await writer.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [REBUILD_LOCK]);
    if (!locked[0]?.ok) throw new RebuildRefused('another replay is rebuilding the read tables; try again when it has finished');
    try {
      return await new Rebuild(reader, writer, options).run();
    } finally {
      // Unlock before discarding the session: a closed socket frees the lock only once its backend
      // has gone, and a replay started right after this one returns would be refused until then.
      await writer.query('SELECT pg_advisory_unlock(hashtext($1))', [REBUILD_LOCK]).catch(() => undefined);
    }
  } finally {
    // the sessions carry settings and the advisory lock: close them rather than pool them
    reader.release(true);
    writer.release(true);
  }
}

class Rebuild {
  private readonly batchSize: number;
  private tables: TablePlan[] = [];

  constructor(
    private readonly reader: Client,
    private readonly writer: Client,
    private readonly options: RebuildOptions,
  ) {
    this.batchSize = options.batchSize ?? 5000;
  }

  async run(): Promise<RebuildReport> {
    this.tables = await Promise.all(READ_TABLES.map((table) => plan(this.writer, table)));
    await refuseWhatASwapWouldLose(this.writer);
    let swapped = false;
    try {
      await this.dropShadows();
      for (const t of this.tables) {
        await this.writer.query(`CREATE TABLE ${t.shadow} (LIKE ${t.name} INCLUDING ALL EXCLUDING INDEXES)`);
      }

      const main = await this.readSnapshot(async (snapshot, total) => {
        const folded = await this.fold(this.reader, { upsert: false }, (events) =>
          this.options.onProgress?.({ phase: 'read', events, total }),
        );
        return { snapshot, ...folded };
      });
      await this.createIndexes();

      let since = main.snapshot;
      let caughtUp = 0;
      for (let round = 1; round <= MAX_UNLOCKED_ROUNDS; round++) {
        const next = await this.readSnapshot(async (snapshot) => {
          const streams = await changedSince(this.reader, since);
          if (streams.length <= (this.options.maxStreamsUnderLock ?? 500)) return null;
          await this.options.onProgress?.({ phase: 'catch-up', round, streams: streams.length });
          await this.refold(this.reader, streams);
          return { snapshot, streams: streams.length };
        });
        if (next === null) break;
        since = next.snapshot;
        caughtUp += next.streams;
      }
      // Statistics for the planner from the first query on; vacuuming the new tables is left to autovacuum.
      await Promise.all(this.tables.map((t, i) => (i % 2 === 0 ? this.writer : this.reader).query(`ANALYZE ${t.shadow}`)));

      let comparedBefore: ReadRowDifference[] | null = null;
      if (this.options.compare) {
        comparedBefore = [];
        for (const t of this.tables) comparedBefore.push(...(await compare(this.writer, t)));
      }

      const swap = await this.swap(since, comparedBefore);
      swapped = swap.swapped;
      return {
        events: main.events,
        streams: main.streams,
        rows: swap.rows,
        caughtUp: caughtUp + swap.caughtUpUnderLock,
        caughtUpUnderLock: swap.caughtUpUnderLock,
        lockedMs: swap.lockedMs,
        differences: swap.differences,
        swapped,
      };
    } finally {
      if (!swapped) await this.dropShadows().catch(() => undefined);
    }
  }

  /**
   * The swap transaction. Its locks are taken with a short lock_timeout, well under
   * deadlock_timeout: a writer that already holds `email_reservations` and waits for `contacts`
   * would otherwise deadlock with it, and it is the swap that gives way (and tries again), never
   * the API's writer.
   */
  private async swap(
    since: string,
    comparedBefore: ReadRowDifference[] | null,
  ): Promise<{
    swapped: boolean;
    rows: Record<string, number>;
    caughtUpUnderLock: number;
    lockedMs: number;
    differences: ReadRowDifference[] | null;
  }> {
    const lockTimeoutMs = await this.lockTimeoutMs();
    for (let attempt = 1; ; attempt++) {
      await this.writer.query('BEGIN');
      try {
        await this.writer.query(`SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
        await this.writer.query(`LOCK TABLE ${this.tables.map((t) => t.name).join(', ')} IN ACCESS EXCLUSIVE MODE`);
        const lockedAt = performance.now();
        const streams = await changedSince(this.writer, since);
        await this.refold(this.writer, streams);
        await this.options.onProgress?.({ phase: 'swap', streams: streams.length, attempt });

        let differences: ReadRowDifference[] | null = null;
        if (comparedBefore !== null) {
          differences = [];
          for (const t of this.tables) {
            const keys = comparedBefore.filter((d) => d.table === t.name).map((d) => d.key);
            differences.push(...(await compare(this.writer, t, { keys, contacts: streams })));
          }
        }
        if (this.options.dryRun) {
          await this.writer.query('ROLLBACK');
          const lockedMs = performance.now() - lockedAt;
          return { swapped: false, rows: await this.countRows('shadow'), caughtUpUnderLock: streams.length, lockedMs, differences };
        }
        for (const t of this.tables) {
          await this.writer.query(`DROP TABLE ${t.name}`);
          await this.writer.query(`ALTER TABLE ${t.shadow} RENAME TO ${t.name}`);
          for (const index of t.indexes) {
            await this.writer.query(
              index.constraint
                ? `ALTER TABLE ${t.name} RENAME CONSTRAINT ${index.temporary} TO ${index.name}`
                : `ALTER INDEX ${index.temporary} RENAME TO ${index.name}`,
            );
          }
        }
        await this.writer.query('COMMIT');
        const lockedMs = performance.now() - lockedAt;
        return { swapped: true, rows: await this.countRows('name'), caughtUpUnderLock: streams.length, lockedMs, differences };
      } catch (error) {
        await this.writer.query('ROLLBACK').catch(() => undefined);
        const busy = isPgCode(error, '55P03') || isPgCode(error, '40P01');
        if (!busy) throw error;
        if (attempt >= MAX_SWAP_ATTEMPTS) {
          throw new RebuildRefused(
            `could not lock the read tables for the swap in ${attempt} attempts (writers kept them busy); the live tables are unchanged`,
          );
        }
        await sleep(50 + Math.random() * 200);
      }
    }
  }

  /** Runs `work` in a read-only REPEATABLE READ transaction on the reader, with its snapshot and event count. */
  private async readSnapshot<T>(work: (snapshot: string, total: number) => Promise<T>): Promise<T> {
    await this.reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      // the first statement fixes the transaction's snapshot: this is the one it reports
      const { rows } = await this.reader.query<{ snapshot: string; total: string }>(
        'SELECT pg_current_snapshot()::text AS snapshot, (SELECT count(*) FROM events) AS total',
      );
      const result = await work(rows[0]?.snapshot ?? '', Number(rows[0]?.total ?? 0));
      await this.reader.query('COMMIT');
      return result;
    } catch (error) {
      await this.reader.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** Folds the given streams again, from `source`'s view of the log, and replaces their shadow rows. */
  private async refold(source: Client, streams: string[]): Promise<void> {
    if (streams.length === 0) return;
    // First every reservation of these contacts goes, then the new ones come: a contact may take an
    // email another contact of the same set gave up.
    await this.writer.query('DELETE FROM email_reservations_rebuild WHERE contact_id = ANY($1::uuid[])', [streams]);
    for (let i = 0; i < streams.length; i += STREAMS_PER_READ) {
      await this.fold(source, { upsert: true, only: streams.slice(i, i + STREAMS_PER_READ) });
    }
  }

  /**
   * Reads events stream by stream (keyset on (stream_id, stream_version), the unique index) and
   * folds each stream with the projection's own code, writing finished rows in multi-row inserts.
   * The next batch is read while the previous one is written. Returns the events and streams read.
   */
  private async fold(
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
          values: [...after, this.batchSize, ...(options.only ? [options.only] : [])],
        })
        .then((r) => r.rows);
      result.catch(() => undefined); // awaited below; this only keeps a rejection from counting as unhandled meanwhile
      return result;
    };
    let writing: Promise<void> = Promise.resolve();
    const write = (rows: ContactRow[]): void => {
      writing = writing.then(() => this.write(rows, options.upsert));
      writing.catch(() => undefined);
    };

    const streams = new StreamFold();
    let events = 0;
    let next: Promise<EventRow[]> | null = read([NO_STREAM, 0]);
    while (next) {
      const batch: EventRow[] = await next;
      const last = batch.at(-1);
      next = batch.length === this.batchSize && last ? read([last.stream_id, last.stream_version]) : null;
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
  private async write(rows: ContactRow[], upsert: boolean): Promise<void> {
    if (rows.length === 0) return;
    if (!upsert) return this.copy(rows);
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
    await this.writer.query(
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
    await this.writer.query(
      `INSERT INTO email_reservations_rebuild (kind, email, contact_id)
       SELECT kind, email, contact_id FROM json_to_recordset($1::json) AS r(kind text, email text, contact_id uuid)`,
      [JSON.stringify(reservations)],
    );
  }

  private async copy(rows: ContactRow[]): Promise<void> {
    await copyRows(
      this.writer,
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
    if (reservations.length > 0) await copyRows(this.writer, 'email_reservations_rebuild (kind, email, contact_id)', reservations);
  }

  /** The live tables' indexes and key constraints, on the shadows, under temporary names. */
  private async createIndexes(): Promise<void> {
    // Two sessions build them, a core each: the reader is idle once the first fill is read.
    const work = this.tables.flatMap((t) => t.indexes.map((index) => ({ t, index })));
    const builders = [this.writer, this.reader].map(async (session) => {
      for (let next = work.shift(); next; next = work.shift()) await session.query(next.index.create);
    });
    await Promise.all(builders);
    for (const t of this.tables) {
      for (const index of t.indexes) {
        if (index.constraint) {
          await this.writer.query(
            `ALTER TABLE ${t.shadow} ADD CONSTRAINT ${index.temporary} ${index.constraint} USING INDEX ${index.temporary}`,
          );
        }
      }
    }
  }

  /** Rows of the rebuilt tables: counted once the lock is gone (the new live tables, or the unswapped shadows). */
  private async countRows(which: 'name' | 'shadow'): Promise<Record<string, number>> {
    const rows: Record<string, number> = {};
    for (const t of this.tables) {
      const { rows: counted } = await this.writer.query<{ n: string }>(`SELECT count(*) AS n FROM ${t[which]}`);
      rows[t.name] = Number(counted[0]?.n ?? 0);
    }
    return rows;
  }

  private async dropShadows(): Promise<void> {
    await this.writer.query(`DROP TABLE IF EXISTS ${this.tables.map((t) => t.shadow).join(', ')}`);
  }

  /** A quarter of deadlock_timeout, at most 250 ms: the swap must always be the one to give way. */
  private async lockTimeoutMs(): Promise<number> {
    const { rows } = await this.writer.query<{ ms: string }>(`SELECT setting AS ms FROM pg_settings WHERE name = 'deadlock_timeout'`);
    return Math.max(10, Math.min(250, Math.floor(Number(rows[0]?.ms ?? 1000) / 4)));
  }
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
    this.state = fold([asRecorded(toStored(event))], this.state);
    this.hash = event.hash;
    return finished;
  }

  /** The row of the stream being folded (null before any event, or for a stream that holds no contact). */
  finish(): ContactRow | null {
    return this.streamId === null ? null : contactsProjection.toRow(this.state, this.hash);
  }
}

function toStored(row: EventRow): StoredEvent {
  return {
    position: row.position,
    streamId: row.stream_id,
    version: row.stream_version,
    type: row.type,
    data: row.data,
    metadata: { clientId: null, requestId: null, correlationId: null, causationId: null },
    recordedAt: row.recorded_at.toISOString(),
    transactionId: '',
    hash: row.hash,
  };
}

/**
 * The streams with an event that `snapshot` did not see, as the caller's snapshot sees the log.
 * Every transaction below the snapshot's xmin had ended when it was taken, so only the tail of the
 * commit-order index from there is read, in pages (ORDER BY + LIMIT keeps the planner on the
 * index: xid8 has no statistics, and a bare range on it is costed as a third of the table).
 */
/** COPY … FROM STDIN in CSV: a null is an unquoted empty field, every other value is quoted. */
async function copyRows(on: Client, target: string, rows: (string | null)[][]): Promise<void> {
  const field = (value: string | null): string => (value === null ? '' : `"${value.replace(/"/g, '""')}"`);
  const text = rows.map((row) => row.map(field).join(',')).join('\n') + '\n';
  await pipeline(Readable.from([text]), on.query(copyFrom(`COPY ${target} FROM STDIN WITH (FORMAT csv)`)));
}

async function changedSince(on: Client, snapshot: string): Promise<string[]> {
  const streams = new Set<string>();
  let after: [string | null, string | null] = [null, null];
  for (;;) {
    const { rows } = await on.query<{ stream_id: string; tx: string; position: string; seen: boolean }>({
      name: 'rebuild_changed_since',
      text: `SELECT stream_id, transaction_id::text AS tx, position, pg_visible_in_snapshot(transaction_id, $1::pg_snapshot) AS seen
             FROM events
             WHERE (transaction_id, position) > (coalesce($2::xid8, pg_snapshot_xmin($1::pg_snapshot)), coalesce($3::bigint, 0))
             ORDER BY transaction_id, position LIMIT $4`,
      values: [snapshot, ...after, CHANGED_PAGE],
    });
    for (const row of rows) if (!row.seen) streams.add(row.stream_id);
    const last = rows.at(-1);
    if (!last || rows.length < CHANGED_PAGE) return [...streams];
    after = [last.tx, last.position];
  }
}

const CHANGED_PAGE = 10_000;

/** What a live table is made of, from the catalogue: its columns, key, indexes and key constraints. */
async function plan(on: Client, table: ReadTable): Promise<TablePlan> {
  const shadow = shadowOf(table.name);
  const { rows: columns } = await on.query<{ name: string; key: boolean }>(
    `SELECT a.attname AS name, coalesce(a.attnum = ANY(i.indkey), false) AS key
     FROM pg_attribute a LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table.name],
  );
  const { rows: indexes } = await on.query<{ name: string; definition: string; constraint: string | null }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, c.contype::text AS constraint
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')
     WHERE x.indrelid = $1::regclass ORDER BY i.relname`,
    [table.name],
  );
  return {
    ...table,
    shadow,
    columns: columns.map((c) => c.name),
    key: columns.filter((c) => c.key).map((c) => c.name),
    indexes: indexes.map((index) => {
      const match = /^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (USING .+)$/s.exec(index.definition);
      if (!match || index.constraint === 'x')
        throw new RebuildRefused(`cannot rebuild index ${index.name} of ${table.name}: ${index.definition}`);
      const temporary = temporaryName(index.name);
      return {
        name: index.name,
        temporary,
        create: `CREATE ${match[1] ?? ''}INDEX ${temporary} ON ${shadow} ${match[2]}`,
        constraint: index.constraint === 'p' ? 'PRIMARY KEY' : index.constraint === 'u' ? 'UNIQUE' : null,
      };
    }),
  };
}

/** Foreign keys and triggers tie to a table's identity; a swap would silently drop them. */
async function refuseWhatASwapWouldLose(on: Client): Promise<void> {
  const names = READ_TABLES.map((t) => t.name);
  const { rows } = await on.query<{ what: string }>(
    `SELECT format('foreign key %s on %s', conname, conrelid::regclass) AS what FROM pg_constraint
     WHERE contype = 'f' AND (conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[]))
     UNION ALL
     SELECT format('trigger %s on %s', tgname, tgrelid::regclass) FROM pg_trigger
     WHERE NOT tgisinternal AND tgrelid = ANY($1::regclass[])`,
    [names],
  );
  if (rows.length > 0) {
    throw new RebuildRefused(`replay swaps whole tables and would lose: ${rows.map((r) => r.what).join(', ')}`);
  }
}

/**
 * The rows the live table and its shadow disagree on, column by column as text (json compares as
 * the exact text clients get). Without `only`, the whole tables; with it, the rows with those keys
 * and the rows of those contacts.
 */
async function compare(
  on: Client,
  t: TablePlan,
  only?: { keys: Record<string, unknown>[]; contacts: string[] },
): Promise<ReadRowDifference[]> {
  const q = pg.escapeIdentifier;
  const joined = t.key.map((k) => `l.${q(k)} = r.${q(k)}`).join(' AND ');
  const differs = t.columns.map((c) => `CASE WHEN l.${q(c)}::text IS DISTINCT FROM r.${q(c)}::text THEN ${pg.escapeLiteral(c)} END`);
  const keyOf = (alias: string): string => `json_build_object(${t.key.map((k) => `${pg.escapeLiteral(k)}, ${alias}.${q(k)}`).join(', ')})`;
  const firstKey = q(t.key[0] ?? 'id');
  let from = `${t.name} l FULL JOIN ${t.shadow} r ON ${joined}`;
  let values: unknown[] = [];
  if (only) {
    const keyColumns = t.key.map(q).join(', ');
    from = `(SELECT ${keyColumns} FROM jsonb_populate_recordset(NULL::${t.name}, $1::jsonb)
             UNION SELECT ${keyColumns} FROM ${t.name} WHERE ${q(t.contactColumn)} = ANY($2::uuid[])
             UNION SELECT ${keyColumns} FROM ${t.shadow} WHERE ${q(t.contactColumn)} = ANY($2::uuid[])) k
            LEFT JOIN ${t.name} l ON ${t.key.map((k) => `l.${q(k)} = k.${q(k)}`).join(' AND ')}
            LEFT JOIN ${t.shadow} r ON ${t.key.map((k) => `r.${q(k)} = k.${q(k)}`).join(' AND ')}`;
    values = [JSON.stringify(only.keys), only.contacts];
  }
  const { rows } = await on.query<{ key: Record<string, unknown>; live: boolean; rebuilt: boolean; columns: string[] }>(
    `SELECT key, live, rebuilt, columns FROM (
       SELECT CASE WHEN l.${firstKey} IS NULL THEN ${keyOf('r')} ELSE ${keyOf('l')} END AS key,
              l.${firstKey} IS NOT NULL AS live, r.${firstKey} IS NOT NULL AS rebuilt,
              array_remove(ARRAY[${differs.join(', ')}], NULL) AS columns
       FROM ${from}
     ) d
     WHERE (live OR rebuilt) AND (NOT live OR NOT rebuilt OR cardinality(columns) > 0)
     ORDER BY key::text`,
    values,
  );
  return rows.map((row) => ({
    table: t.name,
    key: row.key,
    in: row.live && row.rebuilt ? 'both' : row.live ? 'live' : 'rebuilt',
    columns: row.live && row.rebuilt ? row.columns : [],
  }));
}

function isPgCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
