import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When a client was revoked (`cli clients:revoke`): the token endpoint refuses it from then on,
 * and every API process refuses the tokens it already holds once it has read the column again.
 */
export class ClientRevocation1733150000000 implements MigrationInterface {
  name = 'ClientRevocation1733150000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients ADD COLUMN revoked_at timestamptz`);
    await db.query(`CREATE INDEX clients_revoked ON clients (client_id) WHERE revoked_at IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE clients DROP COLUMN revoked_at`);
  }
}
