import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { ClientStore } from '@app/auth';
import { aUserPayload, get } from '../support/contact-requests.js';
import { createTestDatabase, forgetQueuePrefix, REDIS_URL, testQueuePrefix, type TestDatabase } from '../support/test-database.js';
import { createTestApi } from '../support/test-api.js';
import { freePort } from '../support/dist-processes.js';

/** The built API (npm test builds first): a real process, so the test can send it SIGTERM. */
const API_MAIN = fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url));
const HOST = '127.0.0.1';
const ADMIN_PASSWORD = 'a-dashboard-password';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The Redis connections whose name starts with the queue prefix (BullMQ names its connections so). */
/** The Redis clients of this test's queue prefix (the queues', and the readiness probe's `<prefix>:api-health`). */
async function redisClientsNamed(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const list = (await redis.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(`name=${prefix}`));
  } finally {
    redis.disconnect();
  }
}

/** Redis drops a client from its list when it reads the closed socket: give it a moment. */
async function redisClientsGone(prefix: string): Promise<string[]> {
  let left = await redisClientsNamed(prefix);
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = await redisClientsNamed(prefix);
  }
  return left;
}

async function postgresSessions(database: TestDatabase): Promise<number> {
  const { rows } = await database.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'contacts-api'`,
    [database.name],
  );
  return rows[0]?.n ?? 0;
}

describe('API shutdown', () => {
  it('closes its Postgres pool and every queue connection it opened when the application closes', async () => {
    const prefix = testQueuePrefix('shutdown');
    const api = await createTestApi({ label: 'shutdown-close', env: { QUEUE_PREFIX: prefix, ADMIN_PASSWORD } });
    try {
      // Open everything: the readiness probe's Redis connection, the queues of /metrics and of the dashboard.
      expect((await get(api, null, '/health')).statusCode).toBe(200);
      expect((await get(api, null, '/metrics')).statusCode).toBe(200);
      expect(await redisClientsNamed(prefix)).not.toEqual([]);
      expect(await postgresSessions(api.database)).toBeGreaterThan(0);

      await api.app.close();

      expect(await redisClientsGone(prefix)).toEqual([]);
      expect(await postgresSessions(api.database)).toBe(0);
    } finally {
      await api.database.drop();
      await forgetQueuePrefix(REDIS_URL, prefix);
    }
  });

  describe('on SIGTERM', () => {
    let database: TestDatabase;
    let child: ChildProcess;
    let output = '';
    let baseUrl: string;
    const prefix = testQueuePrefix('shutdown');

    beforeAll(async () => {
      database = await createTestDatabase('shutdown-signal');
      const port = await freePort();
      baseUrl = `http://${HOST}:${port}`;
      child = spawn(process.execPath, [API_MAIN], {
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: database.url,
          REDIS_URL,
          QUEUE_PREFIX: prefix,
          PORT: String(port),
          HOST,
          LOG_LEVEL: 'warn',
          ADMIN_PASSWORD,
          // A user's password is hashed at the highest cost allowed: a request that takes a while.
          BCRYPT_COST: '15',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      for (let i = 0; ; i++) {
        const ready = await fetch(`${baseUrl}/health`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ready) break;
        if (i > 150 || child.exitCode !== null) throw new Error(`the API did not start:\n${output}`);
        await sleep(100);
      }
    });

    afterAll(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await database.drop();
      await forgetQueuePrefix(REDIS_URL, prefix);
    });

    it('finishes the request in flight, accepts no new connection, and exits', async () => {
      const client = await new ClientStore(database.db).create('shutdown', ['contacts']);
      const tokenResponse = await fetch(`${baseUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret }),
      });
      const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
      expect((await fetch(`${baseUrl}/metrics`)).status).toBe(200);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );

      const inFlight = fetch(`${baseUrl}/api/contacts.json`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ contact: aUserPayload() }),
      });
      await sleep(150);
      child.kill('SIGTERM');
      await sleep(150);
      const afterSignal = await fetch(`${baseUrl}/health/live`).then(
        (r) => `answered ${r.status}`,
        () => 'refused',
      );
      const response = await inFlight;
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 15_000)))]);
      clearTimeout(timer);

      expect(response.status).toBe(201);
      expect(afterSignal).toBe('refused');
      expect(exit).not.toBeNull();
      expect(exit?.signal === 'SIGTERM' || exit?.code === 0).toBe(true);
      const { rows } = await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE type = 'ContactCreated'`);
      expect(rows[0]?.n).toBe(1);
    }, 30_000);
  });
});
