import { createHash } from 'node:crypto';
import type { ContactView } from '@app/contacts';
import { aCreatedContact, aRole, readContact, uniqueEmail, updateContact, type Body, type Response } from '../support/contact-requests.js';
import { inviteTokenOf } from '../support/invites.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const DAY = 24 * 60 * 60 * 1000;
const GOOD_PASSWORD = 'analytical-engine-1843';
const ATTEMPTS_PER_TOKEN = 10;
const FORM = 'application/x-www-form-urlencoded';

/** A browser's visit to one invite page: the CSRF cookie it was given and the token in its form. */
interface Visit {
  cookie: string;
  csrf: string;
}

type Form = Record<string, string | string[]>;

const encode = (form: Form): string => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) for (const one of [value].flat()) params.append(name, one);
  return params.toString();
};

const csrfFieldOf = (response: Response): string | undefined =>
  /<input type="hidden" name="_csrf" value="([^"]+)">/.exec(response.body)?.[1];

const setCookieOf = (response: Response): string[] => [response.headers['set-cookie'] ?? []].flat();

/** An HTML page as the invite routes answer every request: never JSON, never cached, no referrer, no script. */
const expectInvitePage = (response: Response, status: number): void => {
  expect({ status: response.statusCode, type: response.headers['content-type'] }).toEqual({ status, type: 'text/html; charset=utf-8' });
  expect(response.headers).toMatchObject({
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'content-security-policy': expect.stringMatching(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
    ),
  });
  expect(response.body).toMatch(/^<!doctype html>\n<html lang="en">/);
  expect(response.body).not.toMatch(/<script/i);
};

/** Neither what was typed nor a bcrypt hash of anything is ever sent back. */
const expectNoSecrets = (response: Response, ...passwords: string[]): void => {
  expect(response.body).not.toMatch(/\$2[aby]\$\d\d\$/);
  for (const password of passwords.filter((p) => p.length > 0)) expect(response.body).not.toContain(password);
};

