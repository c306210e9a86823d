import type { INestApplicationContext } from '@nestjs/common';
import { InviteTokens } from '@app/auth';
import { FixedClock } from '@app/config';
import { createWorker } from '../../apps/worker/src/bootstrap.js';
import {
  aCreatedContact,
  aGuestPayload,
  aUserPayload,
  contactOf,
  createContact,
  errorsOf,
  post,
  readContact,
  uniqueEmail,
} from '../support/contact-requests.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const PUBLIC_URL = 'https://contacts.example.test';

// Both queue stores pass the same tests (DESIGN §4): Redis, and BullMQ's PostgreSQL backend when REDIS_URL is unset.
describe.each([
  ['Redis', {}],
  ['PostgreSQL', { REDIS_URL: '' }],
])('invite mail, queues on %s', (_store, queueEnv: Record<string, string>) => {
  let api: TestApi;
  let token: string;
  let sink: SmtpSink;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    sink = await startSmtpSink();
    // The worker judges expiry by the same clock as the API; a clock at the real time keeps BullMQ's own timers meaningful.
    ({ api, token } = await createTestApiWithToken({
      label: 'invitemail',
      clock: new FixedClock(new Date()),
      env: { SMTP_URL: sink.url, PUBLIC_URL, ...queueEnv },
    }));
    worker = await createWorker(api.config, { clock: api.clock, logs: false });
  });

  afterAll(async () => {
    await worker.close();
    await api.close();
    await sink.close();
  });

  const mailsTo = (email: string) => sink.mails.filter((m) => m.to === email);

  async function eventsOf(contactId: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
    const { rows } = await api.database.db.query<{ type: string; data: Record<string, unknown> }>(
      'SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [contactId],
    );
    return rows;
  }

  async function untilInviteStatus(contactId: string, status: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if ((await readContact(api, token, contactId)).invite?.status === status) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the invite of ${contactId} never became ${status}`);
  }

  it('mails an invited user a link to the invite page, then shows the invite as sent', async () => {
    const email = uniqueEmail('invited');
    const contact = await aCreatedContact(
      api,
      token,
      aUserPayload({ email, firstname: 'Ada', lastname: 'Lovelace', password: undefined }),
      { invite: true },
    );
    expect(contact.invite).toEqual({ status: 'pending', expiresAt: expect.any(String) });
    expect(contact.hasPassword).toBe(false);

    await sink.waitFor(sink.mails.length + 1);
    await untilInviteStatus(contact.id, 'sent');

    const [mail] = mailsTo(email);
    expect(mail?.subject).toBe('Set your password');
    expect(mail?.text).toContain('Hello Ada Lovelace');
    expect(mail?.html).toContain('Set your password');
    const link = mail?.link ?? '';
    expect(link.startsWith(`${PUBLIC_URL}/invites/`)).toBe(true);
    const tokenInLink = link.slice(`${PUBLIC_URL}/invites/`.length);
    expect(tokenInLink).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const events = await eventsOf(contact.id);
    const issued = events.find((e) => e.type === 'InviteIssued');
    // Only the hash of the link's token is stored, and the link carries the token that hash names.
    expect(issued?.data.tokenHash).toBe(InviteTokens.hash(tokenInLink));
    expect(JSON.stringify(events)).not.toContain(tokenInLink);
    expect(events.filter((e) => e.type === 'InviteSent')).toEqual([{ type: 'InviteSent', data: { tokenHash: issued?.data.tokenHash } }]);
  });

  it('sends a new invite from POST /api/contacts/{id}/invite.json with a new link, and answers 202', async () => {
    const email = uniqueEmail('reinvited');
    const contact = await aCreatedContact(api, token, aUserPayload({ email, password: undefined }), { invite: true });
    await untilInviteStatus(contact.id, 'sent');

    const response = await post(api, token, `/api/contacts/${contact.id}/invite.json`, {});

    expect(response.statusCode).toBe(202);
    expect(contactOf(response).invite?.status).toBe('pending');
    await untilInviteStatus(contact.id, 'sent');
    const links = mailsTo(email).map((m) => m.link);
    expect(links).toHaveLength(2);
    expect(links[0]).not.toBe(links[1]);
  });

  it('refuses an invite for a contact that is not a user', async () => {
    const guest = await aCreatedContact(api, token, aGuestPayload());

    const onCreate = await createContact(api, token, aGuestPayload(), { invite: true });
    const resend = await post(api, token, `/api/contacts/${guest.id}/invite.json`, {});

    expect(onCreate.statusCode).toBe(422);
    expect(errorsOf(onCreate)).toEqual([{ pointer: '/invite', code: 'invite_not_allowed' }]);
    expect(resend.statusCode).toBe(422);
    expect(errorsOf(resend)).toEqual([{ pointer: '/invite', code: 'invite_not_allowed' }]);
  });

  it('answers 404 to an invite for an unknown contact', async () => {
    const response = await post(api, token, '/api/contacts/8d6d4a52-3c4f-4d0e-9a55-0b8b1f1f6b11/invite.json', {});

    expect(response.statusCode).toBe(404);
  });

  it('retries a mail the SMTP server refuses for a while, and delivers it once', async () => {
    const email = uniqueEmail('retried');
    let refusals = 0;
    sink.beforeAccept = (mail) => {
      if (mail.to === email && refusals < 2) {
        refusals += 1;
        throw new Error('mailbox busy, try later');
      }
    };
    try {
      const contact = await aCreatedContact(api, token, aUserPayload({ email, password: undefined }), { invite: true });
      await untilInviteStatus(contact.id, 'sent');

      expect(refusals).toBe(2);
      expect(mailsTo(email)).toHaveLength(1);
    } finally {
      sink.beforeAccept = () => undefined;
    }
  });
});
