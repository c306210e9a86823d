import { randomUUID } from 'node:crypto';
import type { ContactView } from '@app/contacts';
import { EventStore, verifyChains } from '@app/event-store';
import {
  aCreatedContact,
  aGuestPayload,
  aUserPayload,
  countEvents,
  get,
  post,
  problemOf,
  updateContact,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

/** What a newer release might record: a type this one does not know. */
const NEWER_EVENT = { type: 'ContactMerged', data: { into: randomUUID() } };

describe('a contact a newer release wrote to (a rolling upgrade)', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'upgrade' }));
  });
  afterAll(() => api.close());

  /** A contact whose stream ends in an event of a type this release does not know, properly chained. */
  async function aContactWithANewerEvent(payload = aGuestPayload()): Promise<ContactView> {
    const contact = await aCreatedContact(api, token, payload);
    const store = new EventStore(api.database.db);
    const { head } = await store.readStream(contact.id);
    await store.append(api.database.db, contact.id, head, [NEWER_EVENT], {
      metadata: { clientId: 'newer-release', requestId: null, correlationId: null, causationId: null },
      recordedAt: api.clock.now(),
    });
    return contact;
  }

  function expectUpgradeInProgress(response: Response): void {
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(problemOf(response).type).toBe('/problems/upgrade_in_progress');
  }

  it('still reads the contact, its list and its history', async () => {
    const contact = await aContactWithANewerEvent();

    const read = await get(api, token, `/api/contacts/${contact.id}.json`);
    const listed = await get(api, token, `/api/contacts.json?email=${encodeURIComponent(contact.email)}`);
    const history = await get(api, token, `/api/contacts/${contact.id}/events.json`);

    expect(read.statusCode).toBe(200);
    expect(read.json<{ contact: ContactView }>().contact).toEqual(contact);
    expect(listed.json<{ contacts: ContactView[] }>().contacts).toEqual([contact]);
    expect(history.statusCode).toBe(200);
    expect(history.json<{ events: { type: string }[] }>().events.map((e) => e.type)).toEqual(['ContactCreated', NEWER_EVENT.type]);
    expect((await verifyChains(api.database.db)).breaks).toEqual([]);
  });

  it('answers a command on it 503 upgrade_in_progress with Retry-After, never 500, and writes nothing', async () => {
    const contact = await aContactWithANewerEvent(aUserPayload());
    const before = await countEvents(api);

    const update = await updateContact(api, token, contact.id, { firstname: 'Older' });
    const invite = await post(api, token, `/api/contacts/${contact.id}/invite.json`, {});

    expectUpgradeInProgress(update);
    expectUpgradeInProgress(invite);
    expect(await countEvents(api)).toBe(before);
  });
});
