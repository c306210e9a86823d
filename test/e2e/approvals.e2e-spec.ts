import {
  aCreatedContact,
  aGuestPayload,
  aRole,
  aUserPayload,
  contactOf,
  errorsOf,
  post,
  problemOf,
  readContact,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

describe('approving and rejecting pending grants', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'approvals' }));
  });

  afterAll(() => api.close());

  const decide = (id: string, reference: string, decision: 'approve' | 'reject', as = token) =>
    post(api, as, `/api/contacts/${id}/access-roles/${encodeURIComponent(reference)}/${decision}.json`, {});

  async function eventsOf(id: string): Promise<{ type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }[]> {
    const { rows } = await api.database.db.query<{ type: string; data: Record<string, unknown>; metadata: Record<string, unknown> }>(
      'SELECT type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [id],
    );
    return rows;
  }

  async function aUserAwaiting(method: 'admin' | 'email' = 'admin'): Promise<{ id: string; reference: string }> {
    const reference = await aRole(api, token, method);
    const contact = await aCreatedContact(api, token, aUserPayload({ accessRoles: [reference] }));
    expect(contact.accessRoles).toEqual([
      { reference, status: 'pending', expires: null, pendingReason: method === 'admin' ? 'admin_approval' : 'email_verification' },
    ]);
    return { id: contact.id, reference };
  }

  it('activates a grant an administrator approves, recorded as RoleActivated by admin', async () => {
    const { id, reference } = await aUserAwaiting();

    const response = await decide(id, reference, 'approve');

    expect(response.statusCode).toBe(200);
    expect(contactOf(response).accessRoles).toEqual([{ reference, status: 'active', expires: null }]);
    expect(contactOf(response).version).toBe(4); // created, password, granted, activated
    expect(response.headers.etag).toBe(`"4"`);
    expect((await readContact(api, token, id)).accessRoles).toEqual([{ reference, status: 'active', expires: null }]);
    const last = (await eventsOf(id)).at(-1);
    expect(last).toMatchObject({ type: 'RoleActivated', data: { reference, by: 'admin' } });
    expect(last?.metadata.clientId).toEqual(expect.any(String));
  });

  it('revokes a grant an administrator rejects, recorded as RoleRevoked rejected', async () => {
    const { id, reference } = await aUserAwaiting();

    const response = await decide(id, reference, 'reject');

    expect(response.statusCode).toBe(200);
    expect(contactOf(response).accessRoles).toEqual([]);
    expect((await eventsOf(id)).at(-1)).toMatchObject({ type: 'RoleRevoked', data: { reference, reason: 'rejected' } });
  });

  it('refuses to decide a grant that is not pending: 409 grant_not_pending, nothing written', async () => {
    const { id, reference } = await aUserAwaiting();
    await decide(id, reference, 'approve');
    const before = (await eventsOf(id)).length;

    const again = await decide(id, reference, 'approve');
    const reject = await decide(id, reference, 'reject');

    expect(again.statusCode).toBe(409);
    expect(errorsOf(again)).toEqual([{ pointer: '', code: 'grant_not_pending' }]);
    expect(reject.statusCode).toBe(409);
    expect((await eventsOf(id)).length).toBe(before);
  });

  it('leaves a grant waiting for email verification to the invite: approving it is 409', async () => {
    const { id, reference } = await aUserAwaiting('email');

    const response = await decide(id, reference, 'approve');

    expect(response.statusCode).toBe(409);
    expect(errorsOf(response)).toEqual([{ pointer: '', code: 'grant_awaits_email_verification' }]);
    expect((await readContact(api, token, id)).accessRoles[0]?.status).toBe('pending');
  });

  it('answers 404 for a grant the contact does not hold, an unknown contact, or a malformed id', async () => {
    const { id } = await aUserAwaiting();
    const guest = await aCreatedContact(api, token, aGuestPayload());

    const noGrant = await decide(id, 'not-a-grant-here', 'approve');
    const onGuest = await decide(guest.id, 'anything', 'approve');
    const unknown = await decide('5b0e5f8e-8a43-4c8e-9d3c-7d1f1f0f0f0f', 'anything', 'approve');
    const malformed = await decide('not-a-uuid', 'anything', 'approve');

    expect(noGrant.statusCode).toBe(404);
    expect(problemOf(noGrant).type).toMatch(/grant_not_found/);
    expect(onGuest.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(malformed.statusCode).toBe(404);
  });

  it('needs the roles scope', async () => {
    const { id, reference } = await aUserAwaiting();
    const contactsOnly = await api.token(['contacts']);

    const response = await decide(id, reference, 'approve', contactsOnly);

    expect(response.statusCode).toBe(403);
    expect((await readContact(api, token, id)).accessRoles[0]?.status).toBe('pending');
  });

  it('answers 404 for a decision other than approve or reject', async () => {
    const { id, reference } = await aUserAwaiting();

    const response = await post(api, token, `/api/contacts/${id}/access-roles/${reference}/maybe.json`, {});

    expect(response.statusCode).toBe(404);
  });

  it('takes the decision without a body, as curl -X POST sends it; a create without a body is refused as malformed', async () => {
    const { id, reference } = await aUserAwaiting();

    const response = await api.http.inject({
      method: 'POST',
      url: `/api/contacts/${id}/access-roles/${reference}/approve.json`,
      headers: { authorization: `Bearer ${token}` },
    });
    const create = await api.http.inject({ method: 'POST', url: '/api/contacts.json', headers: { authorization: `Bearer ${token}` } });

    expect(response.statusCode).toBe(200);
    expect(contactOf(response).accessRoles[0]?.status).toBe('active');
    expect(create.statusCode).toBeGreaterThanOrEqual(400);
    expect(create.statusCode).toBeLessThan(500);
  });
});
