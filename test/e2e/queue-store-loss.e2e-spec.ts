import type { INestApplicationContext } from '@nestjs/common';
import { formatAtom } from '@app/contacts';
import { deleteQueueKeys, openQueue, QUEUE_NAMES, queueBackendOf } from '@app/queues';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { aCreatedContact, aRole, aUserPayload, readContact } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { TickingClock } from '../support/ticking-clock.js';

/** Waits until `condition` holds, looking every 250 ms; fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const REPEATING_JOBS = { roles: 'sweep-expired', invites: 'sweep-unsent-invites', maintenance: 'forget-idempotency-keys' } as const;

// If the queue store loses everything, the repeating jobs come back by themselves and every grant
// past its expiry is revoked (DESIGN §13); both queue stores pass the same tests (DESIGN §4).
describe.each([
  ['Redis', {}],
  ['PostgreSQL', { REDIS_URL: '' }],
])('a queue store that lost its data, queues on %s', (_store, queueEnv: Record<string, string>) => {
  let api: TestApi;
  let token: string;
  let worker: INestApplicationContext | null = null;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'storeloss', clock: new TickingClock(), env: queueEnv }));
  });

  afterAll(async () => {
    await worker?.close();
    await api.close();
  });

  /** Everything the queue store held is gone: Redis flushed (this test's prefix), or every queue of the PostgreSQL backend obliterated. */
  async function wipeQueueStore(): Promise<void> {
    const backend = queueBackendOf(api.config);
    if (backend.kind === 'redis') {
      await deleteQueueKeys(backend.url, backend.prefix);
      return;
    }
    for (const name of QUEUE_NAMES) {
      const queue = openQueue(backend, name);
      try {
        await queue.obliterate({ force: true });
      } finally {
        await queue.close();
      }
    }
  }

  async function scheduled(): Promise<string[]> {
    const found: string[] = [];
    for (const name of QUEUE_NAMES) {
      const queue = openQueue(queueBackendOf(api.config), name);
      try {
        if (await queue.getJobScheduler(REPEATING_JOBS[name])) found.push(REPEATING_JOBS[name]);
      } finally {
        await queue.close();
      }
    }
    return found.sort();
  }

  async function revocationsOf(contactId: string): Promise<string[]> {
    const { rows } = await api.database.db.query<{ reason: string }>(
      `SELECT data->>'reason' AS reason FROM events WHERE type = 'RoleRevoked' AND stream_id = $1`,
      [contactId],
    );
    return rows.map((r) => r.reason);
  }

  it('schedules its repeating jobs again, and revokes a grant past its expiry, while the worker runs on', async () => {
    worker = await createWorker(api.config, { clock: api.clock, logs: false, scheduleCheckMs: 1_000 });
    expect(await scheduled()).toEqual(Object.values(REPEATING_JOBS).sort());
    const reference = await aRole(api, token);
    const expires = formatAtom(new Date(Math.ceil((api.clock.now().getTime() + 2_000) / 1000) * 1000), 'seconds');
    const contact = await aCreatedContact(api, token, aUserPayload({ accessRoles: [{ reference, expires }] }));
    // The grant's own job is lost first; then, past its expiry, everything else.
    const roles = openQueue(queueBackendOf(api.config), 'roles');
    try {
      const expiryJobs = async () => (await roles.getDelayed()).filter((job) => job.name === 'expire-role');
      await until(async () => (await expiryJobs()).length > 0, 5_000);
      for (const job of await expiryJobs()) await job.remove();
    } finally {
      await roles.close();
    }
    await new Promise((r) => setTimeout(r, new Date(expires).getTime() - Date.now() + 200));
    expect(await revocationsOf(contact.id)).toEqual([]);

    await wipeQueueStore();

    await until(async () => (await scheduled()).length === QUEUE_NAMES.length, 10_000);
    expect(await scheduled()).toEqual(Object.values(REPEATING_JOBS).sort());
    await until(async () => (await revocationsOf(contact.id)).length > 0, 10_000);
    expect(await revocationsOf(contact.id)).toEqual(['expired']);
    expect((await readContact(api, token, contact.id)).accessRoles).toEqual([]);
  }, 45_000);
});
