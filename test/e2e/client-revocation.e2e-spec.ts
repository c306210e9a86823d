import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { createApi } from '../../apps/api/src/bootstrap.js';
import { run } from '../../apps/cli/src/cli.js';
import { get, post, problemOf } from '../support/contact-requests.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

describe('clients:list and clients:revoke', () => {
  let api: TestApi;
  let second: NestFastifyApplication;
  let secondHttp: FastifyInstance;

  /** Runs a CLI command on the API's database and returns what it printed. */
  async function cli(...argv: string[]): Promise<string[]> {
    const printed: string[] = [];
    await run(argv, { DATABASE_URL: api.database.url }, (line) => printed.push(line));
    return printed;
  }

  const tokenFor = async (client: { client_id: string; client_secret: string }) =>
    post(api, null, '/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret });

  beforeAll(async () => {
    api = await createTestApi({ label: 'revocation' });
    // A second API process on the same database, as a replica would be.
    second = await createApi(api.config, { clock: api.clock, logs: false });
    secondHttp = second.getHttpAdapter().getInstance();
    await secondHttp.ready();
  });
  afterAll(async () => {
    await second.close();
    await api.close();
  });

  it('clients:list prints one JSON line per client, without its secret or the secret hash', async () => {
    const shop = await api.client(['contacts']);
    const auditor = await api.client(['audit']);

    const sut = (await cli('clients:list')).map((line) => JSON.parse(line) as Record<string, unknown>);

    const listed = sut.filter((c) => c.client_id === shop.client_id || c.client_id === auditor.client_id);
    expect(listed).toEqual([
      {
        client_id: shop.client_id,
        name: 'test client',
        scopes: ['contacts'],
        created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/),
        revoked: null,
      },
      { client_id: auditor.client_id, name: 'test client', scopes: ['audit'], created: expect.any(String), revoked: null },
    ]);
    const text = JSON.stringify(sut);
    expect(text).not.toContain(shop.client_secret);
    expect(text).not.toMatch(/secret|hash/i);
  });

  it('refuses a revoked client at the token endpoint at once, and its issued tokens on every API process within 5 s', async () => {
    const client = await api.client(['contacts']);
    const token = (await tokenFor(client)).json<{ access_token: string }>().access_token;
    expect((await get(api, token, '/api/contacts.json')).statusCode).toBe(200);
    expect(
      (await secondHttp.inject({ method: 'GET', url: '/api/contacts.json', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);

    const printed = await cli('clients:revoke', '--client-id', client.client_id);
    const revokedAt = Date.now();

    expect(JSON.parse(printed[0] ?? '')).toMatchObject({ client_id: client.client_id, revoked: expect.stringMatching(/\+00:00$/) });
    const refused = await tokenFor(client);
    expect(refused.statusCode).toBe(401);
    expect(problemOf(refused)).toMatchObject({ status: 401, error: 'invalid_client' });

    const answers = async (): Promise<number[]> => [
      (await get(api, token, '/api/contacts.json')).statusCode,
      (await secondHttp.inject({ method: 'GET', url: '/api/contacts.json', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ];
    let statuses = await answers();
    while (statuses.some((s) => s !== 401) && Date.now() - revokedAt < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      statuses = await answers();
    }
    expect(statuses).toEqual([401, 401]);
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    const listed = (await cli('clients:list')).map((line) => JSON.parse(line) as { client_id: string; revoked: string | null });
    expect(listed.find((c) => c.client_id === client.client_id)?.revoked).toEqual(expect.any(String));
  });

  it('leaves the other clients working', async () => {
    const kept = await api.client(['contacts']);
    const cut = await api.client(['contacts']);
    await cli('clients:revoke', '--client-id', cut.client_id);

    const sut = await tokenFor(kept);

    expect(sut.statusCode).toBe(200);
    expect((await get(api, sut.json<{ access_token: string }>().access_token, '/api/contacts.json')).statusCode).toBe(200);
  });

  it('names an unknown client id and changes nothing', async () => {
    await expect(cli('clients:revoke', '--client-id', 'no-such-client')).rejects.toThrow('no client has the id no-such-client');
    await expect(cli('clients:revoke')).rejects.toThrow('clients:revoke needs --client-id');
  });
});
