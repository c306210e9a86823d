import type { ContactView } from '@app/contacts';
import {
  aCreatedContact,
  aGuestPayload,
  errorsOf,
  problemOf,
  readContact,
  updateContact,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const WRITERS = 20;

describe('POST /api/contacts/{id}.json under concurrency', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'updateconcurrency' }));
  });
  afterAll(() => api.close());

  const update = (id: string, contact: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> =>
    updateContact(api, token, id, contact, {}, headers);
  const read = (id: string): Promise<ContactView> => readContact(api, token, id);
  const eventsOf = async (id: string): Promise<{ version: number; type: string; lastname: string | null }[]> => {
    const { rows } = await api.database.db.query<{ version: number; type: string; lastname: string | null }>(
      `SELECT stream_version AS version, type, data->>'lastname' AS lastname FROM events WHERE stream_id = $1 ORDER BY stream_version`,
      [id],
    );
    return rows;
  };
  /** A guest written as one event, so it stands at version 1. */
  const aGuestAtVersion1 = async (): Promise<ContactView> => {
    const guest = await aCreatedContact(api, token, aGuestPayload());
    expect(guest.version).toBe(1);
    return guest;
  };
  const lastnames = Array.from({ length: WRITERS }, (_, i) => `Writer ${i + 1}`);

  it(`accepts ${WRITERS} concurrent updates of one contact without If-Match and loses none`, async () => {
    const { id } = await aGuestAtVersion1();

    const sut = await Promise.all(lastnames.map((lastname) => update(id, { lastname })));

    expect(sut.map((r) => r.statusCode)).toEqual(Array<number>(WRITERS).fill(200));
    const accepted = sut.filter((r) => r.statusCode === 200).length;
    // Each writer saw its own change on top of all earlier ones: the versions it answered are 2..21.
    const versions = sut.map((r) => r.json<{ contact: ContactView }>().contact.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 2));
    const final = await read(id);
    expect(final.version).toBe(1 + accepted);
    const events = await eventsOf(id);
    expect(events).toHaveLength(1 + WRITERS);
    expect(events.map((e) => e.version)).toEqual(Array.from({ length: 1 + WRITERS }, (_, i) => i + 1));
    expect(events.slice(1).map((e) => e.type)).toEqual(Array<string>(WRITERS).fill('ContactUpdated'));
    expect(
      events
        .slice(1)
        .map((e) => e.lastname)
        .sort(),
    ).toEqual([...lastnames].sort());
    // The read row is the last writer's: the one whose answer carried the final version.
    const last = sut.find((r) => r.json<{ contact: ContactView }>().contact.version === final.version);
    expect(final.lastname).toBe(last?.json<{ contact: ContactView }>().contact.lastname);
    expect(final.lastname).toBe(events.at(-1)?.lastname);
  });

  it(`lets exactly one of ${WRITERS} concurrent updates naming the same If-Match through; the rest get 412`, async () => {
    const { id } = await aGuestAtVersion1();

    const sut = await Promise.all(lastnames.map((lastname) => update(id, { lastname }, { 'if-match': '"1"' })));

    const statuses = sut.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, ...Array<number>(WRITERS - 1).fill(412)]);
    for (const refused of sut.filter((r) => r.statusCode === 412)) {
      expect(problemOf(refused).type).toBe('/problems/stale_version');
      expect(errorsOf(refused)).toEqual([]);
      expect(refused.headers.etag).toBe('"2"');
    }
    const winner = sut.find((r) => r.statusCode === 200)?.json<{ contact: ContactView }>().contact;
    const final = await read(id);
    expect(final).toEqual(winner);
    expect(final.version).toBe(2);
    expect(await eventsOf(id)).toHaveLength(2);
  });

  it('keeps concurrent updates of different contacts apart', async () => {
    const contacts = await Promise.all(Array.from({ length: 5 }, () => aGuestAtVersion1()));

    const sut = await Promise.all(contacts.flatMap(({ id }) => lastnames.slice(0, 4).map((lastname) => update(id, { lastname }))));

    expect(sut.every((r) => r.statusCode === 200)).toBe(true);
    for (const { id } of contacts) {
      expect((await read(id)).version).toBe(5);
      expect(await eventsOf(id)).toHaveLength(5);
    }
  });
});
