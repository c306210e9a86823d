import type { INestApplicationContext } from '@nestjs/common';
import { DEFAULT_JOB_OPTIONS, openQueue, queueBackendOf } from '@app/queues';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { aCreatedContact, aUserPayload, readContact, uniqueEmail } from '../support/contact-requests.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { TickingClock } from '../support/ticking-clock.js';

/** Waits until `condition` holds, looking every 100 ms; fails after `timeoutMs`. */
async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// An invite whose mail failed for longer than the job's retries is still mailed once the SMTP
// server is back (DESIGN §13); both queue stores pass the same tests (DESIGN §4).
describe.each([
  ['Redis', {}],
  ['PostgreSQL', { REDIS_URL: '' }],
])('an SMTP server down for longer than the retries, queues on %s', (_store, queueEnv: Record<string, string>) => {
  let api: TestApi;
  let token: string;
  let sink: SmtpSink;
  let worker: INestApplicationContext | null = null;

  beforeAll(async () => {
    sink = await startSmtpSink();
    ({ api, token } = await createTestApiWithToken({
      label: 'smtpoutage',
      clock: new TickingClock(),
      env: { SMTP_URL: sink.url, ...queueEnv },
    }));
  });

  afterAll(async () => {
    await worker?.close();
    await api.close();
    await sink.close();
  });

  it('mails the invite exactly once after its job failed every attempt', async () => {
    sink.beforeAccept = () => {
      throw new Error('try again later');
    };
    // Two quick attempts instead of ten over a quarter of an hour.
    const jobOptions = { ...DEFAULT_JOB_OPTIONS, attempts: 2, backoff: { type: 'fixed', delay: 100 } };
    worker = await createWorker(api.config, { clock: api.clock, logs: false, jobOptions });
    const email = uniqueEmail('outage');
    const contact = await aCreatedContact(api, token, aUserPayload({ email, password: undefined }), { invite: true });
    const { rows } = await api.database.db.query<{ position: string }>(
      `SELECT position::text FROM events WHERE stream_id = $1 AND type = 'InviteIssued'`,
      [contact.id],
    );
    const invites = openQueue(queueBackendOf(api.config), 'invites');
    try {
      await until(async () => (await invites.getJobState(`send-invite-${rows[0]?.position}`)) === 'failed', 15_000);
      expect(sink.mails.filter((m) => m.to === email)).toHaveLength(0);

      // The server answers again; a minute on, the unsent-invite sweep runs (as its schedule would).
      sink.beforeAccept = () => undefined;
      api.clock.advance(2 * 60_000);
      await invites.add('sweep-unsent-invites', {});

      await sink.waitFor(1, 15_000);
      // Long enough for a second mail, were one to come.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(sink.mails.filter((m) => m.to === email)).toHaveLength(1);
      await until(async () => (await readContact(api, token, contact.id)).invite?.status === 'sent', 5_000);
    } finally {
      await invites.close();
    }
  }, 60_000);
});
