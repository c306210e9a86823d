import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1732400000000 implements MigrationInterface {
  name = 'InitialSchema1732400000000';

  async up(db: QueryRunner): Promise<void> {
    // The event log (DESIGN §3.2). transaction_id orders readers of the whole log (§3.3).
    await db.query(`
      CREATE TABLE events (
        position bigserial PRIMARY KEY,
        stream_id uuid NOT NULL,
        stream_version int NOT NULL CHECK (stream_version > 0),
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        recorded_at timestamptz NOT NULL DEFAULT now(),
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        hash text NOT NULL,
        CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
      )`);
    await db.query(`CREATE INDEX events_commit_order ON events (transaction_id, position)`);
    await db.query(`CREATE INDEX events_type ON events (type)`);
    // Events are immutable (DESIGN §7).
    await db.query(`
      CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_refuse_change()`);
    await db.query(`
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change()`);

    // Email uniqueness per type (DESIGN §3.4): the primary key is the rule.
    await db.query(`
      CREATE TABLE email_reservations (
        kind text NOT NULL CHECK (kind IN ('user', 'branch', 'recipient')),
        email text NOT NULL,
        contact_id uuid NOT NULL,
        PRIMARY KEY (kind, email)
      )`);
    await db.query(`CREATE INDEX email_reservations_contact ON email_reservations (contact_id)`);

    // Read table: the contact as the API shows it, plus the columns the list filters on. `view` is
    // json, not jsonb: it is only ever returned whole, and json keeps the field order clients see.
    await db.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        email text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        version int NOT NULL,
        created timestamptz NOT NULL,
        view json NOT NULL
      )`);
    await db.query(`CREATE INDEX contacts_email ON contacts (email)`);
    await db.query(`CREATE INDEX contacts_type_created ON contacts (type, created, id)`);
    await db.query(`CREATE INDEX contacts_created ON contacts (created, id)`);
    await db.query(`CREATE INDEX contacts_tags ON contacts USING gin (tags)`);

    await db.query(`
      CREATE TABLE roles (
        reference text PRIMARY KEY,
        title text NOT NULL,
        approval_method text NOT NULL CHECK (approval_method IN ('none', 'email', 'admin')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    // OAuth2 clients; the secret is stored only as a hash.
    await db.query(`
      CREATE TABLE clients (
        client_id text PRIMARY KEY,
        name text NOT NULL,
        secret_hash text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await db.query(`CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE settings, clients, roles, contacts, email_reservations`);
    await db.query(`DROP TRIGGER events_no_truncate ON events`);
    await db.query(`DROP TRIGGER events_append_only ON events`);
    await db.query(`DROP TABLE events`);
    await db.query(`DROP FUNCTION events_refuse_change()`);
  }
}
