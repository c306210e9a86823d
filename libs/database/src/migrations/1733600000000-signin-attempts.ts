import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Failed sign-ins per normalised email (DESIGN §11): a counter and the start of its 15-minute
 * window, so every API process sees the same count. A row is of use only until its window ends;
 * sign-ins delete expired rows as they go, through the index on `window_start`.
 */
export class SigninAttempts1733600000000 implements MigrationInterface {
  name = 'SigninAttempts1733600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE signin_attempts (
        email text PRIMARY KEY,
        window_start timestamptz NOT NULL,
        failures integer NOT NULL CHECK (failures >= 0)
      )`);
    await db.query(`CREATE INDEX signin_attempts_window ON signin_attempts (window_start)`);
    // The API's least-privilege role, where a deployment has one, counts attempts too.
    await db.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'contacts_runtime') THEN
          GRANT SELECT, INSERT, UPDATE, DELETE ON signin_attempts TO contacts_runtime;
        END IF;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE signin_attempts`);
  }
}
