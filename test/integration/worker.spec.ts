import { FixedClock, loadConfig } from '@app/config';
import { Database } from '@app/database';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

describe(createWorker.name, () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('worker');
  });
  afterAll(() => database.drop());

  it('starts against the database and stops cleanly, releasing its connections', async () => {
    const config = loadConfig({ DATABASE_URL: database.url, LOG_LEVEL: 'silent' });

    const sut = await createWorker(config, { clock: new FixedClock(new Date('2026-01-15T10:00:00Z')), logs: false });
    const pool = sut.get(Database);
    await expect(pool.query('SELECT 1 AS up')).resolves.toMatchObject({ rows: [{ up: 1 }] });
    await sut.close();

    expect(pool.pool.ended).toBe(true);
  });
});
