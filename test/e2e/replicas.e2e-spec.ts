import { Redis } from 'ioredis';
import { ClientStore } from '@app/auth';
import { formatAtom } from '@app/contacts';
import { aUserPayload, uniqueEmail } from '../support/contact-requests.js';
import { freePort, startDist, waitUntilHealthy, type DistProcess } from '../support/dist-processes.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestDatabase, REDIS_URL, testQueuePrefix, type TestDatabase } from '../support/test-database.js';

/**
 * DESIGN §9: API and worker processes are stateless, and any number of them run against one
 * Postgres and one Redis. Two built APIs and two built workers, as `npm run start:api` and
 * `npm run start:worker` run in production, take a stream of creates through both APIs while the
 * worker leading the dispatcher is killed outright.
 */

const HOST = '127.0.0.1';
const INVITES = 40;
const EXPIRING = 20;
/** The mail at which the worker leading the dispatcher is killed. */
const KILL_AT_MAIL = 8;
const REFERENCE = 'r';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

interface Api {
  baseUrl: string;
  proc: DistProcess;
}

interface FeedEvent {
  position: number;
  streamId: string;
  type: string;
  data: Record<string, unknown>;
  recordedAt: string;
}

async function call(
  api: Api,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: Record<string, any> = {};
  try {
    json = JSON.parse(text) as Record<string, any>;
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

/** Every event of `type` in the log, as an auditor pages through `GET /api/events.json`. */
async function eventsOfType(api: Api, token: string, type: string): Promise<FeedEvent[]> {
  const all: FeedEvent[] = [];
  for (;;) {
    const after = all.at(-1)?.position;
    const page = await call(api, token, 'GET', `/api/events.json?type=${type}&limit=1000${after === undefined ? '' : `&after=${after}`}`);
    if (page.status !== 200) throw new Error(`events feed: ${page.status} ${JSON.stringify(page.json)}`);
    const events = page.json.events as FeedEvent[];
    all.push(...events);
    if (events.length < 1000) return all;
  }
}

const countBy = <T>(items: T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

/** The Redis keys whose name holds `name` anywhere. */
async function redisKeysHolding(name: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `*${name}*`, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisKeys(keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } finally {
    redis.disconnect();
  }
}

describe.each([
  ['a plain queue prefix', (name: string) => name],
  // Redis Cluster: keys with one hash tag ({…}) hash to one slot, as BullMQ's scripts need.
  ['the queue prefix in a Redis Cluster hash tag', (name: string) => `{${name}}`],
])('two APIs and two workers on one Postgres and one Redis, %s', (_label, prefixOf: (name: string) => string) => {
  const name = testQueuePrefix('replicas');
  const prefix = prefixOf(name);
  let database: TestDatabase | undefined;
  let sink: SmtpSink | undefined;
  const apis: Api[] = [];
  const workers: DistProcess[] = [];

  /** The worker's info log says when its dispatcher takes the lead (the line is JSON, so its quotes are escaped). */
  const leads = (worker: DistProcess): boolean => /dispatcher \\?"dispatcher\\?" leads/.test(worker.output());
  const processes = (): DistProcess[] => [...apis.map((a) => a.proc), ...workers];
  const outputs = (): string =>
    processes()
      .map((p) => `--- ${p.name}\n${p.output()}`)
      .join('\n');

  beforeAll(async () => {
    database = await createTestDatabase('replicas');
    sink = await startSmtpSink();
    const ports: number[] = [];
    while (ports.length < 2) {
      const port = await freePort(HOST);
      if (!ports.includes(port)) ports.push(port);
    }
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SMTP_URL: sink.url,
      PUBLIC_URL: `http://${HOST}:${ports[0]}`,
      // A killed worker's jobs are taken up once their 2 s lock runs out (production: 30 s).
      JOB_LOCK_DURATION: '2s',
      BCRYPT_COST: '4',
      // TOKEN_SECRET unset: the first API to start generates it and both read it from the database.
    };
    // All four at once, on a database without a token secret yet: the APIs race to create it.
    for (const [i, port] of ports.entries()) {
      apis.push({
        baseUrl: `http://${HOST}:${port}`,
        proc: startDist(`api ${i + 1}`, 'api', { ...env, HOST, PORT: String(port), LOG_LEVEL: 'warn' }),
      });
    }
    // Info logs say which worker leads the dispatcher.
    for (const i of [1, 2]) workers.push(startDist(`worker ${i}`, 'worker', { ...env, LOG_LEVEL: 'info' }));
    await Promise.all(apis.map((a) => waitUntilHealthy(a.baseUrl, a.proc)));
    await waitUntil(
      'one worker leads the dispatcher',
      () => workers.every((w) => w.output().includes('worker started')) && workers.some(leads),
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${outputs()}`);
    });
  }, 45_000);

  afterAll(async () => {
    if (sink) sink.beforeAccept = () => undefined;
    await Promise.all(processes().map((p) => p.stop()));
    await sink?.close();
    await database?.drop();
    await deleteRedisKeys(await redisKeysHolding(name));
  }, 30_000);

  it('mails every invite exactly once and revokes every expired grant exactly once, though a worker is killed mid-stream', async () => {
    if (!database || !sink) throw new Error('not started');
    const [apiA, apiB] = apis as [Api, Api];
    const db = database.db;
    const mailSink = sink;

    // One client; a token from either API works on the other: they agreed on the secret.
    const client = await new ClientStore(db).create('replicas', ['contacts', 'roles', 'audit']);
    const tokens: string[] = [];
    for (const api of apis) {
      const issued = await call(api, null, 'POST', '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: client.client_secret,
      });
      expect(issued.status).toBe(200);
      tokens.push(String(issued.json.access_token));
    }
    const [tokenA, tokenB] = tokens as [string, string];
    expect((await call(apiB, tokenA, 'GET', '/api/roles.json')).status).toBe(200);
    expect((await call(apiA, tokenB, 'GET', '/api/roles.json')).status).toBe(200);
    const role = await call(apiA, tokenA, 'POST', '/api/roles.json', {
      role: { reference: REFERENCE, title: 'R', approvalMethod: 'none' },
    });
    expect(role.status).toBe(201);

    // The kill: at the KILL_AT_MAIL-th mail, hold every mail, wait until those accepted so far are
    // recorded as sent, SIGKILL the worker leading the dispatcher, then refuse the mails held.
    // The kill lands mid-stream, outside the one window no sender can close (the mail server
    // accepted a mail, the worker has not recorded it yet: DESIGN §3.6 and the processor's note).
    const acceptedTo: string[] = [];
    let killing: Promise<void> | null = null;
    let victim: DistProcess | null = null;
    const inviteSentTo = async (emails: string[]): Promise<number> => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events e JOIN contacts c ON c.id = e.stream_id WHERE e.type = 'InviteSent' AND c.email = ANY($1)`,
        [emails],
      );
      return rows[0]?.n ?? 0;
    };
    mailSink.beforeAccept = async (mail) => {
      if (victim && !victim.running) return;
      if (killing) {
        await killing;
        throw new Error('held while a worker was killed');
      }
      if (acceptedTo.length + 1 < KILL_AT_MAIL) {
        acceptedTo.push(mail.to);
        return;
      }
      killing = (async () => {
        while ((await inviteSentTo(acceptedTo)) < acceptedTo.length) await sleep(20);
        victim = workers.find(leads) ?? null;
        if (!victim) throw new Error('no worker leads the dispatcher');
        victim.child.kill('SIGKILL');
        await victim.exited;
      })();
      await killing;
      throw new Error('held while a worker was killed');
    };

    // The stream: users to invite and users with a grant expiring about 3 s after their create,
    // interleaved, through both APIs in turn, one request started every 40 ms.
    const invited = Array.from({ length: INVITES }, () => uniqueEmail('replica-invite'));
    const expiring = Array.from({ length: EXPIRING }, () => uniqueEmail('replica-expiry'));
    const order = Array.from({ length: INVITES + EXPIRING }, (_, i) =>
      i % 3 === 2 ? { email: expiring[(i - 2) / 3] ?? '', expires: true } : { email: invited[i - Math.floor(i / 3)] ?? '', expires: false },
    );
    const created = await Promise.all(
      order.map(async (item, i) => {
        await sleep(i * 40);
        const through = i % 2;
        const api = apis[through] as Api;
        const token = tokens[through] as string;
        const expires = item.expires ? formatAtom(new Date(Math.ceil((Date.now() + 3_000) / 1_000) * 1_000), 'seconds') : null;
        const body = expires
          ? { contact: aUserPayload({ email: item.email, accessRoles: [{ reference: REFERENCE, expires }] }) }
          : { contact: aUserPayload({ email: item.email, password: undefined }), invite: true };
        const response = await call(api, token, 'POST', '/api/contacts.json', body);
        return { ...item, through, expires, status: response.status, id: String(response.json.contact?.id) };
      }),
    );

    expect(created.map((c) => c.status)).toEqual(created.map(() => 201));
    expect(countBy(created, (c) => `api ${c.through + 1}`)).toEqual(
      new Map([
        ['api 1', 30],
        ['api 2', 30],
      ]),
    );
    await waitUntil('the leading worker was killed', () => victim !== null && !victim.running, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; mails so far: ${mailSink.mails.length}\n${outputs()}`);
    });
    const killed = victim as unknown as DistProcess;
    expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const survivor = workers.find((w) => w !== killed) as DistProcess;

    const invitedIds = created.filter((c) => !c.expires).map((c) => c.id);
    const expiringIds = created.filter((c) => c.expires).map((c) => c.id);
    const expiredRevocations = async (): Promise<FeedEvent[]> =>
      (await eventsOfType(apiB, tokenB, 'RoleRevoked')).filter((e) => e.data.reason === 'expired');
    await waitUntil(
      'every invite is mailed and every grant revoked',
      async () => new Set(mailSink.mails.map((m) => m.to)).size >= INVITES && (await expiredRevocations()).length >= EXPIRING,
      30_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; mails: ${mailSink.mails.length}\n${outputs()}`);
    });
    // Longer than a job lock: a job run twice (stalled, retried) would have shown by now.
    await sleep(2_500);

    // At the SMTP server: one mail per invited user, none to anyone else.
    const mailsTo = countBy(mailSink.mails, (m) => m.to);
    expect(invited.map((email) => mailsTo.get(email) ?? 0)).toEqual(invited.map(() => 1));
    expect(mailSink.mails).toHaveLength(INVITES);
    // In the log, as an auditor reads it through either API: one InviteSent per invite ...
    const sent = countBy(await eventsOfType(apiA, tokenA, 'InviteSent'), (e) => e.streamId);
    expect(invitedIds.map((id) => sent.get(id) ?? 0)).toEqual(invitedIds.map(() => 1));
    expect([...sent.values()].reduce((a, b) => a + b, 0)).toBe(INVITES);
    // ... and one RoleRevoked {reason: "expired"} per expiring grant, never before its expiry.
    const revocations = await expiredRevocations();
    const revoked = countBy(revocations, (e) => e.streamId);
    expect(expiringIds.map((id) => revoked.get(id) ?? 0)).toEqual(expiringIds.map(() => 1));
    expect(revocations).toHaveLength(EXPIRING);
    const expiresOf = new Map(created.map((c) => [c.id, c.expires]));
    for (const r of revocations) {
      expect(r.data.reference).toBe(REFERENCE);
      expect(new Date(r.recordedAt).getTime()).toBeGreaterThanOrEqual(new Date(expiresOf.get(r.streamId) ?? 0).getTime());
    }

    // What a client reads, through either API: invites sent, grants gone.
    const reads = await Promise.all(
      created.map((c, i) => call(apis[(i + 1) % 2] as Api, tokens[(i + 1) % 2] as string, 'GET', `/api/contacts/${c.id}.json`)),
    );
    expect(reads.map((r) => r.status)).toEqual(created.map(() => 200));
    expect(reads.filter((_, i) => !created[i]?.expires).map((r) => r.json.contact?.invite?.status)).toEqual(invitedIds.map(() => 'sent'));
    expect(reads.filter((_, i) => created[i]?.expires).map((r) => r.json.contact?.accessRoles)).toEqual(expiringIds.map(() => []));

    // A link the workers built opens on both APIs: all four processes share one secret.
    const link = new URL(mailSink.mails[0]?.link ?? '');
    for (const api of apis) expect((await call(api, null, 'GET', link.pathname)).status).toBe(200);

    // The other worker took over the dispatcher, and every API and the survivor are still up.
    expect(leads(survivor)).toBe(true);
    expect(
      processes()
        .filter((p) => p.running)
        .map((p) => p.name),
    ).toEqual(['api 1', 'api 2', survivor.name]);

    // Every queue key is under the prefix: with a hash tag, all of them hash to one Cluster slot.
    const keys = await redisKeysHolding(name);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith(`${prefix}:`))).toEqual([]);
  }, 60_000);
});
