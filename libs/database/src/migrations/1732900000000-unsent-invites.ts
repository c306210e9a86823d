import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The contacts whose invite is issued but not yet sent, by a partial index, so the worker's sweep
 * for invite mails the queue store lost reads only those instead of every contact.
 */
export class UnsentInvites1732900000000 implements MigrationInterface {
  name = 'UnsentInvites1732900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX contacts_unsent_invites ON contacts (id) WHERE (state->'invite'->>'status') = 'pending'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX contacts_unsent_invites`);
  }
}
