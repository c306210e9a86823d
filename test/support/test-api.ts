import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ClientStore, type Scope } from '@app/auth';
import { FixedClock, loadConfig, type AppConfig } from '@app/config';
import { createApi } from '../../apps/api/src/bootstrap.js';
import { checkResponsesAgainstDocument } from './openapi-contract.js';
import { createTestDatabase, forgetQueuePrefix, REDIS_URL, testQueuePrefix, type TestDatabase } from './test-database.js';

export const ALL_SCOPES: Scope[] = ['contacts', 'contacts.readonly', 'roles', 'roles.readonly', 'audit', 'privacy'];

export interface TestApi {
  app: NestFastifyApplication;
  /** the Fastify instance: `http.inject({ method, url, headers, payload })` sends a request in-process */
  http: FastifyInstance;
  database: TestDatabase;
  config: AppConfig;
  /** the API's clock; tests move it with `set` and `advance` */
  clock: FixedClock;
  /** a bearer token of a new client holding `scopes` */
  token(scopes?: Scope[]): Promise<string>;
  /** registers an OAuth client directly in the store: { client_id, client_secret, scopes } */
  client(scopes?: Scope[]): ReturnType<ClientStore['create']>;
  close(): Promise<void>;
}

export interface TestApiOptions {
  label?: string;
  clock?: FixedClock;
  env?: Record<string, string>;
  /** the database of another test API: this one runs beside it as a second API process, and leaves dropping it to that one */
  database?: TestDatabase;
}

/**
 * The whole HTTP API on its own database, driven in-process through Fastify's `inject`
 * (real routing, parsing, validation, Postgres; no socket). Every response it returns is checked
 * against the OpenAPI document the API serves.
 */
export async function createTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const shared = options.database !== undefined;
  const database = options.database ?? (await createTestDatabase(options.label ?? 'api'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: testQueuePrefix(options.label),
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    // A test file sends hundreds of requests a second as one client: far above the production
    // default. The limit stays on (its code runs in every e2e test); security.e2e-spec.ts tests it.
    RATE_LIMIT_PER_MINUTE: '100000',
    // Likewise for the invite page, whose requests all come from one address here;
    // anonymous-limits.e2e-spec.ts tests its limit.
    INVITE_RATE_LIMIT_PER_MINUTE: '100000',
    ...options.env,
  });
  const clock = options.clock ?? new FixedClock(new Date('2026-01-15T10:00:00Z'));
  const app = await createApi(config, { clock, logs: false });
  const http = app.getHttpAdapter().getInstance();
  await http.ready();
  checkResponsesAgainstDocument(http);
  const clients = new ClientStore(database.db);
  return {
    app,
    http,
    database,
    config,
    clock,
    client: (scopes = ALL_SCOPES) => clients.create('test client', scopes),
    async token(scopes = ALL_SCOPES) {
      const client = await clients.create('test client', scopes);
      const response = await http.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
      });
      const body = response.json<{ access_token?: string }>();
      if (response.statusCode !== 200 || !body.access_token) throw new Error(`token request failed: ${response.body}`);
      return body.access_token;
    },
    async close() {
      await app.close();
      if (!shared) await database.drop();
      // Workers the test started are closed by now; their schedulers' keys would outlive the run.
      if (config.REDIS_URL) await forgetQueuePrefix(config.REDIS_URL, config.QUEUE_PREFIX);
    },
  };
}

/** An API as `createTestApi` starts it, with a bearer token of a new client holding every scope. */
export async function createTestApiWithToken(options: TestApiOptions = {}): Promise<{ api: TestApi; token: string }> {
  const api = await createTestApi(options);
  return { api, token: await api.token() };
}
