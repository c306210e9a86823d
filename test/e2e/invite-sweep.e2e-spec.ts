import type { INestApplicationContext } from '@nestjs/common';
import { openQueue, queueBackendOf } from '@app/queues';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { aCreatedContact, aUserPayload, readContact, uniqueEmail } from '../support/contact-requests.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { passDispatcherOverTheLog } from '../support/test-database.js';
import { TickingClock } from '../support/ticking-clock.js';

// Postgres is the source of truth, the queue store may lose its jobs: invites too (DESIGN §3.6).
describe.each([
  ['Redis', {}],
  ['PostgreSQL', { REDIS_URL: '' }],
])('invite mails the queue store lost, queues on %s', (_store, queueEnv: Record<string, string>) => {
  let api: TestApi;
  let token: string;
  let sink: SmtpSink;
  let worker: INestApplicationContext | null = null;

  beforeAll(async () => {
    sink = await startSmtpSink();
    ({ api, token } = await createTestApiWithToken({
      label: 'invitesweep',
      clock: new TickingClock(),
      env: { SMTP_URL: sink.url, ...queueEnv },
    }));
  });

  afterAll(async () => {
    await worker?.close();
    await api.close();
    await sink.close();
  });

  const mailsTo = (email: string): number => sink.mails.filter((m) => m.to === email).length;
  const anInvitedUser = (email: string) => aCreatedContact(api, token, aUserPayload({ email, password: undefined }), { invite: true });

  /** As if the dispatcher had added every job so far and the queue store then lost them all. */
  async function loseEveryJob(): Promise<void> {
    await passDispatcherOverTheLog(api.database.db);
    const queue = openQueue(queueBackendOf(api.config), 'invites');
    try {
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }

  it('mails, when the worker starts, an invite still unsent a minute after it was issued; never one sent, expired or just issued', async () => {
    worker = await createWorker(api.config, { clock: api.clock, logs: false });
    const sentEmail = uniqueEmail('sent');
    const sent = await anInvitedUser(sentEmail);
    await sink.waitFor(1);
    for (let i = 0; i < 100 && (await readContact(api, token, sent.id)).invite?.status !== 'sent'; i++)
      await new Promise((r) => setTimeout(r, 50));
    await worker.close();
    worker = null;

    const lostEmail = uniqueEmail('lost');
    const lost = await anInvitedUser(lostEmail);
    const expiredEmail = uniqueEmail('expired');
    api.clock.advance(-8 * 24 * 3600_000);
    await anInvitedUser(expiredEmail);
    api.clock.advance(8 * 24 * 3600_000 + 2 * 60_000);
    const recentEmail = uniqueEmail('recent');
    await anInvitedUser(recentEmail);
    await loseEveryJob();
    expect(mailsTo(lostEmail)).toBe(0);

    worker = await createWorker(api.config, { clock: api.clock, logs: false });
    await sink.waitFor(2);
    // Long enough for a wrong second mail (or one of the others) to arrive too.
    await new Promise((r) => setTimeout(r, 1_500));

    expect(mailsTo(lostEmail)).toBe(1);
    expect(mailsTo(sentEmail)).toBe(1);
    expect(mailsTo(expiredEmail)).toBe(0);
    expect(mailsTo(recentEmail)).toBe(0);
    for (let i = 0; i < 100 && (await readContact(api, token, lost.id)).invite?.status !== 'sent'; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await readContact(api, token, lost.id)).invite?.status).toBe('sent');
  }, 30_000);
});
