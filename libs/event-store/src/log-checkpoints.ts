import type { Queryable } from '@app/database';
import type { LogCheckpoint } from './event.types.js';

/** How far a consumer is behind the log's head. */
export interface CheckpointLag {
  /** events past the checkpoint, counted up to the limit asked for */
  events: number;
  /** age of the oldest of them; 0 when there are none */
  oldestSeconds: number;
  /** since the checkpoint last moved; null when the consumer never ran on this database */
  checkpointSeconds: number | null;
}

interface CheckpointRow {
  transaction_id: string;
  position: string;
}

interface LagRow {
  events: number;
  oldest_seconds: number | null;
  checkpoint_seconds: number | null;
}

const toCheckpoint = (row: CheckpointRow): LogCheckpoint => ({ transactionId: row.transaction_id, position: row.position });

/** The consumer name of the worker's dispatcher (the API's metrics read its lag). */
export const DISPATCHER_CONSUMER = 'dispatcher';

/** The place before the first event: a consumer without a saved checkpoint starts there. */
export const LOG_START: LogCheckpoint = { transactionId: '0', position: '0' };

/**
 * The `log_checkpoints` table: where each consumer of the global log stands, in commit order
 * (DESIGN §3.3). Its only reader and writer.
 */
export class LogCheckpoints {
  constructor(private readonly db: Queryable) {}

  /** The consumer's saved place; the row is made at the log's start if there was none. */
  async read(consumer: string): Promise<LogCheckpoint> {
    await this.db.query(`INSERT INTO log_checkpoints (consumer) VALUES ($1) ON CONFLICT (consumer) DO NOTHING`, [consumer]);
    const { rows } = await this.db.query<CheckpointRow>(
      `SELECT transaction_id::text, position::text FROM log_checkpoints WHERE consumer = $1`,
      [consumer],
    );
    const row = rows[0];
    return row ? toCheckpoint(row) : LOG_START;
  }

  /**
   * Moves the consumer from `from` to `to`; false when the row was not at `from` any more
   * (another consumer of the same name moved it), and then nothing changes. With a lease, also
   * false unless that lease is still held, unexpired, by the same holder at the same epoch: a
   * leader that overslept its lease never moves the checkpoint. The lease row is locked for the
   * write, so a takeover waits for it and the new leader reads where it left the checkpoint.
   */
  async advance(consumer: string, from: LogCheckpoint, to: LogCheckpoint, lease?: LeaseHold): Promise<boolean> {
    const fenced = lease
      ? `AND EXISTS (SELECT 1 FROM leases WHERE name = $6 AND holder = $7 AND epoch = $8::bigint AND expires_at > clock_timestamp() FOR SHARE)`
      : '';
    const { rowCount } = await this.db.query(
      `UPDATE log_checkpoints SET transaction_id = $2::xid8, position = $3::bigint, updated_at = now()
       WHERE consumer = $1 AND transaction_id = $4::xid8 AND position = $5::bigint ${fenced}`,
      [
        consumer,
        to.transactionId,
        to.position,
        from.transactionId,
        from.position,
        ...(lease ? [lease.name, lease.holder, lease.epoch] : []),
      ],
    );
    return rowCount === 1;
  }

  /**
   * The consumer's place against the log's head. The events past the checkpoint are read in
   * commit order on the (transaction_id, position) index, so counting them costs what the lag
   * is (at most `limit`), never the size of the log.
   */
  async lag(consumer: string, limit: number): Promise<CheckpointLag> {
    const { rows } = await this.db.query<LagRow>(
      `WITH checkpoint AS (
         SELECT transaction_id, position, updated_at FROM log_checkpoints WHERE consumer = $1
         UNION ALL
         SELECT '0'::xid8, 0, NULL WHERE NOT EXISTS (SELECT 1 FROM log_checkpoints WHERE consumer = $1)
       ), behind AS (
         SELECT e.recorded_at FROM events e, checkpoint c
         WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position)
         ORDER BY e.transaction_id, e.position
         LIMIT $2
       )
       SELECT (SELECT count(*) FROM behind)::int AS events,
              (SELECT extract(epoch FROM now() - min(recorded_at)) FROM behind)::float8 AS oldest_seconds,
              (SELECT extract(epoch FROM now() - updated_at) FROM checkpoint)::float8 AS checkpoint_seconds`,
      [consumer, limit],
    );
    const row = rows[0];
    return {
      events: row?.events ?? 0,
      oldestSeconds: Math.max(0, row?.oldest_seconds ?? 0),
      checkpointSeconds: row?.checkpoint_seconds == null ? null : Math.max(0, row.checkpoint_seconds),
    };
  }
}

