import { createHmac } from 'node:crypto';
import type { Scope } from '@app/auth';
import {
  aGuestPayload,
  aUserPayload,
  createContact,
  errorsOf,
  get,
  post,
  problemOf,
  uniqueReference,
  type Response,
} from '../support/contact-requests.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

describe('authorization', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'auth' });
  });
  afterAll(async () => {
    await api.close();
  });

  const requestToken = (payload: Record<string, unknown> | string, contentType = 'application/json'): Promise<Response> =>
    api.http.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const grant = (client: { client_id: string; client_secret: string }, extra: Record<string, string> = {}): Record<string, string> => ({
    grant_type: 'client_credentials',
    client_id: client.client_id,
    client_secret: client.client_secret,
    ...extra,
  });
  const tokenWith = async (scopes: Scope[]): Promise<string> => api.token(scopes);

  describe('POST /oauth/token', () => {
    it('issues a bearer token for JSON credentials', async () => {
      const client = await api.client(['contacts', 'roles']);

      const sut = await requestToken(grant(client));

      expect(sut.statusCode).toBe(200);
      expect(sut.headers['cache-control']).toBe('no-store');
      const body = sut.json<TokenResponse>();
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'contacts roles' });
      expect(body.access_token).toEqual(expect.any(String));
    });

    it('issues a bearer token for form-encoded credentials (RFC 6749)', async () => {
      const client = await api.client(['contacts.readonly']);

      const sut = await requestToken(new URLSearchParams(grant(client)).toString(), 'application/x-www-form-urlencoded');

      expect(sut.statusCode).toBe(200);
      expect(sut.json<TokenResponse>()).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'contacts.readonly' });
    });

    it('issues a token that opens the API', async () => {
      const client = await api.client(['contacts']);
      const { access_token } = (await requestToken(grant(client))).json<TokenResponse>();

      const sut = await get(api, access_token, '/api/contacts.json');

      expect(sut.statusCode).toBe(200);
    });

    it('treats an empty scope as none asked for: the client gets its own scopes', async () => {
      const client = await api.client(['contacts', 'roles']);

      const issued = await requestToken(grant(client, { scope: '' }));

      expect(issued.statusCode).toBe(200);
      expect(issued.json<TokenResponse>().scope).toBe('contacts roles');
    });

    it('narrows the token to the scopes asked for', async () => {
      const client = await api.client(['contacts', 'roles']);

      const issued = await requestToken(grant(client, { scope: 'contacts.readonly' }));
      const token = issued.json<TokenResponse>().access_token;

      expect(issued.statusCode).toBe(200);
      expect(issued.json<TokenResponse>().scope).toBe('contacts.readonly');
      expect((await get(api, token, '/api/contacts.json')).statusCode).toBe(200);
      expect((await createContact(api, token, aGuestPayload())).statusCode).toBe(403);
      expect((await get(api, token, '/api/roles.json')).statusCode).toBe(403);
    });

    it.each([
      ['a scope the client lacks', 'audit'],
      ['an unknown scope', 'admin'],
      ['one granted and one not', 'contacts roles'],
    ])('refuses %s with 400 invalid_scope', async (_case, scope) => {
      const client = await api.client(['contacts']);

      const sut = await requestToken(grant(client, { scope }));

      expect(sut.statusCode).toBe(400);
      expect(problemOf(sut)).toMatchObject({ error: 'invalid_scope' });
    });

    it('refuses a wrong secret with 401 invalid_client', async () => {
      const client = await api.client(['contacts']);

      const sut = await requestToken(grant(client, { client_secret: `${client.client_secret}x` }));

      expect(sut.statusCode).toBe(401);
      expect(problemOf(sut)).toMatchObject({ error: 'invalid_client' });
      expect(sut.headers['www-authenticate']).toEqual(expect.any(String));
    });

    it('refuses an unknown client with 401 invalid_client', async () => {
      const sut = await requestToken({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'nothing' });

      expect(sut.statusCode).toBe(401);
      expect(problemOf(sut)).toMatchObject({ error: 'invalid_client' });
    });

    it.each(['password', 'authorization_code', ''])('refuses grant_type %j with 400 unsupported_grant_type', async (grantType) => {
      const client = await api.client(['contacts']);

      const sut = await requestToken(grant(client, { grant_type: grantType }));

      expect(sut.statusCode).toBe(400);
      expect(problemOf(sut)).toMatchObject({ error: 'unsupported_grant_type' });
    });

    it.each([
      ['no secret', { grant_type: 'client_credentials', client_id: 'x' }],
      ['a secret that is not a string', { grant_type: 'client_credentials', client_id: 'x', client_secret: 7 }],
    ])('refuses a request with %s with 400 invalid_request', async (_case, payload) => {
      const sut = await requestToken(payload);

      expect(sut.statusCode).toBe(400);
      expect(problemOf(sut)).toMatchObject({ error: 'invalid_request' });
    });

    it('refuses a malformed JSON body with a 400 problem', async () => {
      const sut = await requestToken('{"grant_type":');

      expect(sut.statusCode).toBe(400);
      problemOf(sut);
    });
  });

  describe('bearer tokens on /api', () => {
    it.each([
      ['no Authorization header', undefined],
      ['an empty bearer', 'Bearer '],
      ['basic credentials', 'Basic dXNlcjpwYXNz'],
      ['a garbage bearer', 'Bearer not-a-token'],
      ['a bearer with two tokens', 'Bearer a b'],
    ])('refuses %s with a 401 problem and a Bearer challenge', async (_case, authorization) => {
      const sut = await api.http.inject({ method: 'GET', url: '/api/contacts.json', headers: authorization ? { authorization } : {} });

      expect(sut.statusCode).toBe(401);
      expect(problemOf(sut)).toMatchObject({ status: 401, title: 'Unauthorized' });
      expect(sut.headers['www-authenticate']).toMatch(/^Bearer realm="contacts"/);
    });

    it('refuses a token signed with another secret with error="invalid_token"', async () => {
      const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: 'intruder', scope: 'contacts', exp: 4102444800 })}`;
      const forged = `${unsigned}.${createHmac('sha256', 'guessed secret').update(unsigned).digest('base64url')}`;

      const sut = await get(api, forged, '/api/contacts.json');

      expect(sut.statusCode).toBe(401);
      expect(sut.headers['www-authenticate']).toContain('error="invalid_token"');
      problemOf(sut);
    });

    it('refuses an unsigned token (alg none)', async () => {
      const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      const token = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'intruder', scope: 'contacts' })}.`;

      const sut = await get(api, token, '/api/contacts.json');

      expect(sut.statusCode).toBe(401);
    });

    it('refuses a create without a token with a 401 problem', async () => {
      const sut = await post(api, null, '/api/contacts.json', { contact: aUserPayload() });

      expect(sut.statusCode).toBe(401);
      problemOf(sut);
    });

    it('needs no token for /health', async () => {
      const sut = await api.http.inject({ method: 'GET', url: '/health' });

      expect(sut.statusCode).toBe(200);
    });
  });

  describe('scopes', () => {
    it('lets contacts.readonly read contacts but not create them (403 insufficient_scope)', async () => {
      const token = await tokenWith(['contacts.readonly']);

      const read = await get(api, token, '/api/contacts.json');
      const sut = await createContact(api, token, aGuestPayload());

      expect(read.statusCode).toBe(200);
      expect(sut.statusCode).toBe(403);
      expect(problemOf(sut)).toMatchObject({ status: 403, title: 'Forbidden' });
      expect(sut.headers['www-authenticate']).toContain('error="insufficient_scope"');
    });

    it('lets contacts read and create contacts but not the roles catalogue', async () => {
      const token = await tokenWith(['contacts']);

      expect((await createContact(api, token, aGuestPayload())).statusCode).toBe(201);
      expect((await get(api, token, '/api/contacts.json')).statusCode).toBe(200);
      expect((await get(api, token, '/api/roles.json')).statusCode).toBe(403);
    });

    it('lets roles.readonly list roles but not create them, nor read contacts', async () => {
      const token = await tokenWith(['roles.readonly']);

      const listed = await get(api, token, '/api/roles.json');
      const sut = await post(api, token, '/api/roles.json', { role: { reference: uniqueReference(), title: 'T', approvalMethod: 'none' } });

      expect(listed.statusCode).toBe(200);
      expect(sut.statusCode).toBe(403);
      problemOf(sut);
      expect((await get(api, token, '/api/contacts.json')).statusCode).toBe(403);
    });

    it('lets audit alone do nothing with contacts or roles', async () => {
      const token = await tokenWith(['audit']);

      expect((await get(api, token, '/api/contacts.json')).statusCode).toBe(403);
      expect((await createContact(api, token, aGuestPayload())).statusCode).toBe(403);
      expect((await get(api, token, '/api/roles.json')).statusCode).toBe(403);
    });
  });

  describe('the roles catalogue', () => {
    let token: string;

    beforeAll(async () => {
      token = await tokenWith(['roles']);
    });

    it('creates a role with 201 {role} and lists it', async () => {
      const role = { reference: uniqueReference('trade'), title: 'Trade account', approvalMethod: 'admin' };

      const sut = await post(api, token, '/api/roles.json', { role });
      const listed = await get(api, token, '/api/roles.json');

      expect(sut.statusCode).toBe(201);
      expect(sut.json()).toEqual({ role });
      expect(listed.statusCode).toBe(200);
      expect(listed.json<{ roles: unknown[] }>().roles).toContainEqual(role);
    });

    it('refuses a reference that exists with 409 at /role/reference', async () => {
      const role = { reference: uniqueReference('dup'), title: 'Twice', approvalMethod: 'none' };
      await post(api, token, '/api/roles.json', { role });

      const sut = await post(api, token, '/api/roles.json', { role: { ...role, title: 'Again' } });

      expect(sut.statusCode).toBe(409);
      expect(errorsOf(sut)).toEqual([{ pointer: '/role/reference', code: 'role_exists' }]);
    });

    it.each([
      ['an unknown approvalMethod', { approvalMethod: 'manual' }, '/role/approvalMethod', 'invalid_approval_method'],
      ['no approvalMethod', { approvalMethod: undefined }, '/role/approvalMethod', 'required'],
      ['no title', { title: undefined }, '/role/title', 'required'],
      ['a reference with spaces', { reference: 'trade account' }, '/role/reference', 'invalid_reference'],
      ['an unknown field', { colour: 'red' }, '/role/colour', 'unknown_field'],
    ])('refuses %s with 422', async (_case, override, pointer, code) => {
      const role = { reference: uniqueReference('bad'), title: 'Bad', approvalMethod: 'none', ...override };

      const sut = await post(api, token, '/api/roles.json', { role });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer, code });
    });

    it('refuses a body without a role with 422 required at /role', async () => {
      const sut = await post(api, token, '/api/roles.json', {});

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toContainEqual({ pointer: '/role', code: 'required' });
    });
  });
});
