import type { ContactView } from '@app/contacts';
import {
  aCreatedContact,
  aRole,
  aUserPayload,
  errorsOf,
  get,
  readContact,
  updateContact,
  uniqueEmail,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

interface AuditEvent {
  position: number;
  streamId: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

const ATOM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?\+00:00$/;

describe('audit', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'audit' }));
  });

  afterAll(() => api.close());

  const eventsOf = (response: { json: <T>() => T }): AuditEvent[] => response.json<{ events: AuditEvent[] }>().events;

  describe('GET /api/contacts/{id}/events.json', () => {
    it('lists every event of the contact in version order, with who caused it, and hides password and token hashes', async () => {
      const contact = await aCreatedContact(api, token, aUserPayload({ password: 'secret123' }), { invite: true });
      await updateContact(
        api,
        token,
        contact.id,
        { firstname: 'Renamed', password: 'another456' },
        {},
        { 'x-correlation-id': 'audit-corr-1' },
      );

      const sut = await get(api, token, `/api/contacts/${contact.id}/events.json`);

      expect(sut.statusCode).toBe(200);
      const events = eventsOf(sut);
      // a password set through the API retires the pending invite (trust-domain.e2e-spec.ts)
      expect(events.map((e) => e.type)).toEqual([
        'ContactCreated',
        'PasswordSet',
        'InviteIssued',
        'ContactUpdated',
        'PasswordSet',
        'InviteRetired',
      ]);
      expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events.every((e) => e.streamId === contact.id && ATOM.test(e.recordedAt) && Number.isInteger(e.position))).toBe(true);
      expect(events[1]?.data).toEqual({ passwordHash: '[redacted]' });
      expect(events[2]?.data).toEqual({ tokenHash: '[redacted]', expiresAt: expect.stringMatching(ATOM) });
      expect(events[5]?.data).toEqual({ tokenHash: '[redacted]', reason: 'password_set' });
      expect(events[3]).toMatchObject({
        data: { firstname: 'Renamed' },
        metadata: { correlationId: 'audit-corr-1', clientId: expect.any(String), requestId: expect.any(String) },
      });
      expect(sut.body).not.toMatch(/\$2[aby]\$/);
    });

    it('needs the audit scope', async () => {
      const contact = await aCreatedContact(api, token, aUserPayload());
      const noAudit = await api.token(['contacts']);

      expect((await get(api, noAudit, `/api/contacts/${contact.id}/events.json`)).statusCode).toBe(403);
      expect((await get(api, null, `/api/contacts/${contact.id}/events.json`)).statusCode).toBe(401);
    });

    it('answers 404 for an unknown or malformed id', async () => {
      expect((await get(api, token, '/api/contacts/2f1b1c1e-0b0b-4c4c-8d8d-9e9e9e9e9e9e/events.json')).statusCode).toBe(404);
      expect((await get(api, token, '/api/contacts/nope/events.json')).statusCode).toBe(404);
    });
  });

  describe('GET /api/events.json', () => {
    it('pages through every event in commit order with after, and filters by type and stream', async () => {
      const first = await aCreatedContact(api, token, aUserPayload());
      const second = await aCreatedContact(api, token, aUserPayload());
      await updateContact(api, token, first.id, { lastname: 'Later' });

      const all: AuditEvent[] = [];
      let after = 0;
      // A transaction running anywhere on the server holds the feed back a moment: an empty page
      // before our five events arrived means "not yet", so wait and ask again.
      for (let waits = 0; waits < 100;) {
        const page = await get(api, token, `/api/events.json?after=${after}&limit=2`);
        expect(page.statusCode).toBe(200);
        const events = eventsOf(page);
        expect(events.length).toBeLessThanOrEqual(2);
        all.push(...events);
        after = events.at(-1)?.position ?? after;
        if (events.length > 0) continue;
        if (all.filter((e) => e.streamId === first.id || e.streamId === second.id).length >= 5) break;
        waits += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
      const ours = all.filter((e) => e.streamId === first.id || e.streamId === second.id);
      expect(ours.map((e) => `${e.streamId === first.id ? 'first' : 'second'}:${e.type}`)).toEqual([
        'first:ContactCreated',
        'first:PasswordSet',
        'second:ContactCreated',
        'second:PasswordSet',
        'first:ContactUpdated',
      ]);
      expect(new Set(all.map((e) => e.position)).size).toBe(all.length);
      expect(JSON.stringify(all)).not.toMatch(/\$2[aby]\$/);

      const updates = eventsOf(await get(api, token, `/api/events.json?type=ContactUpdated&streamId=${first.id}`));
      expect(updates).toEqual([expect.objectContaining({ type: 'ContactUpdated', streamId: first.id, data: { lastname: 'Later' } })]);
    });

    it.each([
      ['after=abc', '/query/after', 'invalid_after'],
      ['after=-1', '/query/after', 'invalid_after'],
      ['after=999999999999', '/query/after', 'unknown_position'],
      ['limit=0', '/query/limit', 'invalid_limit'],
      ['limit=1001', '/query/limit', 'invalid_limit'],
      ['type=Nonsense', '/query/type', 'invalid_type'],
      ['streamId=12', '/query/streamId', 'invalid_stream_id'],
    ])('refuses %s with a 422 that points at the parameter', async (query, pointer, code) => {
      const sut = await get(api, token, `/api/events.json?${query}`);

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer, code }]);
    });

    it('needs the audit scope', async () => {
      expect((await get(api, await api.token(['contacts.readonly']), '/api/events.json')).statusCode).toBe(403);
    });
  });

  describe('GET /api/contacts/{id}.json?asOf=', () => {
    it('shows the contact as it was at each moment of its history', async () => {
      api.clock.set(new Date('2026-02-01T09:00:00Z'));
      const reference = await aRole(api, token, 'none');
      const email = uniqueEmail('asof');
      const contact = await aCreatedContact(
        api,
        token,
        aUserPayload({ email, firstname: 'Before', accessRoles: [{ reference, expires: '2026-02-01T12:00:00+00:00' }] }),
      );
      api.clock.set(new Date('2026-02-01T10:00:00Z'));
      await updateContact(api, token, contact.id, { firstname: 'After' });
      api.clock.set(new Date('2026-02-01T13:00:00Z'));

      const at = async (moment: string): Promise<ContactView> => {
        const response = await get(api, token, `/api/contacts/${contact.id}.json?asOf=${encodeURIComponent(moment)}`);
        expect(response.statusCode).toBe(200);
        return response.json<{ contact: ContactView }>().contact;
      };

      const created = await at('2026-02-01T09:30:00+00:00');
      const renamed = await at('2026-02-01T11:00:00+01:00'); // 10:00 UTC, the moment of the update
      const expired = await at('2026-02-01T12:00:00+00:00');

      expect(created).toMatchObject({
        firstname: 'Before',
        version: 3,
        accessRoles: [{ reference, status: 'active', expires: '2026-02-01T12:00:00+00:00' }],
      });
      expect(renamed).toMatchObject({ firstname: 'After', version: 4, accessRoles: [{ reference }] });
      // The grant's expiry had passed by noon: as of then it is not shown, though no event revoked it.
      expect(expired).toMatchObject({ firstname: 'After', accessRoles: [] });
      expect(await at('2026-02-01T13:00:00+00:00')).toEqual(await readContact(api, token, contact.id));
      api.clock.set(new Date('2026-01-15T10:00:00Z'));
    });

    it('answers 404 before the contact existed, 422 for a date that is not ATOM, 403 without the audit scope', async () => {
      const contact = await aCreatedContact(api, token, aUserPayload());

      const before = await get(api, token, `/api/contacts/${contact.id}.json?asOf=2020-01-01T00:00:00%2B00:00`);
      const invalid = await get(api, token, `/api/contacts/${contact.id}.json?asOf=yesterday`);
      const noAudit = await get(api, await api.token(['contacts']), `/api/contacts/${contact.id}.json?asOf=2030-01-01T00:00:00%2B00:00`);

      expect(before.statusCode).toBe(404);
      expect(invalid.statusCode).toBe(422);
      expect(errorsOf(invalid)).toEqual([{ pointer: '/query/asOf', code: 'invalid_date' }]);
      expect(noAudit.statusCode).toBe(403);
    });
  });
});
