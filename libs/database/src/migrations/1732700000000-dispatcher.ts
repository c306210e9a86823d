import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The worker's dispatcher (DESIGN §3.6): its place in the log, kept per consumer, and a wake-up
 * call when an event that needs a side effect is appended. Only those events notify: NOTIFY
 * serialises the commits that send one, so every other append stays free of it.
 */
export class Dispatcher1732700000000 implements MigrationInterface {
  name = 'Dispatcher1732700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE log_checkpoints (
        consumer text PRIMARY KEY,
        transaction_id xid8 NOT NULL DEFAULT '0',
        position bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`
      CREATE FUNCTION events_notify_dispatcher() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('contacts_dispatch', '');
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER events_dispatch AFTER INSERT ON events
      FOR EACH ROW WHEN (NEW.type IN ('InviteIssued', 'RoleGranted'))
      EXECUTE FUNCTION events_notify_dispatcher()`);
    // The invite page finds a contact by the hash of the token in its link.
    await db.query(`CREATE INDEX contacts_invite_token ON contacts ((state #>> '{invite,tokenHash}')) WHERE state ? 'invite'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX contacts_invite_token`);
    await db.query(`DROP TRIGGER events_dispatch ON events`);
    await db.query(`DROP FUNCTION events_notify_dispatcher()`);
    await db.query(`DROP TABLE log_checkpoints`);
  }
}
