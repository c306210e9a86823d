import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The earliest expiry among a contact's grants, kept on its read row, so the expiry sweep finds
 * the contacts with a grant past due by an index instead of reading every contact.
 */
export class GrantExpiry1732800000000 implements MigrationInterface {
  name = 'GrantExpiry1732800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE contacts ADD COLUMN next_expiry timestamptz`);
    await db.query(`
      UPDATE contacts SET next_expiry = (
        SELECT min((g->>'expires')::timestamptz) FROM jsonb_array_elements(state->'grants') g
      ) WHERE state IS NOT NULL`);
    await db.query(`CREATE INDEX contacts_next_expiry ON contacts (next_expiry) WHERE next_expiry IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE contacts DROP COLUMN next_expiry`);
  }
}
