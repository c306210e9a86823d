import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLE } from '../runtime-role.js';

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
    // Another database's migration may create it at the same moment.
    await db.query(`
      DO $$
      BEGIN
        CREATE ROLE ${RUNTIME_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    // An owner that is not a superuser must be a member to switch its sessions to the role.
    await db.query(`
      DO $$
      BEGIN
        IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           AND NOT pg_has_role(current_user, '${RUNTIME_ROLE}', 'MEMBER') THEN
          EXECUTE format('GRANT ${RUNTIME_ROLE} TO %I', current_user);
        END IF;
      END $$`);

    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${RUNTIME_ROLE}`);
    await db.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${RUNTIME_ROLE}`);
    // Tables later migrations create, and the read tables replay swaps in, get the same rights.
    await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${RUNTIME_ROLE}`);
    await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${RUNTIME_ROLE}`);

    // History: append and read only.
    await db.query(`REVOKE ALL ON events FROM ${RUNTIME_ROLE}`);
    await db.query(`GRANT SELECT, INSERT ON events TO ${RUNTIME_ROLE}`);
    // The schema's history is the owner's business.
    await db.query(`REVOKE ALL ON migrations FROM ${RUNTIME_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM ${RUNTIME_ROLE}`);
    await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM ${RUNTIME_ROLE}`);
    await db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${RUNTIME_ROLE}`);
    await db.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${RUNTIME_ROLE}`);
    // The role stays: other databases on the server may use it.
  }
}
