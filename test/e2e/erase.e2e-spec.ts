import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { ContactView } from '@app/contacts';
import { verifyChains } from '@app/event-store';
import { CheckFailed, run } from '../../apps/cli/src/cli.js';
import {
  aCreatedContact,
  anAddressPayload,
  aUserPayload,
  get,
  post,
  problemOf,
  updateContact,
  type Body,
  type Response,
} from '../support/contact-requests.js';
import { until } from '../support/polling.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

interface HistoryItem {
  position: number;
  streamId: string;
  version: number;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recordedAt: string;
}

/** A person whose every value is unique to this test run, so a scan for it finds only this person. */
function aPerson(): { payload: Body; values: string[] } {
  const mark = randomUUID().slice(0, 8);
  const values = {
    firstname: `Zephyrine${mark}`,
    lastname: `Quillfeather${mark}`,
    email: `zq-${mark}@erasure.example`,
    company: `Quillworks${mark}`,
    tag: `tag-${mark}`,
    line1: `${mark} Marigold Lane`,
  };
  return {
    payload: aUserPayload({
      firstname: values.firstname,
      lastname: values.lastname,
      email: values.email,
      company: values.company,
      tags: { contact: [values.tag] },
      address: anAddressPayload({ line1: values.line1 }),
    }),
    values: Object.values(values),
  };
}

const expectErased = (response: Response): void => {
  expect(response.statusCode).toBe(410);
  const problem = problemOf(response);
  expect(problem).toMatchObject({ type: '/problems/contact_erased', status: 410 });
  expect(problem.errors).toContainEqual(expect.objectContaining({ code: 'contact_erased' }));
};

