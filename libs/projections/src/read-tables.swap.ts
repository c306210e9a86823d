import { changedSince, refold } from './read-tables.catch-up.js';
import { compare, type ReadRowDifference } from './read-tables.compare.js';
import { RebuildRefused, type Rebuild } from './read-tables.context.js';
import { countRows } from './read-tables.shadow.js';

const MAX_SWAP_ATTEMPTS = 60;

/**
 * The swap transaction. Its locks are taken with a short lock_timeout, well under
 * deadlock_timeout: a writer that already holds `email_reservations` and waits for `contacts`
 * would otherwise deadlock with it, and it is the swap that gives way (and tries again), never
 * the API's writer.
 */
export async function swap(
  r: Rebuild,
  since: string,
  comparedBefore: ReadRowDifference[] | null,
): Promise<{
  swapped: boolean;
  rows: Record<string, number>;
  caughtUpUnderLock: number;
  lockedMs: number;
  differences: ReadRowDifference[] | null;
}> {
  const lockTimeoutMs = await swapLockTimeoutMs(r);
  for (let attempt = 1; ; attempt++) {
    await r.writer.query('BEGIN');
    try {
      await r.writer.query(`SET LOCAL lock_timeout = '${lockTimeoutMs}ms'`);
      await r.writer.query(`LOCK TABLE ${r.tables.map((t) => t.name).join(', ')} IN ACCESS EXCLUSIVE MODE`);
      const lockedAt = performance.now();
      const streams = await changedSince(r.writer, since);
      await refold(r, r.writer, streams);
      await r.options.onProgress?.({ phase: 'swap', streams: streams.length, attempt });

      let differences: ReadRowDifference[] | null = null;
      if (comparedBefore !== null) {
        differences = [];
        for (const t of r.tables) {
          const keys = comparedBefore.filter((d) => d.table === t.name).map((d) => d.key);
          differences.push(...(await compare(r.writer, t, { keys, contacts: streams })));
        }
      }
      if (r.options.dryRun) {
        await r.writer.query('ROLLBACK');
        const lockedMs = performance.now() - lockedAt;
        return { swapped: false, rows: await countRows(r, 'shadow'), caughtUpUnderLock: streams.length, lockedMs, differences };
      }
      for (const t of r.tables) {
        await r.writer.query(`DROP TABLE ${t.name}`);
        await r.writer.query(`ALTER TABLE ${t.shadow} RENAME TO ${t.name}`);
        for (const index of t.indexes) {
          await r.writer.query(
            index.constraint
              ? `ALTER TABLE ${t.name} RENAME CONSTRAINT ${index.temporary} TO ${index.name}`
              : `ALTER INDEX ${index.temporary} RENAME TO ${index.name}`,
          );
        }
      }
      await r.writer.query('COMMIT');
      const lockedMs = performance.now() - lockedAt;
      return { swapped: true, rows: await countRows(r, 'name'), caughtUpUnderLock: streams.length, lockedMs, differences };
    } catch (error) {
      await r.writer.query('ROLLBACK').catch(() => undefined);
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

/** A quarter of deadlock_timeout, at most 250 ms: the swap must always be the one to give way. */
async function swapLockTimeoutMs(r: Rebuild): Promise<number> {
  const { rows } = await r.writer.query<{ ms: string }>(`SELECT setting AS ms FROM pg_settings WHERE name = 'deadlock_timeout'`);
  return Math.max(10, Math.min(250, Math.floor(Number(rows[0]?.ms ?? 1000) / 4)));
}

function isPgCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