/** A lease as its holder knows it: valid for writes only while the row still says the same. */
export interface LeaseHold {
  name: string;
  holder: string;
  /** raised at every taking; bigint as text */
  epoch: string;
}

/** A lease just taken, and whom it was taken from. */
export interface LeaseTaken extends LeaseHold {
  /** the holder before, when it had not released it: its lease ran out unrenewed */
  previousHolder: string | null;
  previousExpiry: Date | null;
  /** taken before its expiry, because the previous holder's session had ended */
  previousSessionEnded: boolean;
}

interface TakenRow {
  epoch: string;
  previous_holder: string | null;
  previous_expiry: Date | null;
  previous_session_ended: boolean;
}

/**
 * The `leases` table: leadership that outlives no frozen leader. A holder renews before its lease
 * expires; once it has expired anyone may take it, raising the epoch. Every time is the
 * database's (`clock_timestamp()`), so no process's clock decides who leads.
 */
export class Leases {
  constructor(private readonly db: Queryable) {}

  /**
   * Takes the lease if it is free, has expired, or its holder's session (`sessionPid`, the
   * backend pid of a connection the holder keeps open) has ended; null while someone else holds it.
   */
  async take(name: string, holder: string, durationMs: number, sessionPid: number): Promise<LeaseTaken | null> {
    await this.db.query(`INSERT INTO leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
    // A takeover racing another waits on the row and then finds it unexpired: one of them wins.
    const { rows } = await this.db.query<TakenRow>(
      `UPDATE leases l
       SET holder = $2, epoch = l.epoch + 1, expires_at = clock_timestamp() + $3 * interval '1 millisecond',
           acquired_at = clock_timestamp(), session_pid = $4
       FROM (SELECT holder, expires_at FROM leases WHERE name = $1) before
       WHERE l.name = $1
         AND (l.expires_at <= clock_timestamp()
              OR (l.holder IS NOT NULL AND l.session_pid IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = l.session_pid)))
       RETURNING l.epoch::text AS epoch, before.holder AS previous_holder,
                 CASE WHEN before.holder IS NULL THEN NULL ELSE before.expires_at END AS previous_expiry,
                 before.holder IS NOT NULL AND before.expires_at > clock_timestamp() AS previous_session_ended`,
      [name, holder, durationMs, sessionPid],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      name,
      holder,
      epoch: row.epoch,
      previousHolder: row.previous_holder,
      previousExpiry: row.previous_expiry,
      previousSessionEnded: row.previous_session_ended,
    };
  }

  /**
   * Extends a lease still held; false when it was taken over or has already expired (a renewal
   * that comes late does not revive it: the holder must take it again, at a new epoch). The
   * holder's session may have changed (a connection lost and made again).
   */
  async renew(lease: LeaseHold, durationMs: number, sessionPid: number): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE leases SET expires_at = clock_timestamp() + $4 * interval '1 millisecond', session_pid = $5
       WHERE name = $1 AND holder = $2 AND epoch = $3::bigint AND expires_at > clock_timestamp()`,
      [lease.name, lease.holder, lease.epoch, durationMs, sessionPid],
    );
    return rowCount === 1;
  }

  /** Gives a lease up at once (a stopping leader), so a standby need not wait for it to expire. */
  async release(lease: LeaseHold): Promise<void> {
    await this.db.query(
      `UPDATE leases SET holder = NULL, expires_at = clock_timestamp()
       WHERE name = $1 AND holder = $2 AND epoch = $3::bigint AND expires_at > clock_timestamp()`,
      [lease.name, lease.holder, lease.epoch],
    );
  }
}
