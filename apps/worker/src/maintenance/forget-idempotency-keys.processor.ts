import type { Clock } from '@app/config';
import type { Database } from '@app/database';

/** Stripe's window: a key answers with its first response for 24 hours (apps/api/src/http/idempotency.ts). */
const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes idempotency records past their 24 hours, a batch at a time so no statement holds many
 * rows locked. The API ignores an expired record anyway; this only keeps the table small.
 */
export async function forgetIdempotencyKeys(db: Database, clock: Clock): Promise<number> {
  const cutoff = new Date(clock.now().getTime() - KEEP_MS);
  let forgotten = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT 5000)`,
      [cutoff],
    );
    forgotten += rowCount ?? 0;
    if ((rowCount ?? 0) < 5000) return forgotten;
  }
}
