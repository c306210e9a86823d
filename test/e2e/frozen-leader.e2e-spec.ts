import { Redis } from 'ioredis';
import { ClientStore } from '@app/auth';
import { aUserPayload, uniqueEmail } from '../support/contact-requests.js';
import { freePort, startDist, waitUntilHealthy, type DistProcess } from '../support/dist-processes.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestDatabase, REDIS_URL, testQueuePrefix, type TestDatabase } from '../support/test-database.js';

/**
 * A leader that neither dies nor answers (SIGSTOP: a paused VM, a stopped container) keeps its
 * database connections open. Two built workers on one Postgres and one Redis, with the default
 * lease (the config has no variable for it): the leading one is frozen, and the other takes over
 * the dispatcher and mails a new invite within 30 s; thawed, the old leader mails nothing twice.
 */

const HOST = '127.0.0.1';
/** What the brief of the lease promises: a frozen leader is replaced, and its work done, within this. */
const REPLACED_WITHIN_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

async function deleteRedisKeys(holding: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${holding}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

describe('a worker leading the dispatcher is frozen', () => {
  const prefix = testQueuePrefix('frozen');
  let database: TestDatabase | undefined;
  let sink: SmtpSink | undefined;
  let api: { baseUrl: string; proc: DistProcess } | undefined;
  const workers: DistProcess[] = [];

  /** The worker's info log says when its dispatcher takes the lead (the line is JSON, so its quotes are escaped). */
  const leads = (worker: DistProcess): boolean => /dispatcher \\?"dispatcher\\?" leads/.test(worker.output());
  const outputs = (): string => [...(api ? [api.proc] : []), ...workers].map((p) => `--- ${p.name}\n${p.output()}`).join('\n');

  beforeAll(async () => {
    database = await createTestDatabase('frozen');
    sink = await startSmtpSink();
    const port = await freePort(HOST);
    const env: Record<string, string> = {
      DATABASE_URL: database.url,
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      SMTP_URL: sink.url,
      PUBLIC_URL: `http://${HOST}:${port}`,
      // A frozen worker's jobs are taken up once their 2 s lock runs out (production: 30 s).
      JOB_LOCK_DURATION: '2s',
      BCRYPT_COST: '4',
    };
    api = { baseUrl: `http://${HOST}:${port}`, proc: startDist('api', 'api', { ...env, HOST, PORT: String(port), LOG_LEVEL: 'warn' }) };
    for (const i of [1, 2]) workers.push(startDist(`worker ${i}`, 'worker', { ...env, LOG_LEVEL: 'info' }));
    await waitUntilHealthy(api.baseUrl, api.proc);
    await waitUntil(
      'one worker leads the dispatcher',
      () => workers.every((w) => w.output().includes('worker started')) && workers.some(leads),
      20_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${outputs()}`);
    });
  }, 45_000);

  afterAll(async () => {
    // A stopped process would hold SIGTERM until continued.
    for (const w of workers) if (w.running) w.child.kill('SIGCONT');
    await Promise.all([...(api ? [api.proc] : []), ...workers].map((p) => p.stop()));
    await sink?.close();
    await database?.drop();
    await deleteRedisKeys(prefix);
  }, 30_000);

  it('has the other worker mail a new invite within 30 s, and every invite is mailed exactly once after the frozen one resumes', async () => {
    if (!database || !sink || !api) throw new Error('not started');
    const db = database.db;
    const mailSink = sink;
    const baseUrl = api.baseUrl;
    const client = await new ClientStore(db).create('frozen', ['contacts']);
    const issued = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret }),
    });
    expect(issued.status).toBe(200);
    const token = String(((await issued.json()) as { access_token: string }).access_token);

    const invite = async (): Promise<string> => {
      const email = uniqueEmail('frozen');
      const response = await fetch(`${baseUrl}/api/contacts.json`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ contact: aUserPayload({ email, password: undefined }), invite: true }),
      });
      expect(response.status).toBe(201);
      return email;
    };
    const mailedTo = (email: string): number => mailSink.mails.filter((m) => m.to === email).length;
    const inviteSentTo = async (emails: string[]): Promise<number> => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events e JOIN contacts c ON c.id = e.stream_id WHERE e.type = 'InviteSent' AND c.email = ANY($1)`,
        [emails],
      );
      return rows[0]?.n ?? 0;
    };
    const failWithOutputs = (error: Error): never => {
      throw new Error(`${error.message}; mails: ${mailSink.mails.length}\n${outputs()}`);
    };

    // Before: invites are mailed, and recorded as sent, so no job is mid-way when the leader stops.
    const before = [await invite(), await invite()];
    await waitUntil('the first invites are sent', async () => (await inviteSentTo(before)) === before.length, 20_000).catch(
      failWithOutputs,
    );

    const leaders = workers.filter(leads);
    expect(leaders).toHaveLength(1);
    const frozen = leaders[0] as DistProcess;
    const other = workers.find((w) => w !== frozen) as DistProcess;
    frozen.child.kill('SIGSTOP');
    const frozenAt = Date.now();

    const during = await invite();
    await waitUntil('the other worker mails the new invite', () => mailedTo(during) > 0, REPLACED_WITHIN_MS + 5_000).catch(failWithOutputs);
    expect(Date.now() - frozenAt).toBeLessThanOrEqual(REPLACED_WITHIN_MS);
    expect(leads(other)).toBe(true);

    frozen.child.kill('SIGCONT');
    // The thawed worker goes on: it finds its lease gone at its next renewal, and stands by.
    await sleep(6_000);
    const after = await invite();
    const all = [...before, during, after];
    await waitUntil('every invite is sent', async () => (await inviteSentTo(all)) === all.length, 20_000).catch(failWithOutputs);
    // Longer than a job lock: a job run twice would have shown by now.
    await sleep(3_000);

    expect(all.map(mailedTo)).toEqual(all.map(() => 1));
    expect(mailSink.mails).toHaveLength(all.length);
    expect(await inviteSentTo(all)).toBe(all.length);
    expect([frozen.running, other.running]).toEqual([true, true]);
  }, 90_000);
});
