import pg from 'pg';

/**
 * What a statement runs on: the pool (autocommit) or a client inside a transaction. A hot statement
 * may pass `{ name, text, values }`: each connection then parses and plans it once, not per call.
 */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export type Tx = Queryable;

// bigint columns (positions, counts) arrive as strings; they may exceed 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export interface DatabaseOptions {
  url: string;
  max?: number;
  applicationName?: string;
  /** how long an unused connection stays open (pg's default: 10 s) */
  idleTimeoutMs?: number;
  /** how long a statement may wait for a lock before it fails (55P03); 0: as long as it takes */
  lockTimeoutMs?: number;
  /** how long a statement may run before it is cancelled (57014); 30 s unless given */
  statementTimeoutMs?: number;
  /**
   * The role every session of the pool runs as (`RUNTIME_ROLE` for the API and the worker); unset:
   * the user of the URL (migrations, the CLI, tests that tamper with the log as its owner).
   */
  role?: string;
}

/**
 * The Postgres pool every query goes through. Sessions refuse to sit idle inside a transaction
 * (DESIGN §3.3): a stuck append must not hold back every reader of the log.
 */
export class Database implements Queryable {
  readonly pool: pg.Pool;

  constructor(options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 20,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      application_name: options.applicationName ?? 'contacts',
      options: [
        '-c idle_in_transaction_session_timeout=10000',
        `-c statement_timeout=${options.statementTimeoutMs ?? 30_000}`,
        `-c lock_timeout=${options.lockTimeoutMs ?? 0}`,
        // A role given at connection start is the session's default: RESET ROLE comes back to it.
        ...(options.role === undefined ? [] : [`-c role=${roleName(options.role)}`]),
      ].join(' '),
    });
    // An idle client that loses its server connection must not crash the process.
    this.pool.on('error', () => undefined);
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  /** Called by Nest when the application that holds this pool shuts down. */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}

function roleName(role: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new RangeError(`not a plain role name: ${role}`);
  return role;
}

/** Postgres error codes the service reacts to. */
export const PgError = {
  uniqueViolation: '23505',
  lockNotAvailable: '55P03',
  queryCanceled: '57014',
  duplicateDatabase: '42P04',
  invalidCatalogName: '3D000',
} as const;

export function isPgError(error: unknown, code: string): error is pg.DatabaseError {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}
