import type { LightMyRequestResponse } from 'fastify';
import { aCreatedContact, aGuestPayload, updateContact } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

type Response = LightMyRequestResponse;

const CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** A browser's cookie jar, for /console paths: what the console set, sent back as one header. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(response: Response): this {
    for (const cookie of response.cookies) {
      if (cookie.value === '' || (cookie.maxAge !== undefined && cookie.maxAge <= 0)) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return this;
  }

  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const csrfTokenIn = (html: string): string => {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('the page carries no CSRF token');
  return token;
};

describe('the auditors’ console over HTTP', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'console' }));
  });
  afterAll(() => api.close());

  const get = (url: string, jar?: CookieJar): Promise<Response> =>
    api.http.inject({ method: 'GET', url, headers: jar ? { cookie: jar.header } : {} });

  const postForm = (url: string, form: Record<string, string>, jar: CookieJar): Promise<Response> =>
    api.http.inject({
      method: 'POST',
      url,
      headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });

  /** Opens the sign-in form and sends it; the jar then holds whatever the console set. */
  async function signIn(clientId: string, clientSecret: string, jar = new CookieJar()): Promise<{ jar: CookieJar; response: Response }> {
    const form = await get('/console/sign-in', jar);
    jar.take(form);
    const response = await postForm('/console/sign-in', { _csrf: csrfTokenIn(form.body), clientId, clientSecret }, jar);
    jar.take(response);
    return { jar, response };
  }

  async function anAuditor(): Promise<{ jar: CookieJar; clientId: string }> {
    const client = await api.client(['audit']);
    const { jar, response } = await signIn(client.client_id, client.client_secret);
    expect(response.statusCode).toBe(303);
    return { jar, clientId: client.client_id };
  }

  it.each(['/console', '/console/', '/console/feed', '/console/contacts/8c4e4f0e-4a47-4f3e-9d5e-0a5b0e1f2a3b', '/console/nowhere'])(
    'redirects %s to the sign-in form without a session',
    async (url) => {
      const response = await get(url);

      expect(response.statusCode).toBe(303);
      expect(response.headers.location).toBe('/console/sign-in');
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it('serves the sign-in form with a strict policy, no-store, and a CSRF cookie scoped to the console', async () => {
    const response = await get('/console/sign-in');

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(CSP);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.body).toContain('<label for="client-id">Client ID</label>');
    expect(response.body).toContain('<label for="client-secret">Client secret</label>');
    expect(response.body).toContain('<link rel="stylesheet" href="/console/console.css">');
    expect(response.body).not.toMatch(/<script|https?:\/\//);
    const csrf = response.cookies.find((c) => c.name === 'console_csrf');
    expect(csrf).toMatchObject({ path: '/console', httpOnly: true, sameSite: 'Strict' });
  });

  it('serves its stylesheet from the console itself, under the same headers', async () => {
    const response = await get('/console/console.css');

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(CSP);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.body).toContain('@media');
  });

  it('signs an audit client in with an HttpOnly, SameSite=Strict session cookie that opens the console', async () => {
    const client = await api.client(['audit']);

    const { jar, response } = await signIn(client.client_id, client.client_secret);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/console');
    const session = response.cookies.find((c) => c.name === 'console_session');
    expect(session).toMatchObject({ path: '/console', httpOnly: true, sameSite: 'Strict', maxAge: 8 * 60 * 60 });
    expect(session?.value).not.toContain(client.client_secret);
    const home = await get('/console', jar);
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('<label for="search">Search</label>');
    expect(home.body).toContain(`Signed in as ${client.client_id}`);
    expect(home.headers['content-security-policy']).toBe(CSP);
    expect(home.headers['cache-control']).toBe('no-store');
  });

  it('refuses a form post without its CSRF token, and with a token from another session', async () => {
    const client = await api.client(['audit']);
    const jar = new CookieJar().take(await get('/console/sign-in'));

    const bare = await postForm('/console/sign-in', { clientId: client.client_id, clientSecret: client.client_secret }, jar);
    const forged = await postForm(
      '/console/sign-in',
      { _csrf: 'not-a-token', clientId: client.client_id, clientSecret: client.client_secret },
      jar,
    );

    for (const response of [bare, forged]) {
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain('<h1>This form has expired</h1>');
      expect(response.cookies.find((c) => c.name === 'console_session')).toBeUndefined();
    }

    const { jar: signedIn } = await anAuditor();
    const signOut = await postForm('/console/sign-out', {}, signedIn);
    expect(signOut.statusCode).toBe(403);
    expect((await get('/console', signedIn)).statusCode).toBe(200);
  });

  it('refuses a client without the audit scope, and a wrong secret, with a message and no session', async () => {
    const reader = await api.client(['contacts']);
    const auditor = await api.client(['audit']);

    const noAudit = await signIn(reader.client_id, reader.client_secret);
    const wrong = await signIn(auditor.client_id, 'not-the-secret');

    expect(noAudit.response.statusCode).toBe(403);
    expect(noAudit.response.body).toContain('This client does not hold the audit scope');
    expect(wrong.response.statusCode).toBe(401);
    expect(wrong.response.body).toContain('The client ID or the client secret is wrong.');
    for (const { jar, response } of [noAudit, wrong]) {
      expect(response.cookies.find((c) => c.name === 'console_session')).toBeUndefined();
      expect((await get('/console', jar)).headers.location).toBe('/console/sign-in');
    }
  });

  it('signs out: the session cookie is cleared and the console redirects again', async () => {
    const { jar } = await anAuditor();
    const home = await get('/console', jar);

    const response = await postForm('/console/sign-out', { _csrf: csrfTokenIn(home.body) }, jar);
    jar.take(response);

    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/console/sign-in');
    expect((await get('/console', jar)).headers.location).toBe('/console/sign-in');
  });

  it('ends the session of a client that no longer exists, and refuses a forged session cookie', async () => {
    const { jar, clientId } = await anAuditor();
    await api.database.db.query('DELETE FROM clients WHERE client_id = $1', [clientId]);

    expect((await get('/console', jar)).headers.location).toBe('/console/sign-in');

    const forged = await api.http.inject({
      method: 'GET',
      url: '/console',
      headers: { cookie: 'console_session=eyJjIjoieCIsImUiOjk5OTk5OTk5OTl9.AAAA' },
    });
    expect(forged.headers.location).toBe('/console/sign-in');
  });

  it('finds contacts by email, name and id, and shows a contact, its timeline and the feed', async () => {
    const { jar } = await anAuditor();
    const contact = await aCreatedContact(api, token, aGuestPayload({ firstname: 'Ada', lastname: 'Lovelace' }));
    await updateContact(api, token, contact.id, { lastname: 'King' });

    for (const q of [contact.email, 'ada king', contact.id]) {
      const found = await get(`/console?q=${encodeURIComponent(q)}`, jar);
      expect(found.statusCode).toBe(200);
      expect(found.body).toContain(`<a href="/console/contacts/${contact.id}">Ada King</a>`);
    }
    const page = await get(`/console/contacts/${contact.id}`, jar);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Ada King</h1>');
    expect(page.body).toContain('Chain verified');
    expect(page.body).toMatch(/<th scope="row">lastname<\/th><td class="before">Lovelace<\/td><td class="after">King<\/td>/);
    expect(page.body.indexOf('<h3>ContactUpdated</h3>')).toBeLessThan(page.body.indexOf('<h3>ContactCreated</h3>'));

    const feed = await get('/console/feed?type=ContactUpdated', jar);
    expect(feed.statusCode).toBe(200);
    expect(feed.body).toContain(`contact ${contact.id}`);
    expect(feed.body).not.toContain('<span>ContactCreated</span>');
  });

  it('answers junk in every field with a page, never a 500', async () => {
    const { jar } = await anAuditor();
    const contact = await aCreatedContact(api, token, aGuestPayload());

    const answers = await Promise.all([
      get('/console/contacts/not-a-uuid', jar),
      get(`/console/contacts/${contact.id}?asOf=yesterday&page=-3`, jar),
      get(`/console/contacts/${contact.id}?asOf[]=1&page=999999999`, jar),
      get('/console/feed?type=Nope&from=soon&after=x', jar),
      get('/console/feed?after=999999999999', jar),
      get(`/console?q=${'%25_'.repeat(300)}`, jar),
      get('/console?q[a]=1', jar),
    ]);

    expect(answers.map((a) => a.statusCode)).toEqual([404, 400, 200, 400, 400, 200, 200]);
    for (const answer of answers) {
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy']).toBe(CSP);
    }
  });
});
