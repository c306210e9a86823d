import { createHash } from 'node:crypto';
import type { FixedClock } from '@app/config';
import { canonicalJson } from '@app/event-store';
import {
  aCreatedContact,
  aGuestPayload,
  aUserPayload,
  contactOf,
  countCreatedEvents,
  countEvents,
  errorsOf,
  get,
  post,
  problemOf,
  totalWithEmail,
  uniqueEmail,
  uniqueReference,
  updateContact,
  type Body,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const HOUR = 3_600_000;

describe('Idempotency-Key on POST /api', () => {
  let api: TestApi;
  let clock: FixedClock;
  let token: string;
  let keySequence = 0;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'idempotency' }));
    clock = api.clock;
  });
  afterAll(() => api.close());

  /** A key no other test uses. */
  const aKey = (): string => `key-${++keySequence}-${Math.random().toString(36).slice(2)}`;
  const keyed = (key: string, extra: Record<string, string> = {}): Record<string, string> => ({ 'idempotency-key': key, ...extra });
  const createWithKey = (key: string, contact: Body, as = token): Promise<Response> =>
    post(api, as, '/api/contacts.json', { contact }, keyed(key));
  const updateWithKey = (key: string, id: string, contact: Body, headers: Record<string, string> = {}): Promise<Response> =>
    updateContact(api, token, id, contact, {}, keyed(key, headers));

  const streamVersion = async (id: string): Promise<number> => {
    const { rows } = await api.database.db.query<{ version: number | null }>(
      'SELECT max(stream_version) AS version FROM events WHERE stream_id = $1',
      [id],
    );
    return Number(rows[0]?.version);
  };

  describe('a repeat of a completed request', () => {
    it('gets the first response again (status, body, Location, ETag) marked Idempotent-Replayed, and writes nothing', async () => {
      const key = aKey();
      const contact = aUserPayload();
      const first = await createWithKey(key, contact);
      expect(first.statusCode).toBe(201);
      const events = await countEvents(api);

      const sut = await createWithKey(key, contact);

      expect(sut.statusCode).toBe(201);
      expect(sut.json()).toEqual(first.json());
      expect(sut.body).toBe(first.body);
      expect(sut.headers.location).toBe(first.headers.location);
      expect(sut.headers.etag).toBe(first.headers.etag);
      expect(sut.headers['content-type']).toMatch(/^application\/json/);
      expect(sut.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(await countEvents(api)).toBe(events);
      expect(await totalWithEmail(api, token, contact.email as string)).toBe(1);
    });

    it('is recognised whatever order the body lists its keys in', async () => {
      const key = aKey();
      const contact = aGuestPayload();
      const first = await createWithKey(key, contact);
      const reordered = Object.fromEntries(Object.entries(contact).reverse());

      const sut = await post(api, token, '/api/contacts.json', { contact: reordered }, keyed(key));

      expect(sut.statusCode).toBe(201);
      expect(sut.headers['idempotent-replayed']).toBe('true');
      expect(contactOf(sut).id).toBe(contactOf(first).id);
    });

    it('replays an update: the contact is changed once, its version advanced once', async () => {
      const created = await aCreatedContact(api, token, aGuestPayload());
      const key = aKey();
      const first = await updateWithKey(key, created.id, { firstname: 'Once' }, { 'if-match': `"${created.version}"` });
      expect(first.statusCode).toBe(200);
      expect(contactOf(first).version).toBe(created.version + 1);

      const sut = await updateWithKey(key, created.id, { firstname: 'Once' }, { 'if-match': `"${created.version}"` });

      // Without the key this repeat would be refused as stale (412); with it, it gets the first answer.
      expect(sut.statusCode).toBe(200);
      expect(sut.headers['idempotent-replayed']).toBe('true');
      expect(sut.headers.etag).toBe(`"${created.version + 1}"`);
      expect(sut.json()).toEqual(first.json());
      expect(await streamVersion(created.id)).toBe(created.version + 1);
      const read = await get(api, token, `/api/contacts/${created.id}.json`);
      expect(contactOf(read)).toMatchObject({ firstname: 'Once', version: created.version + 1 });
    });

    it('replays a role creation instead of refusing the second one as a duplicate', async () => {
      const key = aKey();
      const role = { reference: uniqueReference('keyed'), title: 'Keyed', approvalMethod: 'none' };
      const first = await post(api, token, '/api/roles.json', { role }, keyed(key));
      expect(first.statusCode).toBe(201);

      const sut = await post(api, token, '/api/roles.json', { role }, keyed(key));

      expect(sut.statusCode).toBe(201);
      expect(sut.headers['idempotent-replayed']).toBe('true');
      expect(sut.json()).toEqual({ role });
      const without = await post(api, token, '/api/roles.json', { role });
      expect(without.statusCode).toBe(409);
    });
  });

  describe('concurrent requests with one key', () => {
    const lockWaiters = async (): Promise<number> => {
      const { rows } = await api.database.db.query<{ count: string }>(
        `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return Number(rows[0]?.count);
    };

    /**
     * Sends the requests while the key table refuses writes, until `waiters` of them are queued
     * there: they have all looked the key up and found nothing, so they truly race for it.
     */
    const racing = async (waiters: number, send: () => Promise<Response>[]): Promise<Response[]> => {
      const blocker = await api.database.db.pool.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE idempotency_keys IN SHARE MODE');
        const responses = Promise.all(send());
        for (let i = 0; (await lockWaiters()) < waiters; i += 1) {
          if (i > 500) throw new Error(`fewer than ${waiters} requests ever reached the key table`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await blocker.query('COMMIT');
        return await responses;
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        blocker.release();
      }
    };

    it('create ONE contact out of 30, and every one of the 30 gets its 201 and body', async () => {
      const key = aKey();
      const contact = aUserPayload();

      // The API's pool holds 20 connections: the first 10 or more race inside the database, the
      // rest arrive once the winner has committed.
      const sut = await racing(10, () => Array.from({ length: 30 }, () => createWithKey(key, contact)));

      expect(sut.map((r) => r.statusCode)).toEqual(Array<number>(30).fill(201));
      const [first] = sut;
      for (const response of sut) {
        expect(response.json()).toEqual(first?.json());
        expect(response.headers.location).toBe(first?.headers.location);
      }
      expect(sut.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      expect(await totalWithEmail(api, token, contact.email as string)).toBe(1);
      expect(await countCreatedEvents(api, contact.email as string)).toBe(1);
    });

    it('update a contact once out of 10', async () => {
      const created = await aCreatedContact(api, token, aUserPayload());
      const key = aKey();
      // invite: true issues a new invite each time it runs, so every run would show in the version.
      const update = { contact: { lastname: 'Concurrent' }, invite: true };

      const sut = await racing(10, () =>
        Array.from({ length: 10 }, () => post(api, token, `/api/contacts/${created.id}.json`, update, keyed(key))),
      );

      expect(sut.map((r) => r.statusCode)).toEqual(Array<number>(10).fill(200));
      expect(sut.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      const versions = new Set(sut.map((r) => contactOf(r).version));
      expect(versions.size).toBe(1);
      expect(await streamVersion(created.id)).toBe([...versions][0]);
      const invites = await api.database.db.query(`SELECT 1 FROM events WHERE stream_id = $1 AND type = 'InviteIssued'`, [created.id]);
      expect(invites.rowCount).toBe(1);
    });

    it('create ONE role out of 10', async () => {
      const key = aKey();
      const role = { reference: uniqueReference('race'), title: 'Race', approvalMethod: 'admin' };

      const sut = await racing(10, () => Array.from({ length: 10 }, () => post(api, token, '/api/roles.json', { role }, keyed(key))));

      expect(sut.map((r) => r.statusCode)).toEqual(Array<number>(10).fill(201));
      expect(sut.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      const roles = (await get(api, token, '/api/roles.json')).json<{ roles: { reference: string }[] }>().roles;
      expect(roles.filter((r) => r.reference === role.reference)).toHaveLength(1);
    });
  });

  describe('a key reused for a different request', () => {
    it('is refused with 422 idempotency_key_reused pointing at the header, and writes nothing', async () => {
      const key = aKey();
      const first = await createWithKey(key, aGuestPayload());
      expect(first.statusCode).toBe(201);
      const events = await countEvents(api);
      const other = aGuestPayload();

      const sut = await createWithKey(key, other);

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '', code: 'idempotency_key_reused' }]);
      expect(problemOf(sut).errors[0]?.message).toMatch(/Idempotency-Key/);
      expect(await countEvents(api)).toBe(events);
      expect(await totalWithEmail(api, token, other.email as string)).toBe(0);
    });

    it('is refused on another route', async () => {
      const key = aKey();
      const created = await createWithKey(key, aGuestPayload());
      expect(created.statusCode).toBe(201);

      const sut = [
        await post(
          api,
          token,
          '/api/roles.json',
          { role: { reference: uniqueReference(), title: 'T', approvalMethod: 'none' } },
          keyed(key),
        ),
        await updateWithKey(key, contactOf(created).id, { firstname: 'Other' }),
      ];

      expect(sut.map((r) => r.statusCode)).toEqual([422, 422]);
      for (const response of sut) expect(errorsOf(response)).toEqual([{ pointer: '', code: 'idempotency_key_reused' }]);
      expect(await streamVersion(contactOf(created).id)).toBe(contactOf(created).version);
    });

    it('is refused with another If-Match on the same update', async () => {
      const created = await aCreatedContact(api, token, aGuestPayload());
      const key = aKey();
      expect((await updateWithKey(key, created.id, { firstname: 'A' })).statusCode).toBe(200);

      const sut = await updateWithKey(key, created.id, { firstname: 'A' }, { 'if-match': `"${created.version}"` });

      expect(sut.statusCode).toBe(422);
      expect(errorsOf(sut)).toEqual([{ pointer: '', code: 'idempotency_key_reused' }]);
    });
  });

  describe('keys', () => {
    it('keep nothing a password could be guessed from: the stored fingerprint is keyed with the server secret', async () => {
      const key = aKey();
      const contact = aUserPayload({ password: 'guessable1' });
      expect((await createWithKey(key, contact)).statusCode).toBe(201);

      const { rows } = await api.database.db.query<{ fingerprint: string; body: string }>(
        'SELECT fingerprint, body::text AS body FROM idempotency_keys WHERE key = $1',
        [key],
      );

      const plain = createHash('sha256')
        .update(`POST\n/api/contacts.json\n\n${canonicalJson({ contact })}`)
        .digest('hex');
      expect(rows[0]?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]?.fingerprint).not.toBe(plain);
      expect(rows[0]?.body).not.toContain('guessable1');
    });

    it('belong to their client: another client using the same key makes its own contact', async () => {
      const key = aKey();
      const otherToken = await api.token();
      const contact = aGuestPayload();
      const mine = await createWithKey(key, contact);

      const sut = await createWithKey(key, contact, otherToken);

      expect([mine.statusCode, sut.statusCode]).toEqual([201, 201]);
      expect(sut.headers['idempotent-replayed']).toBeUndefined();
      expect(contactOf(sut).id).not.toBe(contactOf(mine).id);
      expect(await totalWithEmail(api, token, contact.email as string)).toBe(2);
    });

    it('do not keep refusals: a refused request retried with its key is judged again', async () => {
      const taken = await aCreatedContact(api, token, aUserPayload());
      const key = aKey();
      const contact = aUserPayload({ email: taken.email });
      const refused = await createWithKey(key, contact);
      expect(refused.statusCode).toBe(409);
      // The email is freed, so the very same request can now succeed.
      expect((await post(api, token, `/api/contacts/${taken.id}.json`, { contact: { email: uniqueEmail('moved') } })).statusCode).toBe(200);

      const sut = await createWithKey(key, contact);

      expect(sut.statusCode).toBe(201);
      expect(sut.headers['idempotent-replayed']).toBeUndefined();
      expect(contactOf(sut).email).toBe(taken.email);
    });

    it('are free again after 24 hours: the request runs fresh', async () => {
      const key = aKey();
      const contact = aGuestPayload();
      const first = await createWithKey(key, contact);
      const started = clock.now();
      try {
        clock.advance(24 * HOUR - 1_000);
        const within = await createWithKey(key, contact);
        clock.advance(1_000);

        const sut = await createWithKey(key, contact);

        expect(within.headers['idempotent-replayed']).toBe('true');
        expect(sut.statusCode).toBe(201);
        expect(sut.headers['idempotent-replayed']).toBeUndefined();
        expect(contactOf(sut).id).not.toBe(contactOf(first).id);
        expect(await totalWithEmail(api, token, contact.email as string)).toBe(2);
      } finally {
        clock.set(started);
      }
    });

    it('may be 255 printable ASCII characters, spaces and punctuation included', async () => {
      const key = `${' !"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'}${'k'.repeat(223)}`.slice(0, 255).replace(/^ /, 'x');
      expect(key).toHaveLength(255);

      const sut = await createWithKey(key, aGuestPayload());

      expect(sut.statusCode).toBe(201);
    });

    it.each([
      ['empty', ''],
      ['256 characters long', 'k'.repeat(256)],
      ['not ASCII', 'clé-1'],
      ['holding a control character', 'key\u0001one'],
    ])('are refused with 400 invalid_idempotency_key when %s, writing nothing', async (_case, key) => {
      const events = await countEvents(api);

      const sut = await api.http.inject({
        method: 'POST',
        url: '/api/contacts.json',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        payload: JSON.stringify({ contact: aGuestPayload() }),
      });

      expect(sut.statusCode).toBe(400);
      expect(errorsOf(sut)).toEqual([{ pointer: '', code: 'invalid_idempotency_key' }]);
      expect(problemOf(sut).errors[0]?.message).toMatch(/Idempotency-Key/);
      expect(await countEvents(api)).toBe(events);
    });
  });
});
