import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { INestApplicationContext } from '@nestjs/common';
import { FixedClock } from '@app/config';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { aUserPayload, createContact, uniqueEmail } from '../support/contact-requests.js';
import { startSmtpSink, type CapturedMail, type SmtpSink } from '../support/smtp-sink.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

/** The built worker (npm test builds first): a real process, so the test can kill it outright. */
const WORKER_MAIN = fileURLToPath(new URL('../../dist/apps/worker/src/main.js', import.meta.url));

const INVITES = 40;

describe('invite mail with several workers', () => {
  let api: TestApi;
  let token: string;
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink();
    ({ api, token } = await createTestApiWithToken({
      label: 'inviteworkers',
      clock: new FixedClock(new Date()),
      // A killed worker's jobs are taken up once their 2 s lock runs out (production: 30 s).
      env: { SMTP_URL: sink.url, JOB_LOCK_DURATION: '2s' },
    }));
  });

  afterAll(async () => {
    await api.close();
    await sink.close();
  });

  async function inviteMany(label: string): Promise<string[]> {
    const emails = Array.from({ length: INVITES }, () => uniqueEmail(label));
    const responses = await Promise.all(
      emails.map((email) => createContact(api, token, aUserPayload({ email, password: undefined }), { invite: true })),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(emails.map(() => 201));
    return emails;
  }

  async function sentEventsTo(emails: string[]): Promise<number> {
    const { rows } = await api.database.db.query<{ count: string }>(
      `SELECT count(*) FROM events e JOIN contacts c ON c.id = e.stream_id WHERE e.type = 'InviteSent' AND c.email = ANY($1)`,
      [emails],
    );
    return Number(rows[0]?.count);
  }

  /** Waits until every address has mail, then a while longer so a duplicate would have time to arrive. */
  async function mailFor(emails: string[]): Promise<Map<string, CapturedMail[]>> {
    const wanted = new Set(emails);
    const deadline = Date.now() + 40_000;
    while (new Set(sink.mails.filter((m) => wanted.has(m.to)).map((m) => m.to)).size < wanted.size && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3_000));
    const byAddress = new Map<string, CapturedMail[]>(emails.map((e) => [e, []]));
    for (const mail of sink.mails) byAddress.get(mail.to)?.push(mail);
    return byAddress;
  }

  it('mails every invite exactly once when two workers run together', async () => {
    const workers: INestApplicationContext[] = [
      await createWorker(api.config, { clock: api.clock, logs: false }),
      await createWorker(api.config, { clock: api.clock, logs: false }),
    ];
    try {
      const emails = await inviteMany('two-workers');

      const mail = await mailFor(emails);

      expect([...mail.values()].map((m) => m.length)).toEqual(emails.map(() => 1));
      expect(await sentEventsTo(emails)).toBe(INVITES);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 60_000);

  it('mails every invite exactly once when a worker is killed in the middle of a batch', async () => {
    if (!existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: run npm run build (npm test does)`);
    const child: ChildProcess = spawn(process.execPath, [WORKER_MAIN], {
      env: { PATH: process.env.PATH, ...configEnv(api), LOG_LEVEL: 'silent' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let successor: INestApplicationContext | null = null;
    // The tenth mail kills the worker sending it. First every mail accepted so far must be recorded
    // as sent, and later ones are held and then refused: the kill lands mid-batch but outside the
    // one window the processor cannot close (accepted by the server, not yet recorded).
    let accepted = 0;
    let killing: Promise<void> | null = null;
    let killed = false;
    const emailsSoFar: string[] = [];
    sink.beforeAccept = async (mail) => {
      if (killed) return;
      if (killing) {
        await killing;
        throw new Error('the worker that sent this is gone');
      }
      accepted += 1;
      if (accepted < 10) {
        emailsSoFar.push(mail.to);
        return;
      }
      killing = (async () => {
        while ((await sentEventsTo(emailsSoFar)) < emailsSoFar.length) await new Promise((r) => setTimeout(r, 20));
        child.kill('SIGKILL');
        await exited;
        killed = true;
      })();
      await killing;
      throw new Error('the worker that sent this is gone');
    };
    try {
      const emails = await inviteMany('killed-worker');
      await waitUntil(() => killed, 30_000);
      expect(await exited).toBe('SIGKILL');
      successor = await createWorker(api.config, { clock: api.clock, logs: false });

      const mail = await mailFor(emails);

      expect([...mail.values()].map((m) => m.length)).toEqual(emails.map(() => 1));
      expect(await sentEventsTo(emails)).toBe(INVITES);
    } finally {
      sink.beforeAccept = () => undefined;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await successor?.close();
    }
  }, 90_000);
});

function configEnv(api: TestApi): Record<string, string> {
  const c = api.config;
  const env: Record<string, string> = {
    DATABASE_URL: c.DATABASE_URL,
    QUEUE_PREFIX: c.QUEUE_PREFIX,
    SMTP_URL: c.SMTP_URL ?? '',
    JOB_LOCK_DURATION: c.JOB_LOCK_DURATION,
    BCRYPT_COST: String(c.BCRYPT_COST),
  };
  if (c.REDIS_URL) env.REDIS_URL = c.REDIS_URL;
  return env;
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
