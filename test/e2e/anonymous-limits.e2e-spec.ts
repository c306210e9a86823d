import { loadConfig } from '@app/config';
import { aCreatedContact, aUserPayload, createContact, get, problemOf, type Response } from '../support/contact-requests.js';
import { inviteTokenOf } from '../support/invites.js';
import { DASHBOARD_FAILURES } from '../../apps/api/src/admin/queue-dashboard.js';
import { createTestApi, createTestApiWithToken, type TestApi } from '../support/test-api.js';

const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

const retryAfterOf = (response: Response): number => Number(response.headers['retry-after']);

describe('the invite page, limited per client address', () => {
  const PER_MINUTE = 5;
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    // RATE_LIMIT_PER_MINUTE=0 turns off the per-client API limit only: the invite page keeps its own.
    ({ api, token } = await createTestApiWithToken({
      label: 'invite-limit',
      env: { RATE_LIMIT_PER_MINUTE: '0', INVITE_RATE_LIMIT_PER_MINUTE: String(PER_MINUTE) },
    }));
  });
  afterAll(() => api.close());

  const openPage = (invite: string, remoteAddress: string): Promise<Response> =>
    api.http.inject({ method: 'GET', url: `/invites/${invite}`, remoteAddress });

  it('answers 429 with Retry-After once an address has opened INVITE_RATE_LIMIT_PER_MINUTE pages, GET and POST together', async () => {
    const contact = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });
    const invite = await inviteTokenOf(api.database.db, contact.id);
    const address = '203.0.113.7';

    const answers: number[] = [];
    for (let i = 0; i < PER_MINUTE - 1; i++) answers.push((await openPage(invite, address)).statusCode);
    const post = await api.http.inject({
      method: 'POST',
      url: `/invites/${invite}`,
      remoteAddress: address,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'password=x&confirmation=x',
    });
    const sut = await openPage(invite, address);

    expect(answers).toEqual(Array(PER_MINUTE - 1).fill(200));
    expect(post.statusCode).not.toBe(429);
    expect(sut.statusCode).toBe(429);
    expect(retryAfterOf(sut)).toBeGreaterThanOrEqual(1);
    expect(retryAfterOf(sut)).toBeLessThanOrEqual(60);
    expect(sut.headers['content-type']).toMatch(/^text\/html/);
    // Another address is not held back by this one.
    expect((await openPage(invite, '203.0.113.8')).statusCode).toBe(200);
  });

  it('counts unknown tokens too: guessing links is as limited as opening them', async () => {
    const address = '203.0.113.9';
    const answers: number[] = [];
    for (let i = 0; i <= PER_MINUTE; i++) answers.push((await openPage(`guess${i}`.padEnd(43, 'x'), address)).statusCode);

    expect(answers).toEqual([...Array(PER_MINUTE).fill(404), 429]);
  });

  it('refuses an INVITE_RATE_LIMIT_PER_MINUTE that is not a whole number of at least 1', () => {
    for (const value of ['0', '-1', 'lots'])
      expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x', INVITE_RATE_LIMIT_PER_MINUTE: value })).toThrow(
        /^INVITE_RATE_LIMIT_PER_MINUTE /,
      );
  });
});

describe('the queue dashboard, wrong credentials limited per client address', () => {
  const password = 'a-dashboard-password';
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'dashboard-limit', env: { ADMIN_PASSWORD: password, RATE_LIMIT_PER_MINUTE: '0' } });
  });
  afterAll(() => api.close());

  const dashboard = (headers: Record<string, string>, remoteAddress: string): Promise<Response> =>
    api.http.inject({ method: 'GET', url: '/admin/queues/api/queues', headers, remoteAddress });

  it('answers 429 with Retry-After after DASHBOARD_FAILURES.max wrong passwords from an address, even to the right one, and others still get in', async () => {
    const guesser = '198.51.100.4';
    const wrong: number[] = [];
    for (let i = 0; i < DASHBOARD_FAILURES.max; i++) wrong.push((await dashboard(basic('admin', `guess-number-${i}`), guesser)).statusCode);

    const sut = await dashboard(basic('admin', 'one-guess-too-many'), guesser);
    const rightPasswordFromGuesser = await dashboard(basic('admin', password), guesser);
    const operator = await dashboard(basic('admin', password), '198.51.100.5');

    expect(wrong).toEqual(Array(DASHBOARD_FAILURES.max).fill(401));
    expect(sut.statusCode).toBe(429);
    expect(problemOf(sut)).toMatchObject({ status: 429, type: expect.stringContaining('rate_limited') });
    expect(retryAfterOf(sut)).toBeGreaterThanOrEqual(1);
    expect(rightPasswordFromGuesser.statusCode).toBe(429);
    expect(operator.statusCode).toBe(200);
  });

  it('counts junk Authorization headers as failures too', async () => {
    const junk = ['Basic !!!', 'Bearer abc', 'Basic', `Basic ${'A'.repeat(5000)}`, 'Digest x'];
    const answers: number[] = [];
    for (let i = 0; i <= DASHBOARD_FAILURES.max; i++)
      answers.push((await dashboard({ authorization: junk[i % junk.length]! }, '198.51.100.6')).statusCode);

    expect(answers).toEqual([...Array(DASHBOARD_FAILURES.max).fill(401), 429]);
  });

  it.each(['placeholder-change-me', 'changeme-changeme', 'please-change-me', 'password1234', 'PASSWORDPASSWORD', 'my-placeholder-secret'])(
    'refuses the placeholder ADMIN_PASSWORD %j at start with one line naming the variable',
    (placeholder) => {
      expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x', ADMIN_PASSWORD: placeholder })).toThrow(/^ADMIN_PASSWORD /);
    },
  );
});

describe('password hashing, bounded', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    // A cost where a hash takes milliseconds, so a burst outruns what two cores hash in two seconds.
    ({ api, token } = await createTestApiWithToken({ label: 'busy', env: { BCRYPT_COST: '10' } }));
  });
  afterAll(() => api.close());

  it('answers a flood of password creates 201 or 503 busy with Retry-After, never 500, while reads keep answering', async () => {
    const known = await aCreatedContact(api, token, aUserPayload());
    const burst = Array.from({ length: 300 }, () => createContact(api, token, aUserPayload()));
    const reads = Array.from({ length: 20 }, () => get(api, token, `/api/contacts/${known.id}.json`));

    const [creates, gets] = await Promise.all([Promise.all(burst), Promise.all(reads)]);

    const statuses = creates.map((r) => r.statusCode);
    expect(new Set(statuses)).toEqual(new Set([201, 503]));
    const busy = creates.find((r) => r.statusCode === 503)!;
    expect(problemOf(busy)).toMatchObject({ status: 503, type: expect.stringContaining('busy') });
    expect(retryAfterOf(busy)).toBeGreaterThanOrEqual(1);
    expect(gets.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    // A refused create wrote nothing: the list holds the known contact and the 201s only.
    const listed = await get(api, token, '/api/contacts.json?limit=1&type=user');
    expect(listed.json<{ pagination: { total: number } }>().pagination.total).toBe(1 + statuses.filter((s) => s === 201).length);
  });
});
