import type { ContactView } from '@app/contacts';
import {
  aCreatedContact,
  aRole,
  aUserPayload,
  contactOf,
  countContacts,
  countEvents,
  createContact,
  errorsOf,
  get,
  post,
  problemOf,
  readContact,
  uniqueEmail,
  updateContact,
  type Response,
} from '../support/contact-requests.js';
import { inviteTokenOf } from '../support/invites.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const GOOD_PASSWORD = 'analytical-engine-1843';
const FORM = 'application/x-www-form-urlencoded';

/** A browser's visit to an invite page: the CSRF cookie it was given and the token in its form. */
interface Visit {
  cookie: string;
  csrf: string;
}

type StoredEvent = { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> };

describe('trust at the edges: the domain', () => {
  let api: TestApi;
  /** every scope, `roles` among them */
  let token: string;
  let contactsOnly: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'trustdomain' }));
    contactsOnly = await api.token(['contacts']);
  });
  afterAll(() => api.close());

  const eventsOf = async (id: string): Promise<StoredEvent[]> => {
    const { rows } = await api.database.db.query<StoredEvent>(
      'SELECT type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version',
      [id],
    );
    return rows;
  };

  const open = (inviteToken: string, cookie?: string): Promise<Response> =>
    api.http.inject({ method: 'GET', url: `/invites/${inviteToken}`, headers: cookie ? { cookie } : {} });

  const visit = async (inviteToken: string): Promise<{ page: Response; visit: Visit }> => {
    const page = await open(inviteToken);
    expect(page.statusCode).toBe(200);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const cookie = [page.headers['set-cookie'] ?? []].flat()[0]?.split(';')[0];
    if (!csrf || !cookie) throw new Error(`no CSRF token or cookie on the page: ${page.body}`);
    return { page, visit: { cookie, csrf } };
  };

  const submit = (inviteToken: string, visited: Visit, form: Record<string, string> = {}): Promise<Response> =>
    api.http.inject({
      method: 'POST',
      url: `/invites/${inviteToken}`,
      headers: { 'content-type': FORM, cookie: visited.cookie },
      payload: new URLSearchParams({ _csrf: visited.csrf, ...form }).toString(),
    });

  describe('bypassing approval is a roles decision', () => {
    it.each(['admin', 'email'] as const)(
      'refuses status active on an %s role to a contacts-only client: 403 at the status, nothing written',
      async (method) => {
        const none = await aRole(api, token, 'none');
        const gated = await aRole(api, token, method);
        const email = uniqueEmail('bypass');
        const [events, contacts] = [await countEvents(api), await countContacts(api)];

        const sut = await createContact(
          api,
          contactsOnly,
          aUserPayload({ email, accessRoles: [none, { reference: gated, status: 'active' }] }),
        );

        expect(sut.statusCode).toBe(403);
        expect(problemOf(sut).type).toMatch(/insufficient_scope/);
        expect(errorsOf(sut)).toEqual([{ pointer: '/contact/accessRoles/1/status', code: 'insufficient_scope' }]);
        expect(sut.body).not.toContain('secret123');
        expect([await countEvents(api), await countContacts(api)]).toEqual([events, contacts]);
        const listed = await get(api, token, `/api/contacts.json?email=${encodeURIComponent(email)}`);
        expect(listed.json<{ contacts: unknown[] }>().contacts).toEqual([]);
      },
    );

    it('refuses a contacts-only client that would activate a pending grant by an update, and leaves the grant pending', async () => {
      const admin = await aRole(api, token, 'admin');
      const before = await aCreatedContact(api, contactsOnly, aUserPayload({ accessRoles: [admin] }));
      const events = await eventsOf(before.id);

      const sut = await updateContact(api, contactsOnly, before.id, { accessRoles: [{ reference: admin, status: 'active' }] });

      expect(sut.statusCode).toBe(403);
      expect(errorsOf(sut)).toEqual([{ pointer: '/contact/accessRoles/0/status', code: 'insufficient_scope' }]);
      expect(await eventsOf(before.id)).toEqual(events);
      expect(await readContact(api, token, before.id)).toEqual(before);
    });

    it('lets a contacts-only client send status active on a role that needs no approval, or re-send an active grant', async () => {
      const none = await aRole(api, token, 'none');
      const admin = await aRole(api, token, 'admin');
      const created = await aCreatedContact(api, token, aUserPayload({ accessRoles: [{ reference: admin, status: 'active' }] }));

      const sut = await updateContact(api, contactsOnly, created.id, {
        accessRoles: [
          { reference: admin, status: 'active' },
          { reference: none, status: 'active' },
        ],
      });

      expect(sut.statusCode).toBe(200);
      expect(contactOf(sut).accessRoles).toEqual([
        { reference: admin, status: 'active', expires: null },
        { reference: none, status: 'active', expires: null },
      ]);
    });

    it('activates the grant at once for a client holding roles, and the event names that client', async () => {
      const admin = await aRole(api, token, 'admin');
      const email = await aRole(api, token, 'email');

      const created = contactOf(
        await createContact(api, token, aUserPayload({ accessRoles: [{ reference: admin, status: 'active' }, email] })),
      );
      const updated = contactOf(
        await updateContact(api, token, created.id, {
          accessRoles: [
            { reference: admin, status: 'active' },
            { reference: email, status: 'active' },
          ],
        }),
      );

      expect(updated.accessRoles).toEqual([
        { reference: admin, status: 'active', expires: null },
        { reference: email, status: 'active', expires: null },
      ]);
      const grants = (await eventsOf(created.id)).filter((e) => e.type === 'RoleGranted');
      expect(grants.map((e) => [e.data.reference, e.data.bypassedBy])).toEqual([
        [admin, grants[0]?.metadata.clientId],
        [email, undefined],
        [email, grants[0]?.metadata.clientId],
      ]);
      expect(grants[0]?.metadata.clientId).toEqual(expect.any(String));
      // the history shows it to auditors as well
      const history = await get(api, token, `/api/contacts/${created.id}/events.json`);
      const shown = history.json<{ events: { type: string; data: Record<string, unknown> }[] }>().events;
      expect(shown.filter((e) => e.type === 'RoleGranted')[0]?.data.bypassedBy).toBe(grants[0]?.metadata.clientId);
    });
  });

  describe('an invite belongs to an address', () => {
    const anInvitedUser = async (): Promise<{ contact: ContactView; link: string }> => {
      const contact = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });
      return { contact, link: await inviteTokenOf(api.database.db, contact.id) };
    };

    const expectGone = async (link: string, visited: Visit): Promise<void> => {
      for (const sut of [await open(link), await submit(link, visited, { password: GOOD_PASSWORD, confirmation: GOOD_PASSWORD })]) {
        expect(sut.statusCode).toBe(410);
        expect(sut.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(sut.body).toMatch(/no longer works/);
        expect(sut.body).not.toContain('<form');
      }
    };

    it('retires the pending invite when the email changes: the old link answers 410 and sets nothing', async () => {
      const { contact, link } = await anInvitedUser();
      const { visit: visited } = await visit(link);

      const sut = await updateContact(api, token, contact.id, { email: uniqueEmail('moved') });

      expect(sut.statusCode).toBe(200);
      expect(contactOf(sut).invite).toBeNull();
      await expectGone(link, visited);
      expect((await readContact(api, token, contact.id)).hasPassword).toBe(false);
      const retired = (await eventsOf(contact.id)).filter((e) => e.type === 'InviteRetired');
      expect(retired.map((e) => e.data.reason)).toEqual(['email_changed']);
      const history = await get(api, token, `/api/contacts/${contact.id}/events.json`);
      const shown = history.json<{ events: { type: string; data: Record<string, unknown> }[] }>().events;
      expect(shown.find((e) => e.type === 'InviteRetired')?.data).toEqual({ tokenHash: '[redacted]', reason: 'email_changed' });
    });

    it('retires the pending invite when a password is set through the API: the old link answers 410', async () => {
      const { contact, link } = await anInvitedUser();
      const { visit: visited } = await visit(link);

      const sut = await updateContact(api, token, contact.id, { password: 'chosen-by-the-shop-7' });

      expect(sut.statusCode).toBe(200);
      expect(contactOf(sut)).toMatchObject({ hasPassword: true, invite: null });
      await expectGone(link, visited);
      expect((await eventsOf(contact.id)).filter((e) => e.type === 'InviteRetired').map((e) => e.data.reason)).toEqual(['password_set']);
    });

    it('keeps the retired link at 410 after a new invite, which works', async () => {
      const { contact, link } = await anInvitedUser();
      const { visit: visited } = await visit(link);
      await updateContact(api, token, contact.id, { email: uniqueEmail('moved') });

      const again = await post(api, token, `/api/contacts/${contact.id}/invite.json`, {});

      expect(again.statusCode).toBe(202);
      await expectGone(link, visited);
      const fresh = await inviteTokenOf(api.database.db, contact.id);
      const { visit: freshVisit } = await visit(fresh);
      expect((await submit(fresh, freshVisit, { password: GOOD_PASSWORD, confirmation: GOOD_PASSWORD })).statusCode).toBe(200);
    });
  });

  describe('email-verification grants never dead-end', () => {
    it('sends a verification invite to a user with a password; confirming it activates every grant waiting for the email', async () => {
      const first = await aRole(api, token, 'email');
      const second = await aRole(api, token, 'email');
      const admin = await aRole(api, token, 'admin');
      const contact = await aCreatedContact(api, token, aUserPayload({ accessRoles: [first, second, admin] }));
      expect(contact.accessRoles.map((r) => r.status)).toEqual(['pending', 'pending', 'pending']);

      const invited = await post(api, token, `/api/contacts/${contact.id}/invite.json`, {});
      expect(invited.statusCode).toBe(202);
      const link = await inviteTokenOf(api.database.db, contact.id);
      const { page, visit: visited } = await visit(link);
      expect(page.body).toMatch(/<h1>Confirm your email<\/h1>/);
      expect(page.body).toMatch(/<button type="submit">Confirm email<\/button>/);
      expect(page.body).not.toMatch(/type="password"/);

      const sut = await submit(link, visited);

      expect(sut.statusCode).toBe(200);
      expect(sut.body).toMatch(/<h1>Your email is confirmed<\/h1>/);
      const after = await readContact(api, token, contact.id);
      expect(after.accessRoles).toEqual([
        { reference: first, status: 'active', expires: null },
        { reference: second, status: 'active', expires: null },
        { reference: admin, status: 'pending', expires: null, pendingReason: 'admin_approval' },
      ]);
      expect(after).toMatchObject({ hasPassword: true, invite: { status: 'accepted' } });
      const events = await eventsOf(contact.id);
      expect(events.slice(-3).map((e) => [e.type, e.data.reference ?? null, e.data.by ?? null])).toEqual([
        ['InviteAccepted', null, null],
        ['RoleActivated', first, 'email'],
        ['RoleActivated', second, 'email'],
      ]);
      expect(events.filter((e) => e.type === 'PasswordSet')).toHaveLength(1);
    });

    it('lets a user who accepted an invite get a new email grant activated by a second invite', async () => {
      const contact = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });
      const firstLink = await inviteTokenOf(api.database.db, contact.id);
      const { visit: firstVisit } = await visit(firstLink);
      expect((await submit(firstLink, firstVisit, { password: GOOD_PASSWORD, confirmation: GOOD_PASSWORD })).statusCode).toBe(200);
      const email = await aRole(api, token, 'email');
      const granted = contactOf(await updateContact(api, token, contact.id, { accessRoles: [email] }));
      expect(granted.accessRoles).toEqual([{ reference: email, status: 'pending', expires: null, pendingReason: 'email_verification' }]);

      const again = await post(api, token, `/api/contacts/${contact.id}/invite.json`, {});
      expect(again.statusCode).toBe(202);
      const link = await inviteTokenOf(api.database.db, contact.id);
      const { visit: visited } = await visit(link);
      const sut = await submit(link, visited);

      expect(sut.statusCode).toBe(200);
      expect((await readContact(api, token, contact.id)).accessRoles).toEqual([{ reference: email, status: 'active', expires: null }]);
      // the first link, used and then superseded, leads nowhere
      expect((await open(firstLink)).statusCode).toBe(404);
    });

    it('still asks a person without a password for one: an empty form is refused and writes nothing', async () => {
      const contact = await aCreatedContact(api, token, aUserPayload({ password: undefined }), { invite: true });
      const link = await inviteTokenOf(api.database.db, contact.id);
      const { page, visit: visited } = await visit(link);
      expect(page.body).toMatch(/type="password"/);
      const events = await eventsOf(contact.id);

      const sut = await submit(link, visited);

      expect(sut.statusCode).toBe(400);
      expect(await eventsOf(contact.id)).toEqual(events);
    });
  });
});
