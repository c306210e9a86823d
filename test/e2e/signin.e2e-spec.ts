import { FixedClock } from '@app/config';
import {
  aBranchPayload,
  aCreatedContact,
  aGuestPayload,
  aRecipientPayload,
  aUserPayload,
  contactOf,
  countEvents,
  errorsOf,
  get,
  post,
  problemOf,
  readContact,
  uniqueEmail,
  updateContact,
  type Body,
  type Response,
} from '../support/contact-requests.js';
import { createTestApi, type TestApi } from '../support/test-api.js';

/**
 * DESIGN §11 sign-in: `POST /api/contacts/authenticate.json` for the website whose users these
 * are. Three APIs on one database, as three API processes: two at BCRYPT_COST 4 and one at 5,
 * sharing one clock so the lock window can be stepped through instead of waited for.
 */

const URL = '/api/contacts/authenticate.json';
const PASSWORD = 'secret123';
const WINDOW_MS = 15 * 60_000;

interface AuditEvent {
  type: string;
  data: Record<string, unknown>;
}

describe('POST /api/contacts/authenticate.json', () => {
  const clock = new FixedClock(new Date('2026-01-15T10:00:00Z'));
  /** BCRYPT_COST 4 */
  let api: TestApi;
  /** a second API process at the same cost, on the same database */
  let replica: TestApi;
  /** an API process at BCRYPT_COST 5, on the same database */
  let stronger: TestApi;
  let admin: string;
  let signin: string;
  let replicaSignin: string;
  let strongerSignin: string;

  beforeAll(async () => {
    api = await createTestApi({ label: 'signin', clock });
    replica = await createTestApi({ label: 'signin', clock, database: api.database });
    stronger = await createTestApi({ label: 'signin', clock, database: api.database, env: { BCRYPT_COST: '5' } });
    admin = await api.token(['contacts', 'audit']);
    signin = await api.token(['signin']);
    replicaSignin = await replica.token(['signin']);
    strongerSignin = await stronger.token(['signin']);
  });
  afterAll(async () => {
    await stronger?.close();
    await replica?.close();
    await api?.close();
  });

  const authenticate = (on: TestApi, token: string, email: string, password: string): Promise<Response> =>
    post(on, token, URL, { email, password });
  const aUser = async (overrides: Body = {}): Promise<{ id: string; email: string }> => {
    const email = uniqueEmail('signin');
    const contact = await aCreatedContact(api, admin, aUserPayload({ email, password: PASSWORD, ...overrides }));
    return { id: contact.id, email };
  };
  const historyOf = async (id: string): Promise<AuditEvent[]> => {
    const response = await get(api, admin, `/api/contacts/${id}/events.json`);
    expect(response.statusCode).toBe(200);
    return response.json<{ events: AuditEvent[] }>().events;
  };
  const storedHashes = async (id: string): Promise<string[]> => {
    const { rows } = await api.database.db.query<{ hash: string }>(
      `SELECT data->>'passwordHash' AS hash FROM events WHERE stream_id = $1 AND type = 'PasswordSet' ORDER BY stream_version`,
      [id],
    );
    return rows.map((r) => r.hash);
  };
  const signinTokenOf = (on: TestApi): string =>
    new Map([
      [api, signin],
      [replica, replicaSignin],
      [stronger, strongerSignin],
    ]).get(on)!;
  const failTimes = async (times: number, email: string, on: TestApi[] = [api]): Promise<void> => {
    for (let i = 0; i < times; i++) {
      const target = on[i % on.length]!;
      expect((await authenticate(target, signinTokenOf(target), email, 'wrong-password-1')).statusCode).toBe(401);
    }
  };

  it('answers the user as a read shows them, for their email in any case and with spaces around it', async () => {
    const user = await aUser();

    const sut = await authenticate(api, signin, `  ${user.email.toUpperCase()} `, PASSWORD);

    expect(sut.statusCode).toBe(200);
    expect(sut.json()).toEqual({ contact: await readContact(api, admin, user.id) });
    expect(contactOf(sut)).toMatchObject({ type: 'user', email: user.email, hasPassword: true });
    expect(sut.body).not.toMatch(/\$2[aby]\$/);
  });

  it('follows a change of email or password at once', async () => {
    const user = await aUser();
    const email = uniqueEmail('moved');
    expect((await updateContact(api, admin, user.id, { email, password: 'another456' })).statusCode).toBe(200);

    expect((await authenticate(replica, replicaSignin, email, 'another456')).statusCode).toBe(200);
    expect((await authenticate(replica, replicaSignin, email, PASSWORD)).statusCode).toBe(401);
    expect((await authenticate(replica, replicaSignin, user.email, 'another456')).statusCode).toBe(401);
  });

  it('records nothing for a sign-in, succeeded or failed', async () => {
    const user = await aUser();
    const events = await countEvents(api);

    expect((await authenticate(api, signin, user.email, PASSWORD)).statusCode).toBe(200);
    expect((await authenticate(api, signin, user.email, 'wrong-password-1')).statusCode).toBe(401);

    expect(await countEvents(api)).toBe(events);
  });

  it('gives every failure the same 401 invalid_credentials, whatever failed', async () => {
    const user = await aUser();
    const invited = uniqueEmail('invited');
    await aCreatedContact(api, admin, aUserPayload({ email: invited, password: undefined }), { invite: true });
    const guest = uniqueEmail('guest');
    await aCreatedContact(api, admin, aGuestPayload({ email: guest }));
    const branch = uniqueEmail('branch');
    await aCreatedContact(api, admin, aBranchPayload({ email: branch }));
    const recipient = uniqueEmail('recipient');
    await aCreatedContact(api, admin, aRecipientPayload({ email: recipient }));

    const failures = await Promise.all(
      [
        [uniqueEmail('unknown'), PASSWORD],
        [user.email, 'wrong-password-1'],
        [user.email, PASSWORD.toUpperCase()],
        [invited, PASSWORD],
        [guest, PASSWORD],
        [branch, PASSWORD],
        [recipient, PASSWORD],
        ['', ''],
      ].map(([email, password]) => authenticate(api, signin, email!, password!)),
    );

    for (const sut of failures) {
      expect(sut.statusCode).toBe(401);
      expect(errorsOf(sut)).toEqual([{ pointer: '', code: 'invalid_credentials' }]);
      expect(sut.headers['retry-after']).toBeUndefined();
    }
    expect(problemOf(failures[0]!)).toMatchObject({ type: '/problems/invalid_credentials', status: 401 });
    expect(new Set(failures.map((r) => r.body)).size).toBe(1);
    expect(new Set(failures.map((r) => r.headers['content-type'])).size).toBe(1);
  });

  it('locks an email after 10 failures on two API processes, even with the right password, on both', async () => {
    const user = await aUser();
    const other = await aUser();
    await failTimes(10, user.email, [api, replica]);

    for (const [on, token] of [
      [api, signin],
      [replica, replicaSignin],
    ] as const) {
      const sut = await authenticate(on, token, user.email, PASSWORD);

      expect(sut.statusCode).toBe(429);
      expect(sut.headers['retry-after']).toBe(String(WINDOW_MS / 1000));
      expect(errorsOf(sut)).toContainEqual({ pointer: '/email', code: 'too_many_attempts' });
      expect(problemOf(sut).type).toBe('/problems/too_many_attempts');
    }
    // The same email in another case or with spaces is the same email.
    expect((await authenticate(api, signin, ` ${user.email.toUpperCase()}`, PASSWORD)).statusCode).toBe(429);
    // Another email is not affected.
    expect((await authenticate(replica, replicaSignin, other.email, PASSWORD)).statusCode).toBe(200);
  });

  it('compares no more than 10 passwords of one email at once, however many arrive together on two processes', async () => {
    const user = await aUser();

    const sut = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0
          ? authenticate(api, signin, user.email, 'wrong-password-1')
          : authenticate(replica, replicaSignin, user.email, 'wrong-password-1'),
      ),
    );

    const statuses = sut.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(14).fill(429)]);
  });

  it('counts failures of an email no contact has, like any other', async () => {
    const email = uniqueEmail('nobody');
    await failTimes(10, email, [replica, api]);

    const sut = await authenticate(api, signin, email, PASSWORD);

    expect(sut.statusCode).toBe(429);
  });

  it('lets a success leave the failures of the window counted', async () => {
    const user = await aUser();
    await failTimes(9, user.email);

    expect((await authenticate(api, signin, user.email, PASSWORD)).statusCode).toBe(200);
    expect((await authenticate(replica, replicaSignin, user.email, PASSWORD)).statusCode).toBe(200);
    await failTimes(1, user.email, [replica]);

    expect((await authenticate(api, signin, user.email, PASSWORD)).statusCode).toBe(429);
  });

  it('lifts the lock by itself when the window since the first failure ends', async () => {
    const user = await aUser();
    const start = clock.now();
    await failTimes(10, user.email, [api, replica]);

    clock.set(new Date(start.getTime() + WINDOW_MS - 60_000));
    const stillLocked = await authenticate(replica, replicaSignin, user.email, PASSWORD);
    expect(stillLocked.statusCode).toBe(429);
    expect(stillLocked.headers['retry-after']).toBe('60');

    clock.set(new Date(start.getTime() + WINDOW_MS));
    const sut = await authenticate(api, signin, user.email, PASSWORD);

    expect(sut.statusCode).toBe(200);
    // A new window counts from zero.
    await failTimes(9, user.email);
    expect((await authenticate(api, signin, user.email, PASSWORD)).statusCode).toBe(200);
  });

  it('keeps no failed attempt once its window is over', async () => {
    const email = uniqueEmail('forgotten');
    const start = clock.now();
    await failTimes(3, email);
    const attemptsOf = async (): Promise<number> => {
      const { rows } = await api.database.db.query<{ count: string }>('SELECT count(*) FROM signin_attempts WHERE email = $1', [email]);
      return Number(rows[0]?.count);
    };
    expect(await attemptsOf()).toBe(1);

    clock.set(new Date(start.getTime() + WINDOW_MS));
    await authenticate(api, signin, uniqueEmail('someone-else'), PASSWORD);

    expect(await attemptsOf()).toBe(0);
  });

  it('rehashes a password hashed at a lower cost than today, and the password still works everywhere', async () => {
    const user = await aUser();
    const before = await historyOf(user.id);
    expect(await storedHashes(user.id)).toEqual([expect.stringMatching(/^\$2b\$04\$/)]);

    const sut = await authenticate(stronger, strongerSignin, user.email, PASSWORD);

    expect(sut.statusCode).toBe(200);
    expect(sut.json()).toEqual({ contact: await readContact(api, admin, user.id) });
    const history = await historyOf(user.id);
    expect(history.slice(before.length)).toEqual([
      expect.objectContaining({ type: 'PasswordSet', data: { passwordHash: '[redacted]', reason: 'rehash' } }),
    ]);
    expect((await storedHashes(user.id)).at(-1)).toMatch(/^\$2b\$05\$/);

    // Once is enough; the cost-4 API finds nothing weaker than its own cost.
    expect((await authenticate(stronger, strongerSignin, user.email, PASSWORD)).statusCode).toBe(200);
    expect((await authenticate(api, signin, user.email, PASSWORD)).statusCode).toBe(200);
    expect(await historyOf(user.id)).toHaveLength(history.length);
    expect((await authenticate(api, signin, user.email, 'wrong-password-1')).statusCode).toBe(401);
  });

  it('needs the scope signin', async () => {
    const user = await aUser();
    const contactsOnly = await api.token(['contacts']);

    const sut = await authenticate(api, contactsOnly, user.email, PASSWORD);

    expect(sut.statusCode).toBe(403);
    expect(problemOf(sut).type).toBe('/problems/insufficient_scope');
    expect((await post(api, null, URL, { email: user.email, password: PASSWORD })).statusCode).toBe(401);
  });

  it.each([
    ['no email', { password: PASSWORD }, [{ pointer: '/email', code: 'required' }]],
    ['no password', { email: 'ann@example.com' }, [{ pointer: '/password', code: 'required' }]],
    [
      'neither',
      {},
      [
        { pointer: '/email', code: 'required' },
        { pointer: '/password', code: 'required' },
      ],
    ],
    ['a numeric email', { email: 7, password: PASSWORD }, [{ pointer: '/email', code: 'invalid_type' }]],
    ['a null password', { email: 'ann@example.com', password: null }, [{ pointer: '/password', code: 'required' }]],
    ['an object password', { email: 'ann@example.com', password: { $ne: null } }, [{ pointer: '/password', code: 'invalid_type' }]],
    ['an array email', { email: ['ann@example.com'], password: PASSWORD }, [{ pointer: '/email', code: 'invalid_type' }]],
    [
      'an unknown field',
      { email: 'ann@example.com', password: PASSWORD, remember: true },
      [{ pointer: '/remember', code: 'unknown_field' }],
    ],
  ])('refuses a body with %s at its pointers', async (_case, body, expected) => {
    const sut = await post(api, signin, URL, body);

    expect(sut.statusCode).toBe(422);
    expect(errorsOf(sut)).toEqual(expected);
  });

  it("counts against the client's rate limit like every /api route", async () => {
    const limited = await createTestApi({ label: 'signin', clock, database: api.database, env: { RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const token = await limited.token(['signin']);
      const user = await aUser();
      for (let i = 0; i < 3; i++) expect((await authenticate(limited, token, user.email, PASSWORD)).statusCode).toBe(200);

      const sut = await authenticate(limited, token, user.email, PASSWORD);

      expect(sut.statusCode).toBe(429);
      expect(problemOf(sut).type).toBe('/problems/rate_limited');
    } finally {
      await limited.close();
    }
  });
});
