import type { PoolClient } from 'pg';
import {
  aBranchPayload,
  aRecipientPayload,
  aUserPayload,
  countCreatedEvents,
  createContact,
  errorsOf,
  totalWithEmail,
  uniqueEmail,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

describe('POST /api/contacts.json under concurrency', () => {
  let api: TestApi;
  let token: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'concurrency' }));
  });
  afterAll(() => api.close());

  const statuses = (responses: Response[]): number[] => responses.map((r) => r.statusCode).sort();

  it('lets exactly one of 30 concurrent creates of one user email through; the rest get 409 email_taken', async () => {
    const email = uniqueEmail('race');

    const sut = await Promise.all(Array.from({ length: 30 }, () => createContact(api, token, aUserPayload({ email }))));

    expect(statuses(sut)).toEqual([201, ...Array<number>(29).fill(409)]);
    for (const refused of sut.filter((r) => r.statusCode === 409)) {
      expect(errorsOf(refused)).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
    }
    expect(await totalWithEmail(api, token, email)).toBe(1);
    // The refused creates wrote nothing: no orphan events beside the one contact.
    expect(await countCreatedEvents(api, email)).toBe(1);
  });

  it('treats concurrent spellings of one email (case, spaces) as the same user email', async () => {
    const email = uniqueEmail('spelling');
    const spellings = [email, email.toUpperCase(), ` ${email} `, `${email[0]?.toUpperCase()}${email.slice(1)}`, `\t${email}`];

    const sut = await Promise.all(spellings.map((spelling) => createContact(api, token, aUserPayload({ email: spelling }))));

    expect(statuses(sut)).toEqual([201, 409, 409, 409, 409]);
    expect(await totalWithEmail(api, token, email, 'user')).toBe(1);
  });

  it('lets one branch and one user hold one email when they race, but only one of each', async () => {
    const email = uniqueEmail('mixed');

    const sut = await Promise.all([
      ...Array.from({ length: 5 }, () => createContact(api, token, aUserPayload({ email }))),
      ...Array.from({ length: 5 }, () => createContact(api, token, aBranchPayload({ email }))),
    ]);

    expect(statuses(sut)).toEqual([201, 201, ...Array<number>(8).fill(409)]);
    expect(await totalWithEmail(api, token, email, 'user')).toBe(1);
    expect(await totalWithEmail(api, token, email, 'branch')).toBe(1);
  });

  it('never leaves two recipients, nor a recipient created after the user, on one email when a user and recipients race', async () => {
    for (let round = 0; round < 8; round += 1) {
      const email = uniqueEmail(`round${round}`);

      const [user, ...recipients] = await Promise.all([
        createContact(api, token, aUserPayload({ email })),
        ...Array.from({ length: 4 }, () => createContact(api, token, aRecipientPayload({ email }))),
      ]);

      // A user may take a recipient's email, never the reverse: the user always gets in.
      expect(user?.statusCode).toBe(201);
      expect(recipients.every((r) => r.statusCode === 201 || r.statusCode === 409)).toBe(true);
      expect(recipients.filter((r) => r.statusCode === 201).length).toBeLessThanOrEqual(1);
      expect(await totalWithEmail(api, token, email, 'recipient')).toBeLessThanOrEqual(1);
      // Whatever the race decided, a recipient arriving now is refused.
      expect((await createContact(api, token, aRecipientPayload({ email }))).statusCode).toBe(409);
    }
  });

  describe('a recipient in flight while a user with its email commits', () => {
    // Holds the requests at the reservation table so the order is forced: the user reaches it
    // first and commits while the recipient waits; the recipient must then see the user.
    let blocker: PoolClient;

    beforeEach(async () => {
      blocker = await api.database.db.pool.connect();
    });
    afterEach(async () => {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    });

    const waiting = async (count: number): Promise<void> => {
      for (let i = 0; i < 500; i += 1) {
        const { rows } = await api.database.db.query<{ count: string }>(
          `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (Number(rows[0]?.count) >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error(`fewer than ${count} requests ever waited`);
    };

    it('refuses the recipient with 409 email_taken', async () => {
      const email = uniqueEmail('ordered');
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE email_reservations IN SHARE MODE');

      const user = createContact(api, token, aUserPayload({ email }));
      await waiting(1);
      const recipient = createContact(api, token, aRecipientPayload({ email }));
      await waiting(2);
      await blocker.query('COMMIT');
      const sut = await Promise.all([user, recipient]);

      expect(sut.map((r) => r.statusCode)).toEqual([201, 409]);
      expect(errorsOf(sut[1])).toEqual([{ pointer: '/contact/email', code: 'email_taken' }]);
      expect(await totalWithEmail(api, token, email, 'recipient')).toBe(0);
    });
  });
});