describe('invite page', () => {
  let api: TestApi;
  let bearer: string;
  const start = new Date('2026-01-15T10:00:00Z');

  beforeAll(async () => {
    ({ api, token: bearer } = await createTestApiWithToken({ label: 'invitepage' }));
  });
  afterAll(() => api.close());
  afterEach(() => api.clock.set(start));

  /** A user created with `invite: true`, and the token of the link the invite mail carries. */
  const anInvitedUser = async (contact: Body = {}): Promise<{ contact: ContactView; token: string }> => {
    const created = await aCreatedContact(
      api,
      bearer,
      { type: 'user', firstname: 'Ada', lastname: 'Lovelace', email: uniqueEmail('ada'), ...contact },
      { invite: true },
    );
    return { contact: created, token: await inviteTokenOf(api.database.db, created.id) };
  };

  const open = (token: string, cookie?: string): Promise<Response> =>
    api.http.inject({ method: 'GET', url: `/invites/${token}`, headers: cookie ? { cookie } : {} });

  /** Opens the page like a browser and keeps what a later submit needs. */
  const visit = async (token: string): Promise<Visit> => {
    const page = await open(token);
    expectInvitePage(page, 200);
    const csrf = csrfFieldOf(page);
    const cookie = setCookieOf(page)[0]?.split(';')[0];
    if (!csrf || !cookie) throw new Error(`no CSRF token or cookie on the page: ${page.body}`);
    return { cookie, csrf };
  };

  const submit = (token: string, form: Form | string, visited?: Visit, contentType = FORM): Promise<Response> =>
    api.http.inject({
      method: 'POST',
      url: `/invites/${token}`,
      headers: { 'content-type': contentType, ...(visited ? { cookie: visited.cookie } : {}) },
      payload: typeof form === 'string' ? form : encode({ ...(visited ? { _csrf: visited.csrf } : {}), ...form }),
    });

  const choose = (password: string, confirmation = password): Form => ({ password, confirmation });

  const eventTypesOf = async (contactId: string): Promise<string[]> => {
    const { rows } = await api.database.db.query<{ type: string }>('SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version', [
      contactId,
    ]);
    return rows.map((row) => row.type);
  };

  describe('GET', () => {
    it('shows the invitee and a password form that carries a CSRF token', async () => {
      const { contact, token } = await anInvitedUser();

      const sut = await open(token);

      expectInvitePage(sut, 200);
      expect(sut.body).toContain('<dd>Ada</dd>');
      expect(sut.body).toContain('<dd>Lovelace</dd>');
      expect(sut.body).toContain(`<dd>${contact.email}</dd>`);
      expect(sut.body).toMatch(/<h1>Set your password<\/h1>/);
      expect(sut.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(sut.body).toMatch(/<form method="post">/);
      expect(csrfFieldOf(sut)).toMatch(/^[A-Za-z0-9_-]+-[A-Za-z0-9_-]+/);
      for (const name of ['password', 'confirmation']) {
        expect(sut.body).toMatch(new RegExp(`<label for="${name}">[^<]+</label>`));
        expect(sut.body).toMatch(
          new RegExp(`<input id="${name}" name="${name}" type="password" autocomplete="new-password" minlength="8" required[ >]`),
        );
      }
      expect(sut.body).not.toContain(token);
    });

    it('allows exactly its own stylesheet, by hash, and nothing else', async () => {
      const { token } = await anInvitedUser();

      const sut = await open(token);

      const style = /<style>([\s\S]*?)<\/style>/.exec(sut.body)?.[1] ?? '';
      const hash = createHash('sha256').update(style).digest('base64');
      expect(style.length).toBeGreaterThan(0);
      expect(sut.headers['content-security-policy']).toContain(`style-src 'sha256-${hash}'`);
      expect(sut.body).not.toMatch(/ style="/);
    });

    it('sets the CSRF cookie HttpOnly, SameSite=Strict, on /invites only, and not Secure on an http public URL', async () => {
      const { token } = await anInvitedUser();

      const sut = await open(token);

      const cookies = setCookieOf(sut);
      expect(cookies).toHaveLength(1);
      const attributes = cookies[0]!
        .split(/;\s*/)
        .slice(1)
        .map((a) => a.toLowerCase());
      expect(attributes).toEqual(expect.arrayContaining(['path=/invites', 'httponly', 'samesite=strict']));
      expect(attributes).not.toContain('secure');
    });

    it('shows names and emails as text: markup in them is escaped', async () => {
      const { token } = await anInvitedUser({ firstname: '<b>Ada</b>', lastname: '<script>alert("x")</script>' });

      const sut = await open(token);

      expectInvitePage(sut, 200);
      expect(sut.body).toContain('<dd>&lt;b&gt;Ada&lt;/b&gt;</dd>');
      expect(sut.body).toContain('<dd>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</dd>');
      expect(sut.body).not.toContain('<b>Ada</b>');
    });

    it.each([
      ['an unknown token', 'A'.repeat(43)],
      ['a malformed token', 'not a token!'],
      ['a token too long for the route', 'A'.repeat(500)],
    ])('answers %s with a 404 page and no form', async (_case, token) => {
      const sut = await open(encodeURIComponent(token));

      expect([404, 414]).toContain(sut.statusCode);
      expectInvitePage(sut, sut.statusCode);
      expect(sut.body).not.toContain('<form');
      expect(setCookieOf(sut)).toEqual([]);
    });

    it('answers any other path under /invites with an HTML 404 page', async () => {
      const sut = await api.http.inject({ method: 'GET', url: '/invites/a/b' });

      expectInvitePage(sut, 404);
    });
  });

  describe('POST', () => {
    it('sets the password, accepts the invite and shows a success page', async () => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);

      const sut = await submit(token, choose(GOOD_PASSWORD), visited);

      expectInvitePage(sut, 200);
      expect(sut.body).toMatch(/<h1>Your password is set<\/h1>/);
      expect(sut.body).not.toContain('<form');
      expectNoSecrets(sut, GOOD_PASSWORD);
      const after = await readContact(api, bearer, contact.id);
      expect(after).toMatchObject({ hasPassword: true, invite: { status: 'accepted' } });
      expect(await eventTypesOf(contact.id)).toEqual(expect.arrayContaining(['PasswordSet', 'InviteAccepted']));
      const { rows } = await api.database.db.query<{ metadata: { requestId: string; clientId: string | null } }>(
        `SELECT metadata FROM events WHERE stream_id = $1 AND type = 'InviteAccepted'`,
        [contact.id],
      );
      expect(rows[0]?.metadata).toMatchObject({ clientId: null, requestId: expect.any(String) });
    });

    it('activates a grant that waited for the email to be verified', async () => {
      const reference = await aRole(api, bearer, 'email');
      const { contact, token } = await anInvitedUser({ accessRoles: [reference] });
      expect(contact.accessRoles).toEqual([expect.objectContaining({ reference, status: 'pending' })]);
      const visited = await visit(token);

      const sut = await submit(token, choose(GOOD_PASSWORD), visited);

      expectInvitePage(sut, 200);
      const after = await readContact(api, bearer, contact.id);
      expect(after.accessRoles).toEqual([expect.objectContaining({ reference, status: 'active' })]);
      const { rows } = await api.database.db.query<{ data: unknown }>(
        `SELECT data FROM events WHERE stream_id = $1 AND type = 'RoleActivated'`,
        [contact.id],
      );
      expect(rows.map((row) => row.data)).toEqual([expect.objectContaining({ reference, by: 'email' })]);
    });

    it('answers a used link with 410, on GET and on POST, and changes nothing more', async () => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);
      expectInvitePage(await submit(token, choose(GOOD_PASSWORD), visited), 200);
      const events = await eventTypesOf(contact.id);

      const [page, again] = [await open(token, visited.cookie), await submit(token, choose('another-password-2'), visited)];

      for (const sut of [page, again]) {
        expectInvitePage(sut, 410);
        expect(sut.body).toMatch(/already been used/);
        expect(sut.body).not.toContain('<form');
      }
      expect(await eventTypesOf(contact.id)).toEqual(events);
    });

    it('accepts one of two simultaneous submits; the other is told the link was used', async () => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);

      const both = await Promise.all([
        submit(token, choose(GOOD_PASSWORD), visited),
        submit(token, choose('difference-engine-1822'), visited),
      ]);

      expect(both.map((r) => r.statusCode).sort()).toEqual([200, 410]);
      for (const sut of both) expectInvitePage(sut, sut.statusCode);
      const types = await eventTypesOf(contact.id);
      expect(types.filter((t) => t === 'PasswordSet')).toHaveLength(1);
      expect(types.filter((t) => t === 'InviteAccepted')).toHaveLength(1);
    });

    it('re-renders the form with an error when the confirmation differs, and writes nothing', async () => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);
      const events = await eventTypesOf(contact.id);

      const sut = await submit(token, choose(GOOD_PASSWORD, 'analytical-engine-1842'), visited);

      expectInvitePage(sut, 422);
      expect(sut.body).toMatch(/<p id="confirmation-error" class="error" role="alert">The two passwords do not match\./);
      expect(sut.body).toMatch(/<input id="confirmation" [^>]*aria-describedby="confirmation-error" aria-invalid="true">/);
      expect(sut.body).toContain('<dd>Ada</dd>');
      expect(csrfFieldOf(sut)).toBeDefined();
      expectNoSecrets(sut, GOOD_PASSWORD, 'analytical-engine-1842');
      expect(await eventTypesOf(contact.id)).toEqual(events);
      expect(await readContact(api, bearer, contact.id)).toMatchObject({
        hasPassword: false,
        invite: { status: expect.not.stringMatching(/^accepted$/) },
      });
    });

    it.each([
      ['without a number', 'analytical-engine', /Your password must contain both letters and numbers\./],
      ['too short', 'é1x!', /Your password must be at least 8 characters\./],
      ['too long', `${'a'.repeat(72)}1`, /Your password must be at most 72 bytes/],
    ])('re-renders the form with the policy message for a password %s (422), and writes nothing', async (_case, password, message) => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);
      const events = await eventTypesOf(contact.id);

      const sut = await submit(token, choose(password), visited);

      expectInvitePage(sut, 422);
      expect(sut.body).toMatch(/<p id="password-error" class="error" role="alert">/);
      expect(sut.body).toMatch(message);
      expect(sut.body).toMatch(/<input id="password" [^>]*aria-describedby="password-hint password-error" aria-invalid="true">/);
      expectNoSecrets(sut, password);
      expect(await eventTypesOf(contact.id)).toEqual(events);
      // The page still works: the form it re-rendered is accepted.
      expectInvitePage(await submit(token, choose(GOOD_PASSWORD), { ...visited, csrf: csrfFieldOf(sut) ?? '' }), 200);
    });
  });

  describe('CSRF', () => {
    const refusedAndUnchanged = async (contactId: string, sut: Response, events: string[]): Promise<void> => {
      expectInvitePage(sut, 403);
      expect(sut.body).not.toContain('<form');
      expect(await eventTypesOf(contactId)).toEqual(events);
      expect(await readContact(api, bearer, contactId)).toMatchObject({ hasPassword: false });
    };

    it('refuses a form without the token or the cookie (403) and writes nothing', async () => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);
      const events = await eventTypesOf(contact.id);

      await refusedAndUnchanged(contact.id, await submit(token, choose(GOOD_PASSWORD)), events);
      await refusedAndUnchanged(contact.id, await submit(token, { _csrf: visited.csrf, ...choose(GOOD_PASSWORD) }), events);
      await refusedAndUnchanged(contact.id, await submit(token, choose(GOOD_PASSWORD), { ...visited, csrf: '' }), events);
    });

    it('refuses a wrong token, a forged cookie, and the token and cookie of another invite (403)', async () => {
      const { contact, token } = await anInvitedUser();
      const other = await anInvitedUser();
      const visited = await visit(token);
      const elsewhere = await visit(other.token);
      const events = await eventTypesOf(contact.id);
      const [name, value] = visited.cookie.split('=') as [string, string];

      await refusedAndUnchanged(contact.id, await submit(token, choose(GOOD_PASSWORD), { ...visited, csrf: `${visited.csrf}x` }), events);
      await refusedAndUnchanged(
        contact.id,
        await submit(token, choose(GOOD_PASSWORD), { ...visited, cookie: `${name}=${value.split('.')[0]}` }),
        events,
      );
      await refusedAndUnchanged(contact.id, await submit(token, choose(GOOD_PASSWORD), elsewhere), events);
      await refusedAndUnchanged(
        contact.id,
        await submit(token, choose(GOOD_PASSWORD), { cookie: elsewhere.cookie, csrf: visited.csrf }),
        events,
      );
    });
  });

  describe('links that no longer lead to the form', () => {
    it('answers a superseded link with 404 once a new invite is sent; the new link works', async () => {
      const { contact, token: old } = await anInvitedUser();
      const visited = await visit(old);
      const reinvited = await updateContact(api, bearer, contact.id, {}, { invite: true });
      expect(reinvited.statusCode).toBe(200);
      const current = await inviteTokenOf(api.database.db, contact.id);
      expect(current).not.toBe(old);

      const [page, posted] = [await open(old), await submit(old, choose(GOOD_PASSWORD), visited)];

      for (const sut of [page, posted]) {
        expectInvitePage(sut, 404);
        expect(sut.body).not.toContain('<form');
      }
      expect(await readContact(api, bearer, contact.id)).toMatchObject({ hasPassword: false });
      expectInvitePage(await submit(current, choose(GOOD_PASSWORD), await visit(current)), 200);
    });

    it('answers an expired link with 410 on GET and POST, and writes nothing', async () => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);
      const events = await eventTypesOf(contact.id);
      api.clock.advance(8 * DAY);

      const [page, posted] = [await open(token), await submit(token, choose(GOOD_PASSWORD), visited)];

      for (const sut of [page, posted]) {
        expectInvitePage(sut, 410);
        expect(sut.body).toMatch(/has expired/);
        expect(sut.body).not.toContain('<form');
      }
      expect(await eventTypesOf(contact.id)).toEqual(events);
    });

    it('still shows the form a moment before the link expires', async () => {
      const { token } = await anInvitedUser();
      api.clock.advance(7 * DAY - 1000);

      expectInvitePage(await open(token), 200);
    });
  });

  describe('rate limit', () => {
    it(`refuses the ${ATTEMPTS_PER_TOKEN + 1}th attempt on one invite within 15 minutes with a 429 page and Retry-After; other invites are unaffected`, async () => {
      const { contact, token } = await anInvitedUser();
      const other = await anInvitedUser();
      const visited = await visit(token);
      const attempts: number[] = [];
      for (let i = 0; i < ATTEMPTS_PER_TOKEN; i += 1)
        attempts.push((await submit(token, choose(GOOD_PASSWORD, 'nope'), visited)).statusCode);

      const sut = await submit(token, choose(GOOD_PASSWORD), visited);

      expect(attempts).toEqual(Array<number>(ATTEMPTS_PER_TOKEN).fill(422));
      expectInvitePage(sut, 429);
      expect(sut.body).toMatch(/Too many attempts/);
      expect(Number(sut.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(sut.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
      expect(await readContact(api, bearer, contact.id)).toMatchObject({ hasPassword: false });
      expectInvitePage(await submit(other.token, choose(GOOD_PASSWORD), await visit(other.token)), 200);
    });
  });

  describe('hostile input', () => {
    const KB100 = 'a1'.repeat(50 * 1024);

    it.each<[string, (visited: Visit) => Form | string, string]>([
      [
        'the password twice (an array)',
        (v) => `_csrf=${encodeURIComponent(v.csrf)}&password=${GOOD_PASSWORD}&password=${GOOD_PASSWORD}&confirmation=${GOOD_PASSWORD}`,
        FORM,
      ],
      [
        'the confirmation twice',
        (v) => `_csrf=${encodeURIComponent(v.csrf)}&password=${GOOD_PASSWORD}&confirmation=${GOOD_PASSWORD}&confirmation=x`,
        FORM,
      ],
      ['no password', () => ({ confirmation: GOOD_PASSWORD }), FORM],
      ['no confirmation', () => ({ password: GOOD_PASSWORD }), FORM],
      ['no fields but the token', () => ({}), FORM],
      ['an empty body', () => '', FORM],
      ['a 100 KB password', () => choose(KB100), FORM],
      [
        'a NUL byte in the password',
        (v) => `_csrf=${encodeURIComponent(v.csrf)}&password=analytical%00engine1&confirmation=analytical%00engine1`,
        FORM,
      ],
      [
        'a __proto__ field',
        (v) => `_csrf=${encodeURIComponent(v.csrf)}&__proto__=x&password=${GOOD_PASSWORD}&confirmation=${GOOD_PASSWORD}`,
        FORM,
      ],
      [
        'the CSRF token twice',
        (v) =>
          `_csrf=${encodeURIComponent(v.csrf)}&_csrf=${encodeURIComponent(v.csrf)}&password=${GOOD_PASSWORD}&confirmation=${GOOD_PASSWORD}`,
        FORM,
      ],
      ['a body over 1 MiB', (v) => `_csrf=${encodeURIComponent(v.csrf)}&password=${'a'.repeat(1024 * 1024)}&confirmation=x`, FORM],
      ['a JSON body', (v) => JSON.stringify({ _csrf: v.csrf, ...choose(GOOD_PASSWORD) }), 'application/json'],
      ['a text/plain body', (v) => encode({ _csrf: v.csrf, ...choose(GOOD_PASSWORD) }), 'text/plain'],
      ['a multipart content type', (v) => encode({ _csrf: v.csrf, ...choose(GOOD_PASSWORD) }), 'multipart/form-data; boundary=x'],
    ])('refuses %s with a 4xx page and writes nothing', async (_case, form, contentType) => {
      const { contact, token } = await anInvitedUser();
      const visited = await visit(token);
      const events = await eventTypesOf(contact.id);

      const sut = await submit(token, form(visited), visited, contentType);

      expect(sut.statusCode).toBeGreaterThanOrEqual(400);
      expect(sut.statusCode).toBeLessThan(500);
      expectInvitePage(sut, sut.statusCode);
      expectNoSecrets(sut, GOOD_PASSWORD);
      expect(await eventTypesOf(contact.id)).toEqual(events);
      expect(await readContact(api, bearer, contact.id)).toMatchObject({ hasPassword: false });
    });
  });
});

describe('invite page with the per-client rate limit off and an https public URL', () => {
  let api: TestApi;
  let bearer: string;

  beforeAll(async () => {
    ({ api, token: bearer } = await createTestApiWithToken({
      label: 'invitepagehttps',
      env: { RATE_LIMIT_PER_MINUTE: '0', PUBLIC_URL: 'https://contacts.example.com' },
    }));
  });
  afterAll(() => api.close());

  it('sets the CSRF cookie Secure, and still limits attempts per invite', async () => {
    const created = await aCreatedContact(
      api,
      bearer,
      { type: 'user', firstname: 'Ada', lastname: 'Lovelace', email: uniqueEmail('ada') },
      { invite: true },
    );
    const token = await inviteTokenOf(api.database.db, created.id);
    const page = await api.http.inject({ method: 'GET', url: `/invites/${token}` });
    const cookie = setCookieOf(page)[0] ?? '';
    expect(cookie.split(/;\s*/).map((a) => a.toLowerCase())).toContain('secure');
    const payload = encode({ _csrf: csrfFieldOf(page) ?? '', password: GOOD_PASSWORD, confirmation: 'nope' });
    const attempt = () =>
      api.http.inject({
        method: 'POST',
        url: `/invites/${token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie.split(';')[0] ?? '' },
        payload,
      });
    const statuses: number[] = [];

    for (let i = 0; i <= ATTEMPTS_PER_TOKEN; i += 1) statuses.push((await attempt()).statusCode);

    expect(statuses).toEqual([...Array<number>(ATTEMPTS_PER_TOKEN).fill(422), 429]);
  });
});
