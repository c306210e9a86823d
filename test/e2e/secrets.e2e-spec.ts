import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import type { ContactView } from '@app/contacts';
import { aUserPayload, createContact, get, type Response } from '../support/contact-requests.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

const BCRYPT_HASH = /\$2[abxy]\$\d{2}\$/;

describe('secrets', () => {
  let api: TestApi;
  let client: { client_id: string; client_secret: string };
  let token: string;

  beforeAll(async () => {
    api = await createTestApi({ label: 'secrets' });
    client = await api.client();
    const issued = await api.http.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
    });
    token = issued.json<{ access_token: string }>().access_token;
  });
  afterAll(async () => {
    await api.close();
  });

  const uniquePassword = (): string => `Pw${randomBytes(6).toString('hex')}9`;
  const expectNoSecret = (response: Response, password: string): void => {
    expect(response.body).not.toContain(password);
    expect(response.body).not.toMatch(BCRYPT_HASH);
    expect(response.body).not.toContain(client.client_secret);
    expect(JSON.stringify(response.headers)).not.toContain(password);
  };
  const eventsOf = async (
    contactId: string,
  ): Promise<{ type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[]> => {
    const { rows } = await api.database.db.query<{ type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }>(
      'SELECT type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [contactId],
    );
    return rows;
  };

  it('keeps the password and its hash out of the create, read and list responses', async () => {
    const password = uniquePassword();
    const payload = aUserPayload({ password });

    const created = await createContact(api, token, payload, { invite: true });
    const contact = created.json<{ contact: ContactView }>().contact;
    const read = await get(api, token, `/api/contacts/${contact.id}.json`);
    const listed = await get(api, token, `/api/contacts.json?email=${encodeURIComponent(String(payload.email))}`);

    expect(created.statusCode).toBe(201);
    expect(contact.hasPassword).toBe(true);
    expect(Object.keys(contact)).not.toContain('password');
    expect(Object.keys(contact)).not.toContain('passwordHash');
    for (const response of [created, read, listed]) expectNoSecret(response, password);
  });

  it('does not echo a refused password in the problem document', async () => {
    for (const password of ['onlyletters', 'short1', `long1${'y'.repeat(80)}`]) {
      const sut = await createContact(api, token, aUserPayload({ password }));

      expect(sut.statusCode).toBe(422);
      expectNoSecret(sut, password);
    }
  });

  it('does not echo the client secret from the token endpoint, nor from a refusal', async () => {
    const issued = await api.http.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
    });
    const wrong = await api.http.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: `${client.client_secret}0` },
    });

    expect(issued.statusCode).toBe(200);
    expect(wrong.statusCode).toBe(401);
    expect(issued.body).not.toContain(client.client_secret);
    expect(wrong.body).not.toContain(client.client_secret);
  });

  it('records a bcrypt hash of the password in PasswordSet, never the password', async () => {
    const password = uniquePassword();
    const created = await createContact(api, token, aUserPayload({ password }));
    const { id } = created.json<{ contact: ContactView }>().contact;

    const events = await eventsOf(id);

    const passwordSet = events.filter((e) => e.type === 'PasswordSet');
    expect(passwordSet).toHaveLength(1);
    const hash = passwordSet[0]?.data.passwordHash;
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(await bcrypt.compare(password, String(hash))).toBe(true);
    expect(JSON.stringify(events)).not.toContain(password);
  });

  it('records no PasswordSet for an invited user without a password', async () => {
    const created = await createContact(api, token, aUserPayload({ password: undefined }), { invite: true });
    const { id } = created.json<{ contact: ContactView }>().contact;

    const events = await eventsOf(id);

    expect(events.map((e) => e.type)).not.toContain('PasswordSet');
    expect(events.map((e) => e.type)).toContain('InviteIssued');
  });

  it('stores the client secret only as a hash', async () => {
    const { rows } = await api.database.db.query<{ secret_hash: string }>('SELECT secret_hash FROM clients WHERE client_id = $1', [
      client.client_id,
    ]);

    expect(rows).toHaveLength(1);
    expect(rows[0]?.secret_hash).not.toContain(client.client_secret);
  });

  it('records who made the change on every event, and no credential', async () => {
    const created = await createContact(api, token, aUserPayload(), {});
    const { id } = created.json<{ contact: ContactView }>().contact;

    const events = await eventsOf(id);

    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(event.metadata).toMatchObject({ clientId: client.client_id, requestId: expect.any(String) });
      expect(JSON.stringify(event.metadata)).not.toContain(token);
      expect(JSON.stringify(event.metadata)).not.toContain(client.client_secret);
    }
  });
});
