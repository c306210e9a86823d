import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The contacts row also keeps the folded contact and its stream's head (last version and hash), so
 * a command on a long stream loads one row instead of every event. Rows written before this have
 * neither; the service then reads the stream as before.
 */
export class ContactSnapshots1732600000000 implements MigrationInterface {
  name = 'ContactSnapshots1732600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE contacts ADD COLUMN state jsonb, ADD COLUMN head_hash text`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE contacts DROP COLUMN state, DROP COLUMN head_hash`);
  }
}
