import { randomUUID } from 'node:crypto';
import { ClientStore, tokenSecret, type Scope } from '@app/auth';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('auth');
});
afterAll(async () => {
  await database.drop();
});

describe(ClientStore.name, () => {
  let sut: ClientStore;

  beforeAll(() => {
    sut = new ClientStore(database.db);
  });

  const aClient = (overrides: { name?: string; scopes?: Scope[] } = {}) =>
    sut.create(overrides.name ?? `client ${randomUUID().slice(0, 8)}`, overrides.scopes ?? ['contacts', 'audit']);

  it('issues an id and a secret and stores only a hash of the secret', async () => {
    const issued = await aClient({ name: 'Shop' });

    expect(issued).toEqual({ client_id: expect.any(String), client_secret: expect.any(String), scopes: ['contacts', 'audit'] });
    expect(issued.client_secret.length).toBeGreaterThanOrEqual(43);
    const { rows } = await database.db.query<{ everything: string; secret_hash: string }>(
      'SELECT row_to_json(c)::text AS everything, secret_hash FROM clients c WHERE client_id = $1',
      [issued.client_id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.everything).toContain('Shop');
    expect(rows[0]?.everything).not.toContain(issued.client_secret);
    expect(rows[0]?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never stores a secret anywhere in the clients table', async () => {
    const issued = await Promise.all([aClient(), aClient(), aClient()]);

    const { rows } = await database.db.query<{ dump: string }>(
      "SELECT coalesce(string_agg(row_to_json(c)::text, E'\\n'), '') AS dump FROM clients c",
    );
    for (const { client_secret: secret } of issued) expect(rows[0]?.dump).not.toContain(secret);
  });

  it('gives every client its own id and secret', async () => {
    const [a, b] = await Promise.all([aClient(), aClient()]);

    expect(a?.client_id).not.toBe(b?.client_id);
    expect(a?.client_secret).not.toBe(b?.client_secret);
  });

  it('authenticates a client by its secret', async () => {
    const issued = await aClient({ name: 'CRM', scopes: ['contacts.readonly'] });

    await expect(sut.authenticate(issued.client_id, issued.client_secret)).resolves.toEqual({
      clientId: issued.client_id,
      name: 'CRM',
      scopes: ['contacts.readonly'],
    });
  });

  it('refuses a wrong secret', async () => {
    const issued = await aClient();
    const other = await aClient();

    await expect(sut.authenticate(issued.client_id, other.client_secret)).resolves.toBeNull();
    await expect(sut.authenticate(issued.client_id, `${issued.client_secret}x`)).resolves.toBeNull();
    await expect(sut.authenticate(issued.client_id, '')).resolves.toBeNull();
  });

  it.each([
    ['an unknown id', () => randomUUID()],
    ['an id that is no uuid', () => 'not-a-client'],
    ['an empty id', () => ''],
  ])('refuses %s', async (_name, clientId) => {
    const issued = await aClient();

    await expect(sut.authenticate(clientId(), issued.client_secret)).resolves.toBeNull();
  });
});

describe(tokenSecret.name, () => {
  beforeEach(async () => {
    // Each test starts from a database that never generated a secret.
    await database.db.query(`DELETE FROM settings WHERE key = 'token_secret'`);
  });

  it('generates a secret once and returns the same one on later calls', async () => {
    const first = await tokenSecret(database.db, undefined);
    const second = await tokenSecret(database.db, undefined);

    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
    const { rows } = await database.db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'token_secret'`);
    expect(rows).toEqual([{ value: first }]);
  });

  it('agrees on one secret when many processes start at once', async () => {
    const secrets = await Promise.all(Array.from({ length: 10 }, () => tokenSecret(database.db, undefined)));

    expect(new Set(secrets).size).toBe(1);
    const { rows } = await database.db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'token_secret'`);
    expect(rows).toEqual([{ value: secrets[0] }]);
  });

  it('uses TOKEN_SECRET when configured and stores nothing', async () => {
    const configured = 'a-configured-secret-of-at-least-32-chars';

    await expect(tokenSecret(database.db, configured)).resolves.toBe(configured);
    const { rowCount } = await database.db.query(`SELECT 1 FROM settings WHERE key = 'token_secret'`);
    expect(rowCount).toBe(0);
  });
});
