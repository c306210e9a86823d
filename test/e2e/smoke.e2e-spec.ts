import { createTestApi, type TestApi } from '../support/test-api.js';

describe('POST /api/contacts.json (smoke)', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    api = await createTestApi({ label: 'smoke' });
    token = await api.token();
  });
  afterAll(async () => {
    await api.close();
  });

  it('creates a guest and reads it back', async () => {
    const created = await api.http.inject({
      method: 'POST',
      url: '/api/contacts.json',
      headers: { authorization: `Bearer ${token}` },
      payload: { contact: { type: 'guest', firstname: 'Ann', lastname: 'Lee', email: 'ann@example.com' } },
    });
    expect(created.statusCode).toBe(201);
    const { contact } = created.json<{ contact: { id: string } }>();
    expect(created.headers.location).toBe(`/api/contacts/${contact.id}.json`);

    const read = await api.http.inject({ method: 'GET', url: created.headers.location as string, headers: { authorization: `Bearer ${token}` } });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(created.json());
  });
});
