import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leadership by lease (the worker's dispatcher): one row per led thing. The holder renews it
 * before `expires_at`; anyone may take it once it has expired, and each taking raises `epoch`, so
 * a write fenced by (holder, epoch) from a leader that overslept its lease is refused. Times are
 * the database's, never a process's clock. `session_pid` is the holder's own database session: once
 * that session is gone (the holder crashed or was killed) the lease may be taken before it
 * expires; a frozen holder keeps its session, and there only the expiry helps.
 */
export class Leases1733700000000 implements MigrationInterface {
  name = 'Leases1733700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE leases (
        name text PRIMARY KEY,
        holder text,
        epoch bigint NOT NULL DEFAULT 0,
        expires_at timestamptz NOT NULL DEFAULT '-infinity',
        acquired_at timestamptz,
        session_pid integer
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE leases`);
  }
}
