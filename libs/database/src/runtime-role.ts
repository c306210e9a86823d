import type { Queryable } from './database.js';

/**
 * The Postgres role the API and the worker run their sessions as (a migration creates it): it can
 * append to and read `events` but not change them. The CLI and migrations keep the owner.
 */
export const RUNTIME_ROLE = 'contacts_runtime';

/**
 * Creates the runtime role if the server lacks it and gives it its rights on this database's
 * tables. Idempotent: a migration runs it, and so does every `migrate`, because a role belongs to
 * the server, not the database: a backup restored into a new server (`pg_restore --no-owner
 * --no-privileges`) gets the role and its rights back at its first migrate.
 */
export async function grantRuntimeRole(on: Pick<Queryable, 'query'>): Promise<void> {
  // Another database's migration may create it at the same moment.
  await on.query(`
    DO $$
    BEGIN
      CREATE ROLE ${RUNTIME_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END $$`);
  // An owner that is not a superuser must be a member to switch its sessions to the role.
  await on.query(`
    DO $$
    BEGIN
      IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
         AND NOT pg_has_role(current_user, '${RUNTIME_ROLE}', 'MEMBER') THEN
        EXECUTE format('GRANT ${RUNTIME_ROLE} TO %I', current_user);
      END IF;
    END $$`);

  await on.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${RUNTIME_ROLE}`);
  await on.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${RUNTIME_ROLE}`);
  // Tables later migrations create, and the read tables replay swaps in, get the same rights.
  await on.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${RUNTIME_ROLE}`);
  await on.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${RUNTIME_ROLE}`);

  // History: append and read only.
  await on.query(`REVOKE ALL ON events FROM ${RUNTIME_ROLE}`);
  await on.query(`GRANT SELECT, INSERT ON events TO ${RUNTIME_ROLE}`);
  // Erasure is the one change of the log it may ask for, through the owner's function (once a migration made it).
  await on.query(`
    DO $$
    BEGIN
      IF to_regprocedure('erase_stream(uuid, jsonb)') IS NOT NULL THEN
        GRANT EXECUTE ON FUNCTION erase_stream(uuid, jsonb) TO ${RUNTIME_ROLE};
      END IF;
    END $$`);
  // The schema's history is the owner's business.
  await on.query(`REVOKE ALL ON migrations FROM ${RUNTIME_ROLE}`);
}
