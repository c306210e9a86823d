import type { LightMyRequestResponse } from 'fastify';
import { aCreatedContact, aGuestPayload, aUserPayload, updateContact } from '../support/contact-requests.js';
import { until } from '../support/polling.js';
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

/** The client an access token was issued to (its `sub`). */
const clientIdOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub: string }).sub;

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

  /**
   * The feed page once it lists `text`: the feed hands out an event only when every transaction
   * older than its own has ended, on the whole server (other test files' included).
   */
  async function feedShowing(url: string, text: string, jar: CookieJar): Promise<Response> {
    let response = await get(url, jar);
    await until(async () => {
      response = await get(url, jar);
      return response.body.includes(text);
    }, 15_000);
    return response;
  }

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

    const home = await get('/console', jar);
    for (const q of [contact.email, 'ada king', contact.id]) {
      const found = await postForm('/console', { _csrf: csrfTokenIn(home.body), q }, jar);
      expect(found.statusCode).toBe(200);
      expect(found.body).toContain(`<a href="/console/contacts/${contact.id}">Ada King</a>`);
    }
    const page = await get(`/console/contacts/${contact.id}`, jar);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Ada King</h1>');
    expect(page.body).toContain('Chain verified');
    expect(page.body).toMatch(/<th scope="row">lastname<\/th><td class="before">Lovelace<\/td><td class="after">King<\/td>/);
    expect(page.body.indexOf('<h3>ContactUpdated</h3>')).toBeLessThan(page.body.indexOf('<h3>ContactCreated</h3>'));

    const feed = await feedShowing('/console/feed?type=ContactUpdated', contact.id, jar);
    expect(feed.statusCode).toBe(200);
    expect(feed.body).toContain(`contact ${contact.id}`);
    expect(feed.body).not.toContain('<span>ContactCreated</span>');
  });

  it('answers junk in every field with a page, never a 500', async () => {
    const { jar } = await anAuditor();
    const contact = await aCreatedContact(api, token, aGuestPayload());

    const csrf = csrfTokenIn((await get('/console', jar)).body);
    const answers = await Promise.all([
      get('/console/contacts/not-a-uuid', jar),
      get(`/console/contacts/${contact.id}?asOf=yesterday&page=-3`, jar),
      get(`/console/contacts/${contact.id}?asOf[]=1&page=999999999`, jar),
      get('/console/feed?type=Nope&from=soon&after=x', jar),
      get('/console/feed?after=999999999999', jar),
      postForm('/console', { _csrf: csrf, q: '%_'.repeat(300) }, jar),
      api.http.inject({
        method: 'POST',
        url: '/console',
        headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `_csrf=${encodeURIComponent(csrf)}&q=a&q=b&q[x]=1`,
      }),
    ]);

    expect(answers.map((a) => a.statusCode)).toEqual([404, 400, 200, 400, 400, 200, 200]);
    for (const answer of answers) {
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy']).toBe(CSP);
    }
  });
  it('searches by a posted term only, with its CSRF token', async () => {
    const { jar } = await anAuditor();
    const contact = await aCreatedContact(api, token, aGuestPayload({ firstname: 'Mary', lastname: 'Somerville' }));

    const bare = await postForm('/console', { q: contact.email }, jar);
    const byQuery = await get(`/console?q=${encodeURIComponent(contact.email)}`, jar);

    expect(bare.statusCode).toBe(403);
    expect(bare.body).not.toContain(contact.id);
    expect(byQuery.statusCode).toBe(200);
    expect(byQuery.body).not.toContain(contact.id);
  });

  it('shows a signed-in auditor an HTML page for an unknown console address', async () => {
    const { jar } = await anAuditor();

    const response = await get('/console/nowhere', jar);

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('<h1>Page not found</h1>');
    expect(response.headers['content-security-policy']).toBe(CSP);
  });

  it('pages a long timeline, newest first, fifty events a page', async () => {
    const { jar } = await anAuditor();
    const contact = await aCreatedContact(api, token, aGuestPayload({ firstname: 'Long', lastname: 'History' }));
    for (let n = 1; n <= 60; n++) await updateContact(api, token, contact.id, { lastname: `History ${n}` });

    const first = await get(`/console/contacts/${contact.id}`, jar);
    const second = await get(`/console/contacts/${contact.id}?page=2`, jar);

    const versionsOf = (html: string): number[] => [...html.matchAll(/Version (\d+) ·/g)].map((m) => Number(m[1]));
    expect(first.body).toContain('61 events, newest first.');
    expect(versionsOf(first.body)).toEqual(Array.from({ length: 50 }, (_, i) => 61 - i));
    expect(first.body).toContain(`<a href="/console/contacts/${contact.id}?page=2" rel="next">Older events</a>`);
    expect(first.body).toContain('Page 1 of 2');
    expect(versionsOf(second.body)).toEqual(Array.from({ length: 11 }, (_, i) => 11 - i));
    expect(second.body).toContain(`<a href="/console/contacts/${contact.id}?page=1" rel="prev">Newer events</a>`);
    expect(first.body).toMatch(/<th scope="row">lastname<\/th><td class="before">History 59<\/td><td class="after">History 60<\/td>/);
  });

  it('never shows a password or invite token hash: the timeline and the feed show them redacted', async () => {
    const { jar } = await anAuditor();
    const user = await aCreatedContact(api, token, aUserPayload({ password: 'secret123' }));
    const { rows } = await api.database.db.query<{ data: { passwordHash: string } }>(
      `SELECT data FROM events WHERE stream_id = $1 AND type = 'PasswordSet'`,
      [user.id],
    );
    const hash = rows[0]?.data.passwordHash ?? '';
    expect(hash).toMatch(/^\$2[aby]\$/);

    const page = await get(`/console/contacts/${user.id}`, jar);
    const feed = await feedShowing('/console/feed?type=PasswordSet', user.id, jar);

    for (const response of [page, feed]) {
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('&quot;passwordHash&quot;: &quot;[redacted]&quot;');
      expect(response.body).not.toContain(hash);
      expect(response.body).not.toContain(hash.slice(7, 29));
    }
    expect(page.body).toMatch(/<th scope="row">hasPassword<\/th><td class="before">false<\/td><td class="after">true<\/td>/);
  });

  it('filters the feed by type, client and time, a page at a time', async () => {
    const otherToken = await api.token(['contacts']);
    const other = clientIdOf(otherToken);
    const start = api.clock.now();
    api.clock.advance(24 * 60 * 60 * 1000);
    const day = api.clock.now();
    const mine = [];
    for (let n = 0; n < 3; n++) mine.push(await aCreatedContact(api, otherToken, aGuestPayload()));
    api.clock.advance(60 * 60 * 1000);
    const later = await aCreatedContact(api, otherToken, aGuestPayload());
    const theirs = await aCreatedContact(api, token, aGuestPayload());
    const local = (date: Date): string => date.toISOString().slice(0, 19);
    const { jar } = await anAuditor();

    const byClient = await feedShowing(`/console/feed?client=${other}`, later.id, jar);
    const inTheDay = await get(`/console/feed?client=${other}&from=${local(day)}&to=${local(new Date(day.getTime() + 60_000))}`, jar);
    const byType = await get(`/console/feed?type=ContactCreated&client=${other}&from=${local(start)}`, jar);

    const streamsOf = (html: string): string[] => [...html.matchAll(/>contact ([0-9a-f-]{36})</g)].map((m) => m[1] ?? '');
    expect(streamsOf(byClient.body)).toEqual([...mine, later].map((c) => c.id));
    expect(streamsOf(byClient.body)).not.toContain(theirs.id);
    expect(streamsOf(inTheDay.body)).toEqual(mine.map((c) => c.id));
    expect(streamsOf(byType.body)).toEqual([...mine, later].map((c) => c.id));

    const firstPage = await get('/console/feed', jar);
    const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(firstPage.body)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toMatch(/^\/console\/feed\?.*after=\d+/);
    const secondPage = await get(next ?? '', jar);
    expect(secondPage.statusCode).toBe(200);
    const positionsOf = (html: string): number[] => [...html.matchAll(/Position (\d+) ·/g)].map((m) => Number(m[1]));
    expect(positionsOf(firstPage.body)).toHaveLength(50);
    const lastOfFirst = positionsOf(firstPage.body).at(-1) ?? 0;
    expect(positionsOf(secondPage.body)[0]).toBeGreaterThan(lastOfFirst);
  });
  it('ends a session after eight hours', async () => {
    const { jar } = await anAuditor();

    api.clock.advance(8 * 60 * 60 * 1000 - 1000);
    const before = await get('/console', jar);
    api.clock.advance(2000);
    const after = await get('/console', jar);

    expect(before.statusCode).toBe(200);
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/console/sign-in');
  });
  it('limits sign-in attempts from one address, with the console’s own page', async () => {
    const jar = new CookieJar().take(await get('/console/sign-in'));
    const attempt = (): Promise<Response> =>
      api.http.inject({
        method: 'POST',
        url: '/console/sign-in',
        remoteAddress: '203.0.113.9',
        headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'clientId=nobody&clientSecret=guess',
      });

    const answers = [];
    for (let n = 0; n < 31; n++) answers.push(await attempt());

    expect(answers.slice(0, 30).every((a) => a.statusCode === 403)).toBe(true);
    const limited = answers[30];
    expect(limited?.statusCode).toBe(429);
    expect(limited?.headers['retry-after']).toBeDefined();
    expect(limited?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(limited?.body).toContain('<h1>Too many requests</h1>');
  });
});
