import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext } from '@nestjs/common';
import { formatAtom } from '@app/contacts';
import { openQueue, queueBackendOf } from '@app/queues';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { aCreatedContact, aRole, aUserPayload, readContact, updateContact } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { TickingClock } from '../support/ticking-clock.js';

const WORKER_MAIN = fileURLToPath(new URL('../../dist/apps/worker/src/main.js', import.meta.url));

interface Revocation {
  stream_id: string;
  reference: string;
  reason: string;
  recorded_at: Date;
}

// Both queue stores pass the same tests (DESIGN §4).
describe.each([
  ['Redis', {}],
  ['PostgreSQL', { REDIS_URL: '' }],
])('access roles that expire, queues on %s', (_store, queueEnv: Record<string, string>) => {
  let api: TestApi;
  let token: string;
  const workers: INestApplicationContext[] = [];

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({
      label: 'roleexpiry',
      clock: new TickingClock(),
      env: { JOB_LOCK_DURATION: '2s', ...queueEnv },
    }));
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  afterAll(() => api.close());

  async function startWorker(): Promise<INestApplicationContext> {
    const worker = await createWorker(api.config, { clock: api.clock, logs: false });
    workers.push(worker);
    return worker;
  }

  /** An ATOM instant `ms` from now, on a whole second (as clients send them). */
  const inAbout = (ms: number): string => formatAtom(new Date(Math.ceil((api.clock.now().getTime() + ms) / 1000) * 1000), 'seconds');

  async function aUserWithGrants(grants: { reference: string; expires: string }[]): Promise<string> {
    const contact = await aCreatedContact(api, token, aUserPayload({ accessRoles: grants }));
    return contact.id;
  }

  async function revocationsOf(contactIds: string[]): Promise<Revocation[]> {
    const { rows } = await api.database.db.query<Revocation>(
      `SELECT stream_id, data->>'reference' AS reference, data->>'reason' AS reason, recorded_at
       FROM events WHERE type = 'RoleRevoked' AND stream_id = ANY($1) ORDER BY position`,
      [contactIds],
    );
    return rows;
  }

  async function until(count: number, contactIds: string[], timeoutMs = 20_000): Promise<Revocation[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await revocationsOf(contactIds);
      if (rows.length >= count || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('revokes a grant once, at its expiry and never before, and the contact no longer shows it', async () => {
    await startWorker();
    const reference = await aRole(api, token);
    const expires = inAbout(1_500);
    const id = await aUserWithGrants([{ reference, expires }]);
    expect((await readContact(api, token, id)).accessRoles).toEqual([{ reference, status: 'active', expires }]);

    const [revoked, ...more] = await until(1, [id]);
    await new Promise((r) => setTimeout(r, 1_000));

    expect(revoked).toMatchObject({ reference, reason: 'expired' });
    expect(revoked?.recorded_at.getTime()).toBeGreaterThanOrEqual(new Date(expires).getTime());
    expect(more).toEqual([]);
    expect(await revocationsOf([id])).toHaveLength(1);
    expect((await readContact(api, token, id)).accessRoles).toEqual([]);
  }, 30_000);

  it('keeps a grant whose expiry was extended before it came: the old job does nothing', async () => {
    await startWorker();
    const reference = await aRole(api, token);
    const id = await aUserWithGrants([{ reference, expires: inAbout(1_500) }]);
    const later = inAbout(3_600_000);

    const extended = await updateContact(api, token, id, { accessRoles: [{ reference, expires: later }] });
    expect(extended.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 3_000));

    expect(await revocationsOf([id])).toEqual([]);
    expect((await readContact(api, token, id)).accessRoles).toEqual([{ reference, status: 'active', expires: later }]);
  }, 30_000);

  it('revokes, once the worker is back, a grant whose job the queue store lost', async () => {
    const worker = await startWorker();
    const reference = await aRole(api, token);
    const expires = inAbout(1_500);
    const id = await aUserWithGrants([{ reference, expires }]);
    // Wait for the dispatcher to add the delayed job, then lose every job (a flushed Redis).
    const queue = openQueue(queueBackendOf(api.config), 'roles');
    try {
      for (let i = 0; i < 50 && (await queue.getDelayedCount()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
      await worker.close();
      workers.splice(workers.indexOf(worker), 1);
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
    await new Promise((r) => setTimeout(r, new Date(expires).getTime() - Date.now() + 200));
    expect(await revocationsOf([id])).toEqual([]);
    // A read never shows the grant after its expiry, even before any worker revokes it.
    expect((await readContact(api, token, id)).accessRoles).toEqual([]);

    await startWorker();

    expect(await until(1, [id])).toMatchObject([{ reference, reason: 'expired' }]);
  }, 30_000);

  it('revokes each grant exactly once with two workers running', async () => {
    await startWorker();
    await startWorker();
    const reference = await aRole(api, token);
    const expires = inAbout(1_500);
    const ids = await Promise.all(Array.from({ length: 20 }, () => aUserWithGrants([{ reference, expires }])));

    await until(20, ids);
    await new Promise((r) => setTimeout(r, 1_000));

    const revoked = await revocationsOf(ids);
    expect(revoked).toHaveLength(20);
    expect(new Set(revoked.map((r) => r.stream_id)).size).toBe(20);
  }, 30_000);

  it('loses no expiry when a worker is killed while it revokes', async () => {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run npm run build (npm test does)`);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: api.config.DATABASE_URL,
      QUEUE_PREFIX: api.config.QUEUE_PREFIX,
      JOB_LOCK_DURATION: '2s',
      LOG_LEVEL: 'silent',
    };
    if (api.config.REDIS_URL) env.REDIS_URL = api.config.REDIS_URL;
    const child = spawn(process.execPath, [WORKER_MAIN], { env, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const reference = await aRole(api, token);
      const expires = inAbout(2_500);
      const ids = await Promise.all(Array.from({ length: 30 }, () => aUserWithGrants([{ reference, expires }])));

      // Kill it as soon as it has revoked the first grant: the others are queued or in hand.
      await until(1, ids);
      child.kill('SIGKILL');
      await exited;
      await startWorker();

      await until(30, ids, 25_000);
      await new Promise((r) => setTimeout(r, 1_000));
      const revoked = await revocationsOf(ids);
      expect(revoked).toHaveLength(30);
      expect(new Set(revoked.map((r) => r.stream_id)).size).toBe(30);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 45_000);
});
