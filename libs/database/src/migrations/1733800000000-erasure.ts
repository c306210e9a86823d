import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RUNTIME_ROLE } from '../runtime-role.js';

/**
 * Erasure by masking (DESIGN §10). The log stays append-only for every session; the one way to
 * change an event is `erase_stream`, a function that runs as the log's owner and masks the
 * personal values of an erased stream's events, each once, keeping its place in the chain:
 *
 * - an event's `hash` was computed over its original content, which is then gone, so erasure
 *   records beside it `erasure_seal = SHA-256(hash, canonical masked content)` (the same
 *   `eventHash` the chain uses, with the event's own hash as the link). The verifier checks an
 *   erased event against its seal instead of its predecessor: a later change to its masked
 *   content, its hash or its seal is caught; the next event's hash still covers this event's
 *   stored hash, so the chain after it holds as before.
 * - the trigger lets an UPDATE through only inside `erase_stream` (a transaction-local setting
 *   naming the stream) and only when the data and the seal change, on an event not yet sealed.
 *   The runtime role has no UPDATE right on `events` at all; it may only EXECUTE the function,
 *   which refuses a stream that holds no `ContactErased` and any change that is more than replacing
 *   values by `"[erased]"`.
 */
export class Erasure1733800000000 implements MigrationInterface {
  name = 'Erasure1733800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE events ADD COLUMN erasure_seal text`);
    await db.query(`
      CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          IF current_setting('contacts.erasing', true) = OLD.stream_id::text
             AND OLD.erasure_seal IS NULL AND NEW.erasure_seal IS NOT NULL
             AND (NEW.position, NEW.stream_id, NEW.stream_version, NEW.type, NEW.metadata, NEW.recorded_at, NEW.transaction_id, NEW.hash)
                 IS NOT DISTINCT FROM (OLD.position, OLD.stream_id, OLD.stream_version, OLD.type, OLD.metadata, OLD.recorded_at, OLD.transaction_id, OLD.hash)
          THEN
            RETURN NEW;
          END IF;
        END IF;
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    // Which values are personal is the domain's list; here only that a change is a masking: the
    // same shape, each value kept or replaced by "[erased]" (a list by a list of one).
    await db.query(`
      CREATE FUNCTION erasure_masks_only(original jsonb, masked jsonb) RETURNS boolean
      LANGUAGE plpgsql IMMUTABLE AS $$
      DECLARE
        key text;
      BEGIN
        IF masked = original OR masked = '"[erased]"'::jsonb THEN
          RETURN true;
        END IF;
        IF jsonb_typeof(original) = 'array' AND masked = '["[erased]"]'::jsonb THEN
          RETURN true;
        END IF;
        IF jsonb_typeof(original) <> 'object' OR jsonb_typeof(masked) <> 'object' THEN
          RETURN false;
        END IF;
        IF (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(original) k) IS DISTINCT FROM
           (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(masked) k) THEN
          RETURN false;
        END IF;
        FOR key IN SELECT jsonb_object_keys(original) LOOP
          IF NOT erasure_masks_only(original -> key, masked -> key) THEN
            RETURN false;
          END IF;
        END LOOP;
        RETURN true;
      END $$`);
    await db.query(`
      CREATE FUNCTION erase_stream(stream uuid, masked jsonb) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        changed integer;
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM events WHERE stream_id = stream AND type = 'ContactErased') THEN
          RAISE EXCEPTION 'stream % holds no erasure', stream USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF EXISTS (SELECT 1 FROM events e JOIN jsonb_to_recordset(masked) AS m(version int, data jsonb, seal text)
                     ON e.stream_id = stream AND e.stream_version = m.version
                    WHERE e.erasure_seal IS NULL AND NOT erasure_masks_only(e.data, m.data)) THEN
          RAISE EXCEPTION 'erasure of stream % changes more than personal values', stream USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('contacts.erasing', stream::text, true);
        UPDATE events e SET data = m.data, erasure_seal = m.seal
          FROM jsonb_to_recordset(masked) AS m(version int, data jsonb, seal text)
         WHERE e.stream_id = stream AND e.stream_version = m.version AND e.erasure_seal IS NULL AND m.seal IS NOT NULL;
        GET DIAGNOSTICS changed = ROW_COUNT;
        PERFORM set_config('contacts.erasing', '', true);
        RETURN changed;
      END $$`);
    await db.query(`REVOKE ALL ON FUNCTION erase_stream(uuid, jsonb) FROM PUBLIC`);
    await db.query(`GRANT EXECUTE ON FUNCTION erase_stream(uuid, jsonb) TO ${RUNTIME_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION erase_stream(uuid, jsonb)`);
    await db.query(`DROP FUNCTION erasure_masks_only(jsonb, jsonb)`);
    await db.query(`
      CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`ALTER TABLE events DROP COLUMN erasure_seal`);
  }
}
