import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A deleted contact keeps its read row (the snapshot commands start from, the state an export or a
 * 410 needs) but leaves lists and lookups (DESIGN §10). The flag is derived from the folded state
 * the row already holds, so the inline projection and a replay write it without knowing of it;
 * adding it rewrites the table once.
 *
 * A deleted contact's pending invite is retired: the invite page finds it, like any retired invite,
 * by the token's hash among retired invites, through an index rather than a scan of every contact
 * (an anonymous request with an unknown token looks there too).
 */
export class ContactDeletion1733500000000 implements MigrationInterface {
  name = 'ContactDeletion1733500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      `ALTER TABLE contacts ADD COLUMN deleted boolean NOT NULL GENERATED ALWAYS AS (coalesce(state ? 'deleted', false)) STORED`,
    );
    await db.query(
      `CREATE INDEX contacts_retired_invite_token_hash ON contacts ((state #>> '{retiredInvite,tokenHash}')) WHERE state ? 'retiredInvite'`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX contacts_retired_invite_token_hash`);
    await db.query(`ALTER TABLE contacts DROP COLUMN deleted`);
  }
}
