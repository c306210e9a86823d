import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The invite page finds its contact by the token's hash (`state #>> '{invite,tokenHash}' = $1`):
 * an index on that very expression, so an anonymous request costs a lookup, not a scan of every
 * contact.
 */
export class InviteTokenIndex1733200000000 implements MigrationInterface {
  name = 'InviteTokenIndex1733200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX contacts_invite_token_hash ON contacts ((state #>> '{invite,tokenHash}'))`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX contacts_invite_token_hash`);
  }
}
