import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database, migrate, type Queryable } from '@app/database';
import { deleteQueueKeys } from '@app/queues';

/** The server tests create their databases on; CI and developers may point it elsewhere. */
export const BASE_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  name: string;
  db: Database;
  /** closes the pool and drops the database */
  drop(): Promise<void>;
}

/** A fresh, migrated database of this test file's own, so files never see each other's rows. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `contacts_${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}_${randomBytes(5).toString('hex')}`;
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const db = new Database({ url: url.toString(), applicationName: `test-${label}` });
  return {
    url: url.toString(),
    name,
    db,
    async drop() {
      await db.close();
      const admin = new URL(BASE_DATABASE_URL);
      admin.pathname = '/postgres';
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A queue prefix of this file's own, so parallel files never share BullMQ keys. */
export function testQueuePrefix(label = 'test'): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}

/**
 * Deletes every Redis key of a test's queue prefix: its jobs, schedulers and events. Best effort:
 * a test of an unreachable Redis has nothing there to delete.
 */
export async function forgetQueuePrefix(redisUrl: string, prefix: string): Promise<void> {
  await deleteQueueKeys(redisUrl, prefix).catch(() => undefined);
}

/** Moves the dispatcher's checkpoint past the last event, as if it had dispatched the whole log. */
export async function passDispatcherOverTheLog(db: Queryable): Promise<void> {
  await db.query(
    `INSERT INTO log_checkpoints (consumer, transaction_id, position)
     SELECT 'dispatcher', transaction_id, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1
     ON CONFLICT (consumer) DO UPDATE SET transaction_id = excluded.transaction_id, position = excluded.position, updated_at = now()`,
  );
}
