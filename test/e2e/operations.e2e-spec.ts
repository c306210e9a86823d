import { loadConfig } from '@app/config';
import { openQueue, queueBackendOf } from '@app/queues';
import { aGuestPayload, createContact, contactOf, get, problemOf, type Response } from '../support/contact-requests.js';
import { createTestApi, createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { passDispatcherOverTheLog } from '../support/test-database.js';

/** A port nothing listens on: a dependency that is down. */
const CLOSED_PORT = 1;

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  requestBody?: { content: Record<string, { schema?: { $ref?: string } }> };
}

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, { properties?: Record<string, { type?: string; enum?: string[] }>; required?: string[] }>;
    securitySchemes: Record<string, { type: string; flows?: { clientCredentials?: { tokenUrl: string; scopes: Record<string, string> } } }>;
  };
}

const basic = (user: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** The value of one sample of the Prometheus text, or undefined when the series is absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('OpenAPI at /api/docs', () => {
  let api: TestApi;
  let document: OpenApiDocument;
  let response: Response;

  beforeAll(async () => {
    api = await createTestApi({ label: 'openapi' });
    response = await api.http.inject({ method: 'GET', url: '/api/docs-json' });
    document = response.json<OpenApiDocument>();
  });
  afterAll(() => api.close());

  it('serves the document as JSON without a token', () => {
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(document.openapi).toMatch(/^3\./);
  });

  it('lists every route of DESIGN §6 with its methods', () => {
    const routes = Object.fromEntries(Object.entries(document.paths).map(([path, operations]) => [path, Object.keys(operations).sort()]));

    expect(routes).toMatchObject({
      '/api/contacts.json': ['get', 'post'],
      '/api/contacts/{id}.json': ['delete', 'get', 'post'],
      '/api/contacts/{id}/invite.json': ['post'],
      '/api/contacts/authenticate.json': ['post'],
      '/api/contacts/{id}/access-roles/{reference}/approve.json': ['post'],
      '/api/contacts/{id}/access-roles/{reference}/reject.json': ['post'],
      '/api/contacts/{id}/events.json': ['get'],
      '/api/contacts/{id}/export.json': ['get'],
      '/api/contacts/{id}/erase.json': ['post'],
      '/api/events.json': ['get'],
      '/api/roles.json': ['get', 'post'],
      '/oauth/token': ['post'],
      '/invites/{token}': ['get', 'post'],
      '/health': ['get'],
      '/health/live': ['get'],
      '/metrics': ['get'],
      '/admin/queues': ['get'],
    });
  });

  it('names the OAuth2 scope of every /api operation, with the token endpoint as the client credentials flow', () => {
    const scopes = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, operation]) => [
          `${method.toUpperCase()} ${path}`,
          operation.security?.find((s) => 'oauth2' in s)?.oauth2,
        ]),
      );

    expect(Object.fromEntries(scopes)).toEqual({
      'POST /api/contacts.json': ['contacts'],
      'GET /api/contacts.json': ['contacts.readonly'],
      'GET /api/contacts/{id}.json': ['contacts.readonly'],
      'POST /api/contacts/{id}.json': ['contacts'],
      'DELETE /api/contacts/{id}.json': ['contacts'],
      'POST /api/contacts/{id}/invite.json': ['contacts'],
      'POST /api/contacts/{id}/access-roles/{reference}/approve.json': ['roles'],
      'POST /api/contacts/{id}/access-roles/{reference}/reject.json': ['roles'],
      'GET /api/contacts/{id}/events.json': ['audit'],
      'GET /api/contacts/{id}/export.json': ['privacy'],
      'POST /api/contacts/{id}/erase.json': ['privacy'],
      'GET /api/events.json': ['audit'],
      'GET /api/roles.json': ['roles.readonly'],
      'POST /api/roles.json': ['roles'],
      'POST /api/contacts/authenticate.json': ['signin'],
    });
    expect(document.components.securitySchemes.oauth2?.flows?.clientCredentials).toEqual({
      tokenUrl: '/oauth/token',
      scopes: expect.objectContaining({ contacts: expect.any(String), 'contacts.readonly': expect.any(String), audit: expect.any(String) }),
    });
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes refusals as RFC 9457 problem documents', () => {
    const update = document.paths['/api/contacts/{id}.json']?.post;
    const create = document.paths['/api/contacts.json']?.post;
    const problemRef = { schema: { $ref: '#/components/schemas/ProblemSchema' } };

    for (const status of ['400', '401', '403', '404', '409', '412', '413', '415', '422', '429']) {
      expect(update?.responses[status]?.content).toEqual({ 'application/problem+json': problemRef });
    }
    expect(Object.keys(create?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '413', '415', '422', '429']),
    );
    expect(document.components.schemas.ProblemSchema?.properties).toMatchObject({
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'number' },
      detail: { type: 'string' },
      errors: { type: 'array' },
    });
    expect(document.components.schemas.ProblemErrorSchema?.properties).toMatchObject({ pointer: {}, code: {}, message: {} });
  });

  it('documents the headers and query parameters of the contact routes', () => {
    const parameters = (path: string, method: string): string[] =>
      (document.paths[path]?.[method]?.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort();

    expect(parameters('/api/contacts/{id}.json', 'post')).toEqual(['header:Idempotency-Key', 'header:If-Match', 'path:id']);
    expect(parameters('/api/contacts/{id}.json', 'get')).toEqual(['path:id', 'query:asOf']);
    expect(parameters('/api/contacts.json', 'post')).toEqual(['header:Idempotency-Key']);
    expect(parameters('/api/contacts.json', 'get')).toEqual(['query:email', 'query:limit', 'query:page', 'query:tag', 'query:type']);
    expect(parameters('/api/events.json', 'get')).toEqual(expect.arrayContaining(['query:after', 'query:limit']));
  });

  it('generates the request bodies from the DTOs', () => {
    const body = document.paths['/api/contacts.json']?.post?.requestBody?.content['application/json']?.schema;

    expect(body).toEqual({ $ref: '#/components/schemas/CreateContactRequest' });
    expect(document.components.schemas.CreateContactRequest?.required).toEqual(['contact']);
    expect(document.components.schemas.ContactDto?.properties?.type?.enum).toEqual(['user', 'guest', 'branch', 'recipient']);
    expect(Object.keys(document.components.schemas.ContactDto?.properties ?? {})).toEqual(
      expect.arrayContaining(['firstname', 'lastname', 'email', 'company', 'password', 'address', 'accessRoles', 'tags']),
    );
    expect(document.components.schemas.RoleDto?.properties?.approvalMethod?.enum).toEqual(['none', 'email', 'admin']);
  });

  it('serves Swagger UI as HTML without a token, under a CSP that lets its scripts and styles run', async () => {
    const page = await api.http.inject({ method: 'GET', url: '/api/docs' });
    const script = await api.http.inject({ method: 'GET', url: '/api/docs/swagger-ui-bundle.js' });
    const init = await api.http.inject({ method: 'GET', url: '/api/docs/swagger-ui-init.js' });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui-bundle.js');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    expect(script.statusCode).toBe(200);
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain('/api/contacts.json');
  });

  it("keeps helmet's policy on the JSON API", async () => {
    const sut = await get(api, null, '/api/contacts.json');

    expect(sut.statusCode).toBe(401);
    expect(sut.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(sut.headers['content-security-policy']).toContain('upgrade-insecure-requests');
  });
});

