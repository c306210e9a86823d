import pg from 'pg';
import { isPgError, PgError } from './database.js';

/** Creates the database named in `url` when it does not exist yet (DESIGN §4). */
export async function createDatabaseIfMissing(url: string): Promise<void> {
  // Usually it exists, and a managed server may not let the app into the maintenance database.
  if (await canConnect(url)) return;
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`).catch((error: unknown) => {
        // A concurrent CREATE DATABASE of the same name fails on pg_database's unique index
        // (23505), not with duplicate_database: either way another process made it.
        if (!isPgError(error, PgError.duplicateDatabase) && !isPgError(error, PgError.uniqueViolation)) throw error;
      });
    }
  } finally {
    await client.end();
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (isPgError(error, PgError.invalidCatalogName)) return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