describe('erasing a person’s data', () => {
  let api: TestApi;
  let token: string;
  let clientId: string;

  beforeAll(async () => {
    api = await createTestApi({ label: 'erase' });
    const client = await api.client(['contacts', 'roles', 'audit', 'privacy']);
    clientId = client.client_id;
    const response = await api.http.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret },
    });
    token = response.json<{ access_token: string }>().access_token;
  });
  afterAll(() => api.close());

  const erase = (id: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    post(api, token, `/api/contacts/${id}/erase.json`, body, headers);
  const history = async (id: string): Promise<HistoryItem[]> => {
    const response = await get(api, token, `/api/contacts/${id}/events.json`);
    expect(response.statusCode).toBe(200);
    return response.json<{ events: HistoryItem[] }>().events;
  };
  /** A contact with a history: created with every personal field, then updated. */
  const aPersonWithHistory = async (): Promise<{ contact: ContactView; values: string[] }> => {
    const { payload, values } = aPerson();
    const contact = await aCreatedContact(api, token, payload);
    expect(
      (await updateContact(api, token, contact.id, { firstname: `${values[0]}-2` }, {}, { 'idempotency-key': randomUUID() })).statusCode,
    ).toBe(200);
    return { contact, values };
  };

  it('answers 200 with the erasure, and a repeat answers the same erasure', async () => {
    const { contact } = await aPersonWithHistory();

    const first = await erase(contact.id, { reason: 'Art. 17 request 2026-01-15' });
    const repeat = await erase(contact.id, { reason: 'another reason' });

    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      erasure: { contactId: contact.id, erasedAt: '2026-01-15T10:00:00+00:00', reason: 'Art. 17 request 2026-01-15' },
    });
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toEqual(first.json());
    expect((await history(contact.id)).filter((e) => e.type === 'ContactErased')).toHaveLength(1);
  });

  it('erases a deleted contact too', async () => {
    const { contact } = await aPersonWithHistory();
    const removed = await api.http.inject({
      method: 'DELETE',
      url: `/api/contacts/${contact.id}.json`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(removed.statusCode).toBe(204);

    expect((await erase(contact.id, { reason: 'after deletion' })).statusCode).toBe(200);
  });

  it('answers 404 for an unknown id', async () => {
    expect((await erase(UNKNOWN_ID, { reason: 'x' })).statusCode).toBe(404);
    expect((await erase('not-a-uuid', { reason: 'x' })).statusCode).toBe(404);
  });

  it.each<[string, unknown]>([
    ['no reason', {}],
    ['an empty reason', { reason: '' }],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }],
    ['a reason that is not a string', { reason: 42 }],
  ])('refuses %s with 422 pointing at /reason, and writes nothing', async (_case, body) => {
    const { contact } = await aPersonWithHistory();
    const before = await history(contact.id);

    const response = await erase(contact.id, body);

    expect(response.statusCode).toBe(422);
    expect(problemOf(response).errors).toContainEqual(expect.objectContaining({ pointer: '/reason' }));
    expect(await history(contact.id)).toEqual(before);
  });

  it('needs the privacy scope', async () => {
    const { contact } = await aPersonWithHistory();
    const other = await api.token(['contacts', 'audit']);
    expect((await post(api, other, `/api/contacts/${contact.id}/erase.json`, { reason: 'x' })).statusCode).toBe(403);
  });

  it('answers 410 contact_erased to a read (live or asOf), an update, an invite, an export and a deletion', async () => {
    const { contact } = await aPersonWithHistory();
    expect((await erase(contact.id, { reason: 'gone' })).statusCode).toBe(200);

    expectErased(await get(api, token, `/api/contacts/${contact.id}.json`));
    expectErased(await get(api, token, `/api/contacts/${contact.id}.json?asOf=${encodeURIComponent('2026-01-15T09:00:00+00:00')}`));
    expectErased(await updateContact(api, token, contact.id, { firstname: 'New' }));
    expectErased(await post(api, token, `/api/contacts/${contact.id}/invite.json`, {}));
    expectErased(await get(api, token, `/api/contacts/${contact.id}/export.json`));
    expectErased(
      await api.http.inject({ method: 'DELETE', url: `/api/contacts/${contact.id}.json`, headers: { authorization: `Bearer ${token}` } }),
    );
  });

  it('keeps every event in the history and the feed with its envelope, every personal value "[erased]"', async () => {
    const { contact, values } = await aPersonWithHistory();
    const before = await history(contact.id);

    expect((await erase(contact.id, { reason: 'history' })).statusCode).toBe(200);

    const after = await history(contact.id);
    expect(after).toHaveLength(before.length + 1);
    after.slice(0, -1).forEach((event, i) => {
      const { data: _, ...envelope } = before[i] as HistoryItem;
      expect(event).toMatchObject(envelope);
    });
    expect(after[0]?.data).toMatchObject({
      firstname: '[erased]',
      lastname: '[erased]',
      email: '[erased]',
      company: '[erased]',
      contactId: contact.id,
    });
    expect(after.find((e) => e.type === 'TagsSet')?.data).toEqual({ tags: ['[erased]'] });
    expect(after.find((e) => e.type === 'PasswordSet')?.data).toMatchObject({ passwordHash: '[erased]' });
    expect(after.at(-1)).toMatchObject({ type: 'ContactErased', data: { reason: 'history' }, metadata: { clientId } });
    // The feed hands out an event once every older transaction on the server has ended, other test files' too.
    const feed = async (): Promise<HistoryItem[]> => {
      const response = await get(api, token, `/api/events.json?streamId=${contact.id}&limit=100`);
      expect(response.statusCode).toBe(200);
      return response.json<{ events: HistoryItem[] }>().events;
    };
    await until(async () => (await feed()).length === after.length, 20_000);
    expect(await feed()).toEqual(after);
    for (const value of values) expect(JSON.stringify(after)).not.toContain(value);
  });

  it('frees the email: a new contact may take it', async () => {
    const { payload } = aPerson();
    const contact = await aCreatedContact(api, token, payload);
    expect((await erase(contact.id, { reason: 'free it' })).statusCode).toBe(200);

    expect((await post(api, token, '/api/contacts.json', { contact: payload })).statusCode).toBe(201);
  });

  describe('the log after erasures', () => {
    it('passes verify, and verify names an erased event whose masked content is changed afterwards', async () => {
      const { contact } = await aPersonWithHistory();
      expect((await erase(contact.id, { reason: 'verify' })).statusCode).toBe(200);

      expect((await verifyChains(api.database.db)).breaks).toEqual([]);
      const printed: string[] = [];
      await run(['verify'], { DATABASE_URL: api.database.url }, (line) => printed.push(line));

      // The owner, with the trigger off, puts a value back into an erased event.
      const db = api.database.db;
      await db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
      const { rows } = await db.query<{ position: string }>(
        `UPDATE events SET data = jsonb_set(data, '{firstname}', '"Restored"') WHERE stream_id = $1 AND stream_version = 1 RETURNING position`,
        [contact.id],
      );
      await db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
      try {
        const report = await verifyChains(db);
        expect(report.breaks).toEqual([expect.objectContaining({ position: rows[0]?.position, streamId: contact.id, version: 1 })]);
        await expect(run(['verify'], { DATABASE_URL: api.database.url }, () => undefined)).rejects.toThrow(CheckFailed);
      } finally {
        // Put it back, so the other tests of this file see an intact log.
        await db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
        await db.query(
          `UPDATE events SET data = jsonb_set(data, '{firstname}', '"[erased]"') WHERE stream_id = $1 AND stream_version = 1`,
          [contact.id],
        );
        await db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
      }
      expect((await verifyChains(db)).breaks).toEqual([]);
    });

    it('gives the same read tables on replay --verify', async () => {
      const { contact } = await aPersonWithHistory();
      expect((await erase(contact.id, { reason: 'replay' })).statusCode).toBe(200);
      const printed: string[] = [];

      await run(['replay', '--verify'], { DATABASE_URL: api.database.url }, (line) => printed.push(line));

      expect(printed).toContain('replay --verify: the rebuilt tables equal the live ones, row for row');
    });

    it('leaves none of the person’s values in a dump of the database, idempotency records and sign-in counts included', async () => {
      const { contact, values } = await aPersonWithHistory();
      const signin = await api.token(['signin']);
      const failed = await post(api, signin, '/api/contacts/authenticate.json', { email: contact.email, password: 'not-the-password-1' });
      expect(failed.statusCode).toBe(401);
      const { stdout: before } = await promisify(execFile)('pg_dump', ['--data-only', api.database.url], { maxBuffer: 256 * 1024 * 1024 });
      expect(values.filter((v) => before.includes(v))).toEqual(values);

      expect((await erase(contact.id, { reason: 'dump' })).statusCode).toBe(200);

      const { stdout: after } = await promisify(execFile)('pg_dump', ['--data-only', api.database.url], { maxBuffer: 256 * 1024 * 1024 });
      expect(values.filter((v) => after.includes(v))).toEqual([]);
    });
  });

  describe('npm run cli -- erase', () => {
    it('erases as the route does and prints the erasure JSON line', async () => {
      const { contact } = await aPersonWithHistory();
      const printed: string[] = [];

      await run(['erase', '--contact', contact.id, '--reason', 'by the operator'], { DATABASE_URL: api.database.url }, (line) =>
        printed.push(line),
      );

      expect(JSON.parse(printed.at(-1) ?? '{}')).toEqual({
        erasure: { contactId: contact.id, erasedAt: expect.any(String), reason: 'by the operator' },
      });
      expectErased(await get(api, token, `/api/contacts/${contact.id}.json`));
      expect((await history(contact.id)).at(-1)?.metadata).toMatchObject({ clientId: expect.stringMatching(/^cli:/) });
    });
  });
});