describe('health', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'health' });
  });
  afterAll(() => api.close());

  it('is ready while Postgres and Redis answer', async () => {
    const sut = await get(api, null, '/health');

    expect(sut.statusCode).toBe(200);
    expect(sut.json()).toEqual({
      status: 'ok',
      checks: { postgres: { status: 'up' }, log: { status: 'up' }, queue: { status: 'up', backend: 'redis' } },
    });
    expect(sut.headers['cache-control']).toMatch(/no-store/);
  });

  it('is live without checking anything', async () => {
    const sut = await get(api, null, '/health/live');

    expect(sut.statusCode).toBe(200);
    expect(sut.json()).toEqual({ status: 'ok' });
  });

  it('is not ready (503 problem) when Redis is unreachable, and still live', async () => {
    const down = await createTestApi({ label: 'health-redis-down', env: { REDIS_URL: `redis://127.0.0.1:${CLOSED_PORT}` } });
    try {
      const sut = await get(down, null, '/health');
      const live = await get(down, null, '/health/live');

      expect(sut.statusCode).toBe(503);
      expect(sut.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(problemOf(sut)).toMatchObject({ type: '/problems/unavailable', status: 503, detail: 'unreachable: queue' });
      expect(sut.json<{ checks: unknown }>().checks).toEqual({
        postgres: { status: 'up' },
        log: { status: 'up' },
        queue: { status: 'down', backend: 'redis' },
      });
      expect(live.statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });

  it('is not ready when Postgres is unreachable', async () => {
    const down = await createTestApi({
      label: 'health-pg-down',
      env: {
        DATABASE_URL: `postgres://postgres@127.0.0.1:${CLOSED_PORT}/contacts`,
        TOKEN_SECRET: 'a-token-secret-of-at-least-32-characters',
      },
    });
    try {
      const sut = await get(down, null, '/health');

      expect(sut.statusCode).toBe(503);
      expect(sut.json<{ checks: unknown }>().checks).toEqual({
        postgres: { status: 'down' },
        log: { status: 'down' },
        queue: { status: 'up', backend: 'redis' },
      });
    } finally {
      await down.close();
    }
  });

  it('checks the PostgreSQL queue backend when REDIS_URL is unset', async () => {
    const pgQueues = await createTestApi({ label: 'health-pg-queues', env: { REDIS_URL: '' } });
    try {
      const sut = await get(pgQueues, null, '/health');

      expect(sut.statusCode).toBe(200);
      expect(sut.json()).toEqual({
        status: 'ok',
        checks: { postgres: { status: 'up' }, log: { status: 'up' }, queue: { status: 'up', backend: 'postgres' } },
      });
    } finally {
      await pgQueues.close();
    }
  });
});

describe('metrics', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'metrics' }));
  });
  afterAll(() => api.close());

  const scrape = async (): Promise<string> => {
    const response = await get(api, null, '/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.body;
  };

  it('shows request latency by route pattern, never by URL', async () => {
    const created = contactOf(await createContact(api, token, aGuestPayload()));
    expect((await get(api, token, `/api/contacts/${created.id}.json`)).statusCode).toBe(200);

    const sut = await scrape();

    expect(
      sample(sut, 'http_request_duration_seconds_count{method="POST",route="/api/contacts.json",status_code="201"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(sut, 'http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/contacts.json",status_code="201"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(sut, 'http_request_duration_seconds_count{method="GET",route="/api/contacts/:id.json",status_code="200"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(sut).not.toContain(created.id);
  });

  it('counts the events the API appended, by type', async () => {
    const before = sample(await scrape(), 'contacts_events_appended_total{type="ContactCreated"}') ?? 0;

    await createContact(api, token, aGuestPayload());
    await createContact(api, token, aGuestPayload());

    expect(sample(await scrape(), 'contacts_events_appended_total{type="ContactCreated"}')).toBe(before + 2);
  });

  it('shows the jobs of each queue by state', async () => {
    const queue = openQueue(queueBackendOf(api.config), 'invites');
    try {
      await queue.add('send-invite', {}, { jobId: 'metrics-waiting' });
      await queue.add('send-invite', {}, { jobId: 'metrics-delayed', delay: 3_600_000 });

      const sut = await scrape();

      expect(sample(sut, 'contacts_queue_jobs{queue="invites",state="waiting"}')).toBe(1);
      expect(sample(sut, 'contacts_queue_jobs{queue="invites",state="delayed"}')).toBe(1);
      expect(sample(sut, 'contacts_queue_jobs{queue="invites",state="failed"}')).toBe(0);
      expect(sample(sut, 'contacts_queue_jobs{queue="invites",state="completed"}')).toBe(0);
      expect(sample(sut, 'contacts_queue_jobs{queue="roles",state="waiting"}')).toBe(0);
      expect(sample(sut, 'contacts_queue_up{queue="maintenance"}')).toBe(1);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it("shows the dispatcher's lag behind the log", async () => {
    await createContact(api, token, aGuestPayload());
    const behind = await api.database.db.query<{ n: string }>('SELECT count(*) AS n FROM events');

    const before = await scrape();
    await passDispatcherOverTheLog(api.database.db);
    const after = await scrape();

    expect(sample(before, 'contacts_dispatcher_lag_events')).toBe(Number(behind.rows[0]?.n));
    expect(sample(before, 'contacts_dispatcher_lag_seconds')).toBeGreaterThan(0);
    expect(sample(after, 'contacts_dispatcher_lag_events')).toBe(0);
    expect(sample(after, 'contacts_dispatcher_lag_seconds')).toBe(0);
    expect(sample(after, 'contacts_dispatcher_checkpoint_age_seconds')).toBeLessThan(60);
  });

  it("includes Node's process metrics", async () => {
    const sut = await scrape();

    expect(sut).toContain('# TYPE process_cpu_seconds_total counter');
    expect(sut).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
  });
});

describe('queue dashboard at /admin/queues', () => {
  const password = 'a-dashboard-password';
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'dashboard', env: { ADMIN_USER: 'ops', ADMIN_PASSWORD: password } });
  });
  afterAll(() => api.close());

  it.each<[string, Record<string, string>]>([
    ['no credentials', {}],
    ['a wrong password', basic('ops', `${password}x`)],
    ['a wrong user', basic('admin', password)],
    ['a bearer token', { authorization: 'Bearer abc' }],
    ['a malformed header', { authorization: 'Basic !!!' }],
  ])('refuses %s with 401 and a Basic challenge', async (_case, headers) => {
    const sut = await api.http.inject({ method: 'GET', url: '/admin/queues', headers });
    const apiCall = await api.http.inject({ method: 'GET', url: '/admin/queues/api/queues', headers });

    expect(sut.statusCode).toBe(401);
    expect(sut.headers['www-authenticate']).toMatch(/^Basic realm="queues"/);
    expect(problemOf(sut)).toMatchObject({ status: 401 });
    expect(apiCall.statusCode).toBe(401);
  });

  it('shows the dashboard with the credentials, and the queues in its API', async () => {
    const page = await api.http.inject({ method: 'GET', url: '/admin/queues', headers: basic('ops', password) });
    const queues = await api.http.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: basic('ops', password) });

    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(queues.statusCode).toBe(200);
    expect(
      queues
        .json<{ queues: { name: string }[] }>()
        .queues.map((q) => q.name)
        .sort(),
    ).toEqual(['invites', 'maintenance', 'roles']);
  });

  it('is off (404) when ADMIN_PASSWORD is unset', async () => {
    const off = await createTestApi({ label: 'dashboard-off' });
    try {
      const sut = await off.http.inject({ method: 'GET', url: '/admin/queues', headers: basic('admin', password) });

      expect(sut.statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('refuses a short ADMIN_PASSWORD at start', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://localhost/x', ADMIN_PASSWORD: 'short' })).toThrow(
      'ADMIN_PASSWORD must be at least 12 characters',
    );
  });
});

