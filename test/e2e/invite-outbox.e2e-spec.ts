import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { simpleParser } from 'mailparser';
import { InviteTokens } from '@app/auth';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import { aCreatedContact, aUserPayload, readContact, uniqueEmail } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { TickingClock } from '../support/ticking-clock.js';

describe('invite mail without an SMTP server', () => {
  let api: TestApi;
  let token: string;
  let worker: INestApplicationContext;
  let outbox: string;

  beforeAll(async () => {
    outbox = await mkdtemp(join(tmpdir(), 'contacts-outbox-'));
    ({ api, token } = await createTestApiWithToken({
      label: 'inviteoutbox',
      clock: new TickingClock(),
      env: { MAIL_OUTBOX_DIR: outbox, PUBLIC_URL: 'http://localhost:3000' },
    }));
    worker = await createWorker(api.config, { clock: api.clock, logs: false });
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await rm(outbox, { recursive: true, force: true });
  });

  it('writes the mail as an .eml file in the outbox and records it as sent', async () => {
    const email = uniqueEmail('outbox');
    const contact = await aCreatedContact(api, token, aUserPayload({ email, firstname: 'Lin', lastname: 'Outbox', password: undefined }), {
      invite: true,
    });

    let files: string[] = [];
    for (let i = 0; i < 100 && files.length === 0; i++) {
      files = (await readdir(outbox)).filter((f) => f.endsWith('.eml'));
      if (files.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 50 && (await readContact(api, token, contact.id)).invite?.status !== 'sent'; i++)
      await new Promise((r) => setTimeout(r, 100));

    expect(files).toHaveLength(1);
    const mail = await simpleParser(await readFile(join(outbox, files[0] ?? '')));
    expect(mail.subject).toBe('Set your password');
    expect(Array.isArray(mail.to) ? mail.to[0]?.text : mail.to?.text).toBe(email);
    const link = /http:\/\/localhost:3000\/invites\/([A-Za-z0-9_-]{43})/.exec(mail.text ?? '');
    expect(link).not.toBeNull();
    const { rows } = await api.database.db.query<{ hash: string }>(
      `SELECT data->>'tokenHash' AS hash FROM events WHERE stream_id = $1 AND type = 'InviteIssued'`,
      [contact.id],
    );
    expect(rows[0]?.hash).toBe(InviteTokens.hash(link?.[1] ?? ''));
    expect((await readContact(api, token, contact.id)).invite?.status).toBe('sent');
  });
});
