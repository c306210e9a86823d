import { Database, RUNTIME_ROLE } from '@app/database';
import { run } from '../../apps/cli/src/cli.js';
import { aUserPayload, createContact, get } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

/** What Postgres answers `sql` with as the runtime role: the error's message, or 'ok'. */
async function attempt(db: { query(sql: string): Promise<unknown> }, sql: string): Promise<string> {
  try {
    await db.query(sql);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe('the runtime role', () => {
  let api: TestApi;
  let token: string;
  let runtime: Database;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'least-privilege' }));
    runtime = new Database({ url: api.database.url, role: RUNTIME_ROLE, max: 1 });
    // Something in the log to try to change.
    expect((await createContact(api, token, aUserPayload())).statusCode).toBe(201);
  });
  afterAll(async () => {
    await runtime.close();
    await api.close();
  });

  it('is what the sessions of the API run as', async () => {
    const { rows } = await api.app.get(Database).query<{ current_user: string; session_user: string }>('SELECT current_user, session_user');

    expect(rows[0]?.current_user).toBe(RUNTIME_ROLE);
    expect(rows[0]?.session_user).not.toBe(RUNTIME_ROLE);
  });

  it.each([
    ['UPDATE events', `UPDATE events SET type = type`, /permission denied for table events/],
    ['DELETE FROM events', `DELETE FROM events`, /permission denied for table events/],
    ['TRUNCATE events', `TRUNCATE events`, /permission denied for table events/],
    ['ALTER TABLE events DISABLE TRIGGER', `ALTER TABLE events DISABLE TRIGGER events_append_only`, /must be owner of table events/],
    ['ALTER TABLE events DISABLE TRIGGER ALL', `ALTER TABLE events DISABLE TRIGGER ALL`, /must be owner of table events/],
    ['DROP TRIGGER', `DROP TRIGGER events_append_only ON events`, /must be owner of (table|relation) events/],
    [
      'SET session_replication_role',
      `SET session_replication_role = replica`,
      /permission denied to set parameter "session_replication_role"/,
    ],
    ['ALTER ROLE to superuser', `ALTER ROLE ${RUNTIME_ROLE} SUPERUSER`, /permission denied|must be superuser/],
    ['UPDATE the schema history', `UPDATE migrations SET name = name`, /permission denied for table migrations/],
  ])('may not %s', async (_case, sql, refusal) => {
    expect(await attempt(runtime, sql)).toMatch(refusal);
  });

  it("may not mask events itself, even naming the erasure setting the owner's function uses", async () => {
    const client = await runtime.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('contacts.erasing', (SELECT stream_id::text FROM events LIMIT 1), true)`);
      expect(await attempt(client, `UPDATE events SET data = '{}'`)).toMatch(/permission denied for table events/);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('may run erase_stream only on a stream that holds an erasure', async () => {
    const masked = JSON.stringify([{ version: 1, data: {}, seal: 'x' }]);
    const sql = `SELECT erase_stream((SELECT stream_id FROM events LIMIT 1), '${masked}'::jsonb)`;

    expect(await attempt(runtime, sql)).toMatch(/holds no erasure/);
  });

  it('may run erase_stream on an erased stream only to replace values by "[erased]"', async () => {
    const created = await createContact(api, token, aUserPayload({ firstname: 'Ada' }));
    const id = created.json<{ contact: { id: string } }>().contact.id;
    const erased = await api.http.inject({
      method: 'POST',
      url: `/api/contacts/${id}/erase.json`,
      headers: { authorization: `Bearer ${token}` },
      payload: { reason: 'asked' },
    });
    expect(erased.statusCode).toBe(200);
    // The erasure event itself holds nothing personal, so it is the one event of the stream left unsealed.
    const { rows } = await api.database.db.query<{ version: number }>(
      `SELECT stream_version AS version FROM events WHERE stream_id = $1 AND type = 'ContactErased'`,
      [id],
    );
    const rewritten = JSON.stringify([{ version: rows[0]?.version, data: { reason: 'something else' }, seal: 'x' }]);
    const masked = JSON.stringify([{ version: rows[0]?.version, data: { reason: '[erased]' }, seal: 'x' }]);

    expect(await attempt(runtime, `SELECT erase_stream('${id}', '${rewritten}'::jsonb)`)).toMatch(/changes more than personal values/);
    // A masking passes the check (and is then caught by verify, its seal being wrong): the check is about shape only.
    expect(await attempt(runtime, `SELECT erase_stream('${id}', '${masked}'::jsonb)`)).toBe('ok');
  });

  it('stays the runtime role after RESET ROLE', async () => {
    const client = await runtime.pool.connect();
    try {
      await client.query('RESET ROLE');
      const { rows } = await client.query<{ current_user: string }>('SELECT current_user');

      expect(rows[0]?.current_user).toBe(RUNTIME_ROLE);
    } finally {
      client.release();
    }
  });

  it('leaves the log as it was after every refused attempt, and the owner can still read it whole', async () => {
    const { rows } = await api.database.db.query<{ n: string }>(`SELECT count(*) AS n FROM events`);

    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(1);
    expect(await attempt(runtime, `SELECT count(*) FROM events`)).toBe('ok');
  });

  it('still creates, updates and reads contacts through the API, also after the CLI replayed the read tables as the owner', async () => {
    const created = await createContact(api, token, aUserPayload());
    expect(created.statusCode).toBe(201);
    const id = created.json<{ contact: { id: string } }>().contact.id;

    await run(['replay'], { DATABASE_URL: api.database.url }, () => undefined);

    expect((await get(api, token, `/api/contacts/${id}.json`)).statusCode).toBe(200);
    const updated = await api.http.inject({
      method: 'POST',
      url: `/api/contacts/${id}.json`,
      headers: { authorization: `Bearer ${token}` },
      payload: { contact: { firstname: 'Renamed' } },
    });
    expect(updated.statusCode).toBe(200);
    expect((await createContact(api, token, aUserPayload())).statusCode).toBe(201);
  });
});
