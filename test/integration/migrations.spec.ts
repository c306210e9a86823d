import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, MIGRATIONS } from '@app/database';
import { BASE_DATABASE_URL, createTestDatabase, type TestDatabase } from '../support/test-database.js';

const ALL_MIGRATIONS = MIGRATIONS.map((m) => m.name);

/** Runs `work` on a connection to the server's maintenance database. */
async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(BASE_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function onDatabase<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const databaseExists = (name: string): Promise<boolean> =>
  onServer(async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);

const tablesOf = (url: string): Promise<string[]> =>
  onDatabase(url, async (c) => {
    const { rows } = await c.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    return rows.map((r) => r.table_name);
  });

const appliedMigrations = (url: string): Promise<string[]> =>
  onDatabase(url, async (c) => (await c.query<{ name: string }>('SELECT name FROM migrations ORDER BY id')).rows.map((r) => r.name));

describe(migrate.name, () => {
  let database: TestDatabase;
  const created: string[] = [];

  /** A database name no one has used; dropped after the file. */
  const freshDatabase = (): { name: string; url: string } => {
    const name = `contacts_migrate_${randomBytes(5).toString('hex')}`;
    created.push(name);
    const url = new URL(BASE_DATABASE_URL);
    url.pathname = `/${name}`;
    return { name, url: url.toString() };
  };

  beforeAll(async () => {
    database = await createTestDatabase('migrations');
  });
  afterAll(async () => {
    await onServer(async (c) => {
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    });
    await database.drop();
  });

  it('creates a missing database and applies every migration to it', async () => {
    const fresh = freshDatabase();
    expect(await databaseExists(fresh.name)).toBe(false);

    const applied = await migrate(fresh.url);

    expect(applied).toEqual(ALL_MIGRATIONS);
    expect(await databaseExists(fresh.name)).toBe(true);
    expect(await tablesOf(fresh.url)).toEqual([
      'clients',
      'contacts',
      'email_reservations',
      'event_log_clock',
      'events',
      'idempotency_keys',
      'leases',
      'log_checkpoints',
      'migrations',
      'roles',
      'settings',
      'signin_attempts',
    ]);
    expect(await appliedMigrations(fresh.url)).toEqual(ALL_MIGRATIONS);
  });

  it('applies nothing to a database that is up to date', async () => {
    const before = await tablesOf(database.url);

    const applied = await migrate(database.url);

    expect(applied).toEqual([]);
    expect(await tablesOf(database.url)).toEqual(before);
    expect(await appliedMigrations(database.url)).toEqual(ALL_MIGRATIONS);
  });

  it('keeps the data of a database it migrates again', async () => {
    await database.db.query(`INSERT INTO settings (key, value) VALUES ('kept', 'yes')`);

    await migrate(database.url);

    const { rows } = await database.db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'kept'`);
    expect(rows).toEqual([{ value: 'yes' }]);
  });

  it('lets two processes migrate one new database at once: both succeed, the migrations run once', async () => {
    for (let round = 0; round < 3; round += 1) {
      const fresh = freshDatabase();

      const results = await Promise.all([migrate(fresh.url), migrate(fresh.url)]);

      expect(results.flat()).toEqual(ALL_MIGRATIONS);
      expect(await appliedMigrations(fresh.url)).toEqual(ALL_MIGRATIONS);
    }
  });
});
