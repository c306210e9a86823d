import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys (DESIGN §6): the first response to a (client, key), written in the same
 * transaction as the request's effect, so a retry either finds it or finds nothing was done.
 */
export class IdempotencyKeys1732500000000 implements MigrationInterface {
  name = 'IdempotencyKeys1732500000000';

  async up(db: QueryRunner): Promise<void> {
    // status, headers and body stay null only inside the transaction that inserted the row: it
    // fills them in before committing. `body` is json, not jsonb, so a replay keeps the field order.
    await db.query(`
      CREATE TABLE idempotency_keys (
        client_id text NOT NULL,
        key text NOT NULL,
        fingerprint text NOT NULL,
        status int,
        headers jsonb,
        body json,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (client_id, key)
      )`);
    // For a sweep of keys past their 24 hours.
    await db.query(`CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE idempotency_keys`);
  }
}
