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
   * (another consumer of the same name moved it), and then nothing changes.
   */
  async advance(consumer: string, from: LogCheckpoint, to: LogCheckpoint): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE log_checkpoints SET transaction_id = $2::xid8, position = $3::bigint, updated_at = now()
       WHERE consumer = $1 AND transaction_id = $4::xid8 AND position = $5::bigint`,
      [consumer, to.transactionId, to.position, from.transactionId, from.position],
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
