import { get, post, problemOf, type Response } from '../support/contact-requests.js';
import { createTestApi, createTestApiWithToken, type TestApi } from '../support/test-api.js';

/** Headers @fastify/helmet sets with its defaults. */
const expectSecurityHeaders = (response: Response): void => {
  expect(response.headers).toMatchObject({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'SAMEORIGIN',
    'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'content-security-policy': expect.stringContaining("default-src 'self'"),
  });
  expect(response.headers['x-powered-by']).toBeUndefined();
};

describe('security headers', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'security' }));
  });
  afterAll(() => api.close());

  it.each<[string, () => Promise<Response>, number]>([
    ['a read', () => get(api, token, '/api/roles.json'), 200],
    [
      'a write',
      () => post(api, token, '/api/roles.json', { role: { reference: `sec-${Date.now()}`, title: 'Sec', approvalMethod: 'none' } }),
      201,
    ],
    ['a refusal', () => get(api, null, '/api/contacts.json'), 401],
    ['an unknown route', () => get(api, token, '/api/nothing.json'), 404],
    ['the token endpoint', () => post(api, null, '/oauth/token', { grant_type: 'password' }), 400],
    ['the health check', () => get(api, null, '/health'), 200],
  ])('are on %s', async (_case, request, status) => {
    const sut = await request();

    expect(sut.statusCode).toBe(status);
    expectSecurityHeaders(sut);
  });
});

describe('rate limit', () => {
  const LIMIT = 5;
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'ratelimit', env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
  });
  afterAll(async () => {
    await api.close();
  });

  const expectRateLimited = (response: Response): void => {
    expect(response.statusCode).toBe(429);
    const problem = problemOf(response);
    expect(problem).toMatchObject({ type: '/problems/rate_limited', title: 'Too Many Requests', status: 429 });
    expect(problem.detail).toMatch(/5 requests a minute/);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(response.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
  };

  it('refuses a client its 6th request within a minute with a 429 problem and Retry-After; another client is unaffected', async () => {
    // Each token costs one request to /oauth/token, counted against the caller's IP, not the client.
    const [mine, theirs] = [await api.token(['roles']), await api.token(['roles'])];
    const allowed: Response[] = [];
    for (let i = 0; i < LIMIT; i += 1) allowed.push(await get(api, mine, '/api/roles.json'));

    const sut = await post(api, mine, '/api/roles.json', { role: { reference: 'over-the-limit', title: 'Over', approvalMethod: 'none' } });

    expect(allowed.map((r) => r.statusCode)).toEqual(Array<number>(LIMIT).fill(200));
    expect(allowed.map((r) => r.headers['x-ratelimit-limit'])).toEqual(Array<string>(LIMIT).fill('5'));
    expect(allowed.map((r) => r.headers['x-ratelimit-remaining'])).toEqual(['4', '3', '2', '1', '0']);
    expectRateLimited(sut);
    expectRateLimited(await get(api, mine, '/api/roles.json'));
    // The refused write wrote nothing.
    const { rowCount } = await api.database.db.query(`SELECT 1 FROM roles WHERE reference = 'over-the-limit'`);
    expect(rowCount).toBe(0);
    const other = await get(api, theirs, '/api/roles.json');
    expect(other.statusCode).toBe(200);
  });

  it('counts requests without a valid token, and the token endpoint, against the caller IP; /health is free', async () => {
    // A fresh API: the previous test's token requests counted against this IP too.
    const fresh = await createTestApi({ label: 'ratelimitip', env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    try {
      const client = await fresh.client(['roles']);
      const grant = { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret };
      const health = await Promise.all(Array.from({ length: LIMIT * 2 }, () => get(fresh, null, '/health')));
      const tokens = [];
      for (let i = 0; i < LIMIT - 1; i += 1) tokens.push(await post(fresh, null, '/oauth/token', grant));
      const forged = await get(fresh, 'not-a-token', '/api/roles.json');

      const sut = [await post(fresh, null, '/oauth/token', grant), await get(fresh, null, '/api/roles.json')];

      expect(health.map((r) => r.statusCode)).toEqual(Array<number>(LIMIT * 2).fill(200));
      expect(tokens.map((r) => r.statusCode)).toEqual(Array<number>(LIMIT - 1).fill(200));
      expect(forged.statusCode).toBe(401);
      for (const response of sut) expectRateLimited(response);
      // A client with a valid token is counted on its own.
      const token = tokens[0]?.json<{ access_token: string }>().access_token ?? '';
      expect((await get(fresh, token, '/api/roles.json')).statusCode).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('counts requests through a proxy named in TRUST_PROXY by the client it forwards, and ignores X-Forwarded-For from anyone else', async () => {
    const behindProxy = await createTestApi({
      label: 'ratelimitproxy',
      env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: '127.0.0.1' },
    });
    const direct = await createTestApi({ label: 'ratelimitdirect', env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    try {
      const from = (client: string): Record<string, string> => ({ 'x-forwarded-for': client });
      const first = [];
      for (let i = 0; i < LIMIT; i += 1) first.push(await get(behindProxy, null, '/api/roles.json', from('203.0.113.7')));

      const sut = [
        await get(behindProxy, null, '/api/roles.json', from('203.0.113.7')),
        await get(behindProxy, null, '/api/roles.json', from('198.51.100.9')),
      ];

      expect(first.map((r) => r.statusCode)).toEqual(Array<number>(LIMIT).fill(401));
      expectRateLimited(sut[0] as Response);
      expect(sut[1]?.statusCode).toBe(401);
      // Without TRUST_PROXY, a forged X-Forwarded-For does not give a caller a fresh allowance.
      for (let i = 0; i < LIMIT; i += 1) await get(direct, null, '/api/roles.json', from(`192.0.2.${i}`));
      expectRateLimited(await get(direct, null, '/api/roles.json', from('192.0.2.200')));
    } finally {
      await behindProxy.close();
      await direct.close();
    }
  });

  it('is off with RATE_LIMIT_PER_MINUTE=0', async () => {
    const unlimited = await createTestApi({ label: 'ratelimitoff', env: { RATE_LIMIT_PER_MINUTE: '0' } });
    try {
      const token = await unlimited.token(['roles']);

      const sut = await Promise.all(Array.from({ length: 50 }, () => get(unlimited, token, '/api/roles.json')));

      expect(sut.map((r) => r.statusCode)).toEqual(Array<number>(50).fill(200));
      expect(sut[0]?.headers['x-ratelimit-limit']).toBeUndefined();
    } finally {
      await unlimited.close();
    }
  });
});
