import { FixedClock } from '@app/config';
import { forgetIdempotencyKeys } from '../../apps/worker/src/maintenance/forget-idempotency-keys.processor.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe(forgetIdempotencyKeys.name, () => {
  let database: TestDatabase;
  const now = new Date('2026-01-15T10:00:00Z');
  const hoursAgo = (h: number): Date => new Date(now.getTime() - h * 3_600_000);

  beforeAll(async () => {
    database = await createTestDatabase('forgetkeys');
  });
  afterAll(() => database.drop());

  it('deletes the records older than 24 hours, in batches, and keeps the rest', async () => {
    await database.db.query(
      `INSERT INTO idempotency_keys (client_id, key, fingerprint, created_at)
       SELECT 'old-client', 'k' || n, 'f', $1 FROM generate_series(1, 12000) n`,
      [hoursAgo(25)],
    );
    await database.db.query(
      `INSERT INTO idempotency_keys (client_id, key, fingerprint, created_at) VALUES ('c', 'fresh', 'f', $1), ('c', 'edge', 'f', $2)`,
      [hoursAgo(1), hoursAgo(24)],
    );

    const forgotten = await forgetIdempotencyKeys(database.db, new FixedClock(now));

    expect(forgotten).toBe(12_000);
    const { rows } = await database.db.query<{ key: string }>('SELECT key FROM idempotency_keys ORDER BY key');
    expect(rows.map((r) => r.key)).toEqual(['edge', 'fresh']);
  });
});
