import type { Queryable } from '@app/database';

/** DESIGN §11: 10 failed sign-ins for one email within 15 minutes lock that email until the window ends. */
export interface AttemptLimit {
  failures: number;
  windowMs: number;
}

export const SIGN_IN_LIMIT: AttemptLimit = { failures: 10, windowMs: 15 * 60_000 };

/** How many expired rows of other emails an attempt deletes on its way: enough to keep up, never a long statement. */
const EXPIRED_PER_ATTEMPT = 100;

export type Admission = { admitted: true; windowStart: Date } | { admitted: false; retryAfterSeconds: number };

/**
 * Counts an attempt as failed before its password is compared, in one statement, unless the email
 * is locked: concurrent attempts (on any API process) queue on the row, so no more than `failures`
 * are ever compared in a window. A success takes its own count back (`forgiveAttempt`). A window
 * that has ended starts afresh; expired rows of other emails are deleted on the way.
 */
export async function admitAttempt(on: Queryable, email: string, now: Date, limit: AttemptLimit): Promise<Admission> {
  const expiredBefore = new Date(now.getTime() - limit.windowMs);
  const { rows } = await on.query<{ window_start: Date }>({
    name: 'signin_attempt_admit',
    text: `WITH expired AS (
             DELETE FROM signin_attempts WHERE email IN (
               SELECT email FROM signin_attempts WHERE window_start <= $3 AND email <> $1
               LIMIT ${EXPIRED_PER_ATTEMPT} FOR UPDATE SKIP LOCKED
             )
           )
           INSERT INTO signin_attempts AS a (email, window_start, failures) VALUES ($1, $2, 1)
           ON CONFLICT (email) DO UPDATE SET
             window_start = CASE WHEN a.window_start <= $3 THEN excluded.window_start ELSE a.window_start END,
             failures = CASE WHEN a.window_start <= $3 THEN 1 ELSE a.failures + 1 END
           WHERE a.window_start <= $3 OR a.failures < $4
           RETURNING window_start`,
    values: [email, now, expiredBefore, limit.failures],
  });
  const admitted = rows[0];
  if (admitted) return { admitted: true, windowStart: admitted.window_start };
  return { admitted: false, retryAfterSeconds: await secondsUntilUnlocked(on, email, now, limit) };
}

/** An erasure forgets the counts of the person's emails: the email is a personal value. */
export async function forgetAttempts(on: Queryable, emails: readonly string[]): Promise<void> {
  if (emails.length > 0) await on.query('DELETE FROM signin_attempts WHERE email = ANY($1::text[])', [emails]);
}

/** A successful attempt was counted as failed on admission: it takes that count back, and only that. */
export async function forgiveAttempt(on: Queryable, email: string, windowStart: Date): Promise<void> {
  await on.query({
    name: 'signin_attempt_forgive',
    text: 'UPDATE signin_attempts SET failures = failures - 1 WHERE email = $1 AND window_start = $2 AND failures > 0',
    values: [email, windowStart],
  });
}

async function secondsUntilUnlocked(on: Queryable, email: string, now: Date, limit: AttemptLimit): Promise<number> {
  const { rows } = await on.query<{ window_start: Date }>({
    name: 'signin_attempt_window',
    text: 'SELECT window_start FROM signin_attempts WHERE email = $1',
    values: [email],
  });
  const start = rows[0]?.window_start.getTime() ?? now.getTime();
  return Math.max(1, Math.ceil((start + limit.windowMs - now.getTime()) / 1000));
}
