import type { MigrationInterface, QueryRunner } from 'typeorm';
import { grantRuntimeRole, RUNTIME_ROLE } from '../runtime-role.js';

/**
 * The role the API and the worker run as (DESIGN §13): it may append to and read the event log but
 * never change it (no UPDATE, DELETE or TRUNCATE, and, not being its owner, no ALTER TABLE and no
 * disabling its triggers; not a superuser, so no session_replication_role either). It may do what
 * the service does with every other table. Migrations and the CLI's replay run as the owner.
 *
 * A role belongs to the whole Postgres server: every database migrated here shares it, and each
 * grants it rights on its own tables only.
 */
export class RuntimeRole1733300000000 implements MigrationInterface {
  name = 'RuntimeRole1733300000000';

  async up(db: QueryRunner): Promise<void> {
    await grantRuntimeRole(db);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM ${RUNTIME_ROLE}`);
    await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM ${RUNTIME_ROLE}`);
    await db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${RUNTIME_ROLE}`);
    await db.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${RUNTIME_ROLE}`);
    // The role stays: other databases on the server may use it.
  }
}
