import type { Database } from '@app/database';
import { catchUpUnlocked, readSnapshot } from './read-tables.catch-up.js';
import { compare, type ReadRowDifference } from './read-tables.compare.js';
import { READ_TABLES, RebuildRefused, type RebuildOptions, type Rebuild } from './read-tables.context.js';
import { foldStreams } from './read-tables.load.js';
import { createIndexes, dropShadows, plan, refuseWhatASwapWouldLose } from './read-tables.shadow.js';
import { swap as swapIn } from './read-tables.swap.js';

export { RebuildRefused, type RebuildOptions, type RebuildProgress } from './read-tables.context.js';
export type { ReadRowDifference } from './read-tables.compare.js';

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

/** Only one rebuild at a time: the shadow tables have fixed names. */
const REBUILD_LOCK = 'contacts read tables rebuild';

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
      return await run({ reader, writer, options, batchSize: options.batchSize ?? 5000, tables: [] });
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

async function run(r: Rebuild): Promise<RebuildReport> {
  r.tables = await Promise.all(READ_TABLES.map((table) => plan(r.writer, table)));
  await refuseWhatASwapWouldLose(r.writer);
  let swapped = false;
  try {
    await dropShadows(r);
    for (const t of r.tables) {
      await r.writer.query(`CREATE TABLE ${t.shadow} (LIKE ${t.name} INCLUDING ALL EXCLUDING INDEXES)`);
    }

    const main = await readSnapshot(r, async (snapshot, total) => {
      const folded = await foldStreams(r, r.reader, { upsert: false }, (events) =>
        r.options.onProgress?.({ phase: 'read', events, total }),
      );
      return { snapshot, ...folded };
    });
    await createIndexes(r);

    const { since, caughtUp } = await catchUpUnlocked(r, main.snapshot);
    // Statistics for the planner from the first query on; vacuuming the new tables is left to autovacuum.
    await Promise.all(r.tables.map((t, i) => (i % 2 === 0 ? r.writer : r.reader).query(`ANALYZE ${t.shadow}`)));

    let comparedBefore: ReadRowDifference[] | null = null;
    if (r.options.compare) {
      comparedBefore = [];
      for (const t of r.tables) comparedBefore.push(...(await compare(r.writer, t)));
    }

    const swap = await swapIn(r, since, comparedBefore);
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
    if (!swapped) await dropShadows(r).catch(() => undefined);
  }
}