describe('token endpoint with HTTP Basic client authentication (as Swagger UI "Authorize" sends it)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi({ label: 'oauth-basic' });
  });
  afterAll(() => api.close());

  const tokenRequest = (headers: Record<string, string>, payload: string): Promise<Response> =>
    api.http.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload,
    });

  it('issues a token to a client authenticated with Basic, its parts form-urlencoded', async () => {
    const client = await api.client(['contacts']);

    const sut = await tokenRequest(
      basic(encodeURIComponent(client.client_id), encodeURIComponent(client.client_secret)),
      'grant_type=client_credentials&scope=contacts.readonly',
    );

    expect(sut.statusCode).toBe(200);
    expect(sut.json()).toMatchObject({ token_type: 'Bearer', scope: 'contacts.readonly' });
    expect((await get(api, sut.json<{ access_token: string }>().access_token, '/api/contacts.json')).statusCode).toBe(200);
  });

  it('refuses a wrong Basic secret (401 invalid_client) and credentials sent both ways (400 invalid_request)', async () => {
    const client = await api.client(['contacts']);

    const wrong = await tokenRequest(basic(client.client_id, `${client.client_secret}x`), 'grant_type=client_credentials');
    const both = await tokenRequest(
      basic(client.client_id, client.client_secret),
      `grant_type=client_credentials&client_id=${client.client_id}&client_secret=${encodeURIComponent(client.client_secret)}`,
    );
    const malformed = await tokenRequest({ authorization: 'Basic bm9jb2xvbg==' }, 'grant_type=client_credentials');

    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'invalid_client' });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toMatchObject({ error: 'invalid_request' });
    expect(malformed.statusCode).toBe(401);
  });
});
