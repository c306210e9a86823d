import { aCreatedContact, aGuestPayload, get, problemOf, readContact, updateContact, type Response } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

describe('a database that keeps a request waiting', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'busy' }));
  });
  afterAll(() => api.close());

  /** Runs `request` while another session holds what `lock` takes, then lets go. */
  async function whileLocked(lock: string, values: unknown[], request: () => Promise<Response>): Promise<Response> {
    return api.database.db.transaction(async (tx) => {
      await tx.query(lock, values);
      return request();
    });
  }

  it('answers an update that waits past the lock timeout for its contact with 503 busy and Retry-After, and writes nothing', async () => {
    const contact = await aCreatedContact(api, token, aGuestPayload());

    const sut = await whileLocked('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [contact.id], () =>
      updateContact(api, token, contact.id, { firstname: 'Waited' }),
    );

    expect(sut.statusCode).toBe(503);
    expect(sut.headers['retry-after']).toMatch(/^\d+$/);
    expect(problemOf(sut).errors).toEqual([]);
    expect(sut.json<{ type: string }>().type).toMatch(/busy$/);
    expect((await readContact(api, token, contact.id)).version).toBe(contact.version);
    expect((await updateContact(api, token, contact.id, { firstname: 'Later' })).statusCode).toBe(200);
  }, 20_000);

  it('answers a read while the read table is locked whole (a replay swapping it in) with 503 and Retry-After', async () => {
    const contact = await aCreatedContact(api, token, aGuestPayload());

    const sut = await whileLocked('LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE', [], () =>
      get(api, token, `/api/contacts/${contact.id}.json`),
    );

    expect(sut.statusCode).toBe(503);
    expect(sut.headers['retry-after']).toMatch(/^\d+$/);
    expect(problemOf(sut).status).toBe(503);
    expect((await readContact(api, token, contact.id)).id).toBe(contact.id);
  }, 20_000);
});
