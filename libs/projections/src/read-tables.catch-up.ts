import { foldStreams } from './read-tables.load.js';
import type { Client, Rebuild } from './read-tables.context.js';

/**
 * Catch-up: the streams that got events a snapshot did not see are folded again. Positions commit
 * out of order, so "new" is judged by snapshot visibility of `transaction_id`, never by position.
 */

const MAX_UNLOCKED_ROUNDS = 5;
/** Streams folded again are read this many at a time. */
const STREAMS_PER_READ = 500;

/** Unlocked rounds from the snapshot `since`, each from a new snapshot, until few streams remain; returns the last snapshot. */
export async function catchUpUnlocked(r: Rebuild, since: string): Promise<{ since: string; caughtUp: number }> {
  let caughtUp = 0;
  for (let round = 1; round <= MAX_UNLOCKED_ROUNDS; round++) {
    const next = await readSnapshot(r, async (snapshot) => {
      const streams = await changedSince(r.reader, since);
      if (streams.length <= (r.options.maxStreamsUnderLock ?? 500)) return null;
      await r.options.onProgress?.({ phase: 'catch-up', round, streams: streams.length });
      await refold(r, r.reader, streams);
      return { snapshot, streams: streams.length };
    });
    if (next === null) break;
    since = next.snapshot;
    caughtUp += next.streams;
  }
  return { since, caughtUp };
}

/** Runs `work` in a read-only REPEATABLE READ transaction on the reader, with its snapshot and event count. */
export async function readSnapshot<T>(r: Rebuild, work: (snapshot: string, total: number) => Promise<T>): Promise<T> {
  await r.reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    // the first statement fixes the transaction's snapshot: this is the one it reports
    const { rows } = await r.reader.query<{ snapshot: string; total: string }>(
      'SELECT pg_current_snapshot()::text AS snapshot, (SELECT count(*) FROM events) AS total',
    );
    const result = await work(rows[0]?.snapshot ?? '', Number(rows[0]?.total ?? 0));
    await r.reader.query('COMMIT');
    return result;
  } catch (error) {
    await r.reader.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Folds the given streams again, from `source`'s view of the log, and replaces their shadow rows. */
export async function refold(r: Rebuild, source: Client, streams: string[]): Promise<void> {
  if (streams.length === 0) return;
  // First every reservation of these contacts goes, then the new ones come: a contact may take an
  // email another contact of the same set gave up.
  await r.writer.query('DELETE FROM email_reservations_rebuild WHERE contact_id = ANY($1::uuid[])', [streams]);
  for (let i = 0; i < streams.length; i += STREAMS_PER_READ) {
    await foldStreams(r, source, { upsert: true, only: streams.slice(i, i + STREAMS_PER_READ) });
  }
}

/**
 * The streams with an event that `snapshot` did not see, as the caller's snapshot sees the log.
 * Every transaction below the snapshot's xmin had ended when it was taken, so only the tail of the
 * commit-order index from there is read, in pages (ORDER BY + LIMIT keeps the planner on the
 * index: xid8 has no statistics, and a bare range on it is costed as a third of the table).
 */
export async function changedSince(on: Client, snapshot: string): Promise<string[]> {
  const streams = new Set<string>();
  let after: [string | null, string | null] = [null, null];
  for (;;) {
    const { rows } = await on.query<{ stream_id: string; tx: string; position: string; seen: boolean }>({
      name: 'rebuild_changed_since',
      text: `SELECT stream_id, transaction_id::text AS tx, position, log_visible_in_snapshot(transaction_id, $1::pg_snapshot) AS seen
             FROM events
             WHERE (transaction_id, position) > (coalesce($2::xid8, log_snapshot_xmin($1::pg_snapshot)), coalesce($3::bigint, 0))
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
