import {
  aGuestPayload,
  aUserPayload,
  countContacts,
  countEvents,
  createContact,
  errorsOf,
  problemOf,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const MIB = 1024 * 1024;

describe('problem documents', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'errors' }));
  });
  afterAll(() => api.close());

  /** POST /api/contacts.json with a raw body, so malformed input reaches the server as sent. */
  const send = (payload: string | Buffer, contentType: string | null = 'application/json', url = '/api/contacts.json'): Promise<Response> =>
    api.http.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, ...(contentType === null ? {} : { 'content-type': contentType }) },
      payload,
    });

  const guestJson = (firstname: string): string => JSON.stringify({ contact: { ...aGuestPayload(), firstname } });

  const refusals: [string, () => Promise<Response>, number][] = [
    ['malformed JSON', () => send('{"contact": {"type": "guest",'), 400],
    ['a trailing comma', () => send('{"contact": {"type": "guest"},}'), 400],
    ['an empty JSON body', () => send(''), 400],
    ['text/plain', () => send(guestJson('Ann'), 'text/plain'), 415],
    ['form encoding', () => send('contact[type]=guest', 'application/x-www-form-urlencoded'), 415],
    ['no Content-Type', () => send(guestJson('Ann'), null), 415],
    ['a look-alike media type', () => send(guestJson('Ann'), 'application/jsonp'), 415],
    ['a body over 1 MiB', () => send(guestJson('x'.repeat(MIB + 10))), 413],
    ['a JSON array', () => send('[]'), 422],
    ['a JSON string', () => send('"contact"'), 422],
    ['a JSON number', () => send('42'), 422],
    ['JSON null', () => send('null'), 422],
    ['a NUL character in a string', () => send(guestJson('An\u0000n')), 422],
    [
      'an escaped NUL in a string',
      () => send(`{"contact":{"type":"guest","firstname":"An\\u0000n","lastname":"Lee","email":"nul@example.com"}}`),
      422,
    ],
    [
      'an unpaired surrogate',
      () => send(`{"contact":{"type":"guest","firstname":"\\ud800","lastname":"Lee","email":"s@example.com"}}`),
      422,
    ],
    ['a __proto__ key', () => send('{"contact":{"type":"guest"},"__proto__":{"admin":true}}'), 400],
    ['a nested __proto__ key', () => send('{"contact":{"type":"guest","__proto__":{"admin":true}}}'), 400],
    ['a constructor.prototype key', () => send('{"contact":{"constructor":{"prototype":{"admin":true}}}}'), 400],
    ['nesting 100 levels deep', () => send(`{"contact":{"type":"guest","address":${'{"a":'.repeat(100)}1${'}'.repeat(100)}}}`), 422],
    ['contact as a string', () => send('{"contact":"guest"}'), 422],
    ['a user breaking a rule', () => createContact(api, token, aUserPayload({ password: 'short' })), 422],
    [
      'an unknown route',
      () => api.http.inject({ method: 'GET', url: '/api/nothing.json', headers: { authorization: `Bearer ${token}` } }),
      404,
    ],
    ['an unknown top-level route', () => api.http.inject({ method: 'GET', url: '/nothing' }), 404],
    [
      'an unknown contact',
      () =>
        api.http.inject({
          method: 'GET',
          url: '/api/contacts/00000000-0000-4000-8000-000000000000.json',
          headers: { authorization: `Bearer ${token}` },
        }),
      404,
    ],
    ['no token', () => api.http.inject({ method: 'GET', url: '/api/contacts.json' }), 401],
  ];

  it.each(refusals)('answers %s with a problem document of status %i', async (_case, request, status) => {
    const sut = await request();

    expect(sut.statusCode).toBe(status);
    expect(sut.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = sut.json<Record<string, unknown>>();
    expect(body).toEqual(
      expect.objectContaining({
        type: expect.any(String),
        title: expect.any(String),
        status,
        detail: expect.any(String),
        errors: expect.any(Array),
      }),
    );
    expect(Object.keys(body)).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'errors']));
  });

  it('writes nothing for any refused request', async () => {
    const events = await countEvents(api);
    const contacts = await countContacts(api);

    const statuses: number[] = [];
    for (const [, request] of refusals) statuses.push((await request()).statusCode);

    expect(statuses.every((s) => s >= 400 && s < 500)).toBe(true);
    expect(await countEvents(api)).toBe(events);
    expect(await countContacts(api)).toBe(contacts);
  });

  it('points at the field holding a NUL character', async () => {
    const sut = await send(guestJson('An\u0000n'));

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toEqual([{ pointer: '/contact/firstname', code: 'invalid_characters' }]);
  });

  it('points at a NUL character deep in the address', async () => {
    const sut = await createContact(api, token, aGuestPayload({ address: { line1: 'a\u0000' } }));

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toEqual([{ pointer: '/contact/address/line1', code: 'invalid_characters' }]);
  });

  it('points at a NUL character in a key, escaping "/" and "~" in the pointer', async () => {
    const sut = await send(`{"contact":{"a/b~c":{"x\\u0000":1}}}`);

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toEqual([{ pointer: '/contact/a~1b~0c/x\u0000', code: 'invalid_characters' }]);
  });

  it('points at a NUL character inside a tag list', async () => {
    const sut = await createContact(api, token, aGuestPayload({ tags: { contact: ['ok', 'b\u0000d'] } }));

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toEqual([{ pointer: '/contact/tags/contact/1', code: 'invalid_characters' }]);
  });

  it('accepts a body just under 1 MiB without a 413', async () => {
    // The size limit is for the body, not a field: a large body may still break field rules (422).
    const sut = await send(JSON.stringify({ contact: aGuestPayload(), padding: 'x'.repeat(MIB - 500) }));

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toContainEqual({ pointer: '/padding', code: 'unknown_field' });
  });

  it('accepts application/json with a charset', async () => {
    const sut = await send(JSON.stringify({ contact: aGuestPayload() }), 'application/json; charset=utf-8');

    expect(sut.statusCode).toBe(201);
  });

  it('does not merge a __proto__ key into anything', async () => {
    const sut = await send(
      '{"contact":{"type":"guest","firstname":"A","lastname":"B","email":"proto@example.com"},"__proto__":{"polluted":true}}',
    );

    expect(sut.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives every response an x-request-id, echoing a sane one from the client', async () => {
    const sut = await api.http.inject({ method: 'GET', url: '/api/nothing.json', headers: { 'x-request-id': 'trace-123' } });

    expect(sut.headers['x-request-id']).toBe('trace-123');
    problemOf(sut);
  });

  it.each([
    ['a number for a name', { firstname: 7 }, '/contact/firstname', 'invalid_type'],
    ['an object for the email', { email: { $ne: null } }, '/contact/email', 'invalid_type'],
    ['an array for the company', { company: ['Acme'] }, '/contact/company', 'invalid_type'],
    ['a name of 256 characters', { firstname: 'n'.repeat(256) }, '/contact/firstname', 'too_long'],
  ])('refuses %s with 422 at the field', async (_case, override, pointer, code) => {
    const sut = await createContact(api, token, aGuestPayload(override));

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toContainEqual({ pointer, code });
  });
});
