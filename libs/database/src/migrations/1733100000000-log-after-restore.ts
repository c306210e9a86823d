import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log's commit order survives a restore into a new server (DESIGN §13). Events are ordered by
 * the xid8 of the transaction that appended them, but a new server counts transactions from where
 * it started, below the ids a restored log holds: new events would sort before old ones and stay
 * behind every reader's checkpoint. So the log keeps its own transaction clock, the server's
 * counter plus an offset: `continue_log_after_restore()`, run at every start, raises the offset
 * when the stored ids are ahead of it, and every id the log hands out or compares against (the
 * append's default, the horizon of committed transactions) goes through it. With the offset at 0,
 * as on a server that was never restored, every function is the server's own.
 */
export class LogAfterRestore1733100000000 implements MigrationInterface {
  name = 'LogAfterRestore1733100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE event_log_clock (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        xid_offset numeric NOT NULL DEFAULT 0 CHECK (xid_offset >= 0)
      )`);
    await db.query(`INSERT INTO event_log_clock DEFAULT VALUES`);
    // The appending transaction's id on the log's clock.
    await db.query(`
      CREATE FUNCTION log_xact_id() RETURNS xid8 LANGUAGE sql VOLATILE AS $$
        SELECT (pg_current_xact_id()::text::numeric + xid_offset)::text::xid8 FROM event_log_clock
      $$`);
    // Every transaction below it has ended: readers of the log in commit order stop there.
    await db.query(`
      CREATE FUNCTION log_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $$
        SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::numeric + xid_offset)::text::xid8 FROM event_log_clock
      $$`);
    // No transaction at or above it had started when this one's snapshot was taken: an event there
    // cannot be real on this server, only restored and not yet taken onto the log's clock.
    await db.query(`
      CREATE FUNCTION log_snapshot_xmax() RETURNS xid8 LANGUAGE sql STABLE AS $$
        SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::numeric + xid_offset)::text::xid8 FROM event_log_clock
      $$`);
    // pg_snapshot_xmin of an exported snapshot (the replay's), on the log's clock.
    await db.query(`
      CREATE FUNCTION log_snapshot_xmin(snapshot pg_snapshot) RETURNS xid8 LANGUAGE sql STABLE AS $$
        SELECT (pg_snapshot_xmin(snapshot)::text::numeric + xid_offset)::text::xid8 FROM event_log_clock
      $$`);
    // pg_visible_in_snapshot for a log id: ids from before the last restore are committed.
    await db.query(`
      CREATE FUNCTION log_visible_in_snapshot(id xid8, snapshot pg_snapshot) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN id::text::numeric - xid_offset < 3 THEN true
                    ELSE pg_visible_in_snapshot((id::text::numeric - xid_offset)::text::xid8, snapshot) END
        FROM event_log_clock
      $$`);
    await db.query(`
      CREATE FUNCTION continue_log_after_restore() RETURNS numeric LANGUAGE plpgsql AS $$
      DECLARE
        ahead numeric;
      BEGIN
        LOCK TABLE event_log_clock IN SHARE ROW EXCLUSIVE MODE;
        SELECT coalesce(max(transaction_id)::text::numeric + 1, 0) - log_xact_id()::text::numeric INTO ahead FROM events;
        IF ahead <= 0 THEN RETURN 0; END IF;
        UPDATE event_log_clock SET xid_offset = xid_offset + ahead;
        RETURN ahead;
      END
      $$`);
    await db.query(`ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT log_xact_id()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT pg_current_xact_id()`);
    await db.query(
      `DROP FUNCTION continue_log_after_restore(), log_visible_in_snapshot(xid8, pg_snapshot), log_snapshot_xmin(pg_snapshot), log_snapshot_xmax(), log_horizon(), log_xact_id()`,
    );
    await db.query(`DROP TABLE event_log_clock`);
  }
}
