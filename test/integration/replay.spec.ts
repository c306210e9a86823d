import { randomUUID } from 'node:crypto';
import { emailReservation } from '@app/contacts';
import { EventStore } from '@app/event-store';
import { contactsProjection, rebuildReadTables, type RebuildProgress } from '@app/projections';
import { CheckFailed, run } from '../../apps/cli/src/cli.js';
import {
  aBranchPayload,
  aCreatedContact,
  aGuestPayload,
  anAddressPayload,
  aRecipientPayload,
  aRole,
  aUserPayload,
  contactOf,
  get,
  post,
  uniqueEmail,
  updateContact,
  type Response,
} from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';
import { until } from '../support/polling.js';

/** A read row as text, column by column: equal rows are byte-identical rows. */
interface RowText {
  id: string;
  type: string;
  email: string;
  tags: string;
  version: number;
  created: string;
  view: string;
  state: string;
  head_hash: string | null;
  next_expiry: string | null;
}

describe('npm run cli -- replay', () => {
  let api: TestApi;
  let token: string;
  let env: NodeJS.ProcessEnv;
  let plainRole: string;
  let adminRole: string;
  let expiringRole: string;

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'replay' }));
    env = { DATABASE_URL: api.database.url };
    plainRole = await aRole(api, token, 'none');
    adminRole = await aRole(api, token, 'admin');
    expiringRole = await aRole(api, token, 'none');
  });
  afterAll(() => api.close());

  /** Runs the command as the CLI would: what it printed, and the error it failed with, if any. */
  async function sut(...argv: string[]): Promise<{ printed: string[]; error: unknown }> {
    const printed: string[] = [];
    const error = await run(['replay', ...argv], env, (line) => printed.push(line)).then(
      () => null,
      (e: unknown) => e,
    );
    return { printed, error };
  }

  const db = (): TestApi['database']['db'] => api.database.db;

  async function contactRows(): Promise<RowText[]> {
    const { rows } = await db().query<RowText>(
      `SELECT id, type, email, tags::text, version, created::text, view::text, state::text, head_hash, next_expiry::text
       FROM contacts ORDER BY id`,
    );
    return rows;
  }

  async function reservationRows(): Promise<{ kind: string; email: string; contact_id: string }[]> {
    const { rows } = await db().query<{ kind: string; email: string; contact_id: string }>(
      'SELECT kind, email, contact_id FROM email_reservations ORDER BY kind, email',
    );
    return rows;
  }

  /** The log and the dispatcher's place in it: a replay must leave both alone. */
  async function logAndCheckpoints(): Promise<unknown> {
    const { rows } = await db().query(
      `SELECT (SELECT count(*) FROM events) AS events, (SELECT max(position) FROM events) AS last,
              (SELECT coalesce(json_agg(c ORDER BY consumer), '[]') FROM log_checkpoints c) AS checkpoints`,
    );
    return rows[0];
  }

  async function indexesAndConstraints(): Promise<unknown[]> {
    const { rows } = await db().query(
      `SELECT tablename AS on, indexname AS name, indexdef AS definition FROM pg_indexes WHERE tablename IN ('contacts', 'email_reservations')
       UNION ALL
       SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid IN ('contacts'::regclass, 'email_reservations'::regclass)
       ORDER BY 1, 2, 3`,
    );
    return rows;
  }

  /** What clients read: every contact by id (body and ETag) and a page of the list. */
  async function apiReads(ids: string[]): Promise<string[]> {
    const reads = await Promise.all([
      ...ids.map((id) => get(api, token, `/api/contacts/${id}.json`)),
      get(api, token, '/api/contacts.json?limit=100'),
      get(api, token, `/api/contacts.json?type=user&limit=100`),
    ]);
    return reads.map((r) => `${r.statusCode} ${String(r.headers.etag)} ${r.body}`);
  }

  /** Every read row, and the reservations, equal a fresh fold of the contact's events. */
  async function expectEveryRowToMatchItsStream(): Promise<void> {
    const store = new EventStore(db());
    const { rows: streams } = await db().query<{ stream_id: string }>('SELECT DISTINCT stream_id FROM events ORDER BY stream_id');
    const live = new Map((await contactRows()).map((row) => [row.id, row]));
    const reservations: { kind: string; email: string; contact_id: string }[] = [];
    for (const { stream_id } of streams) {
      const expected = contactsProjection.fromEvents((await store.readStream(stream_id)).events);
      if (!expected) throw new Error(`stream ${stream_id} holds no contact`);
      const row = live.get(stream_id);
      expect({
        id: stream_id,
        version: row?.version,
        head_hash: row?.head_hash,
        view: row?.view,
        state: row && (JSON.parse(row.state) as unknown),
      }).toEqual({
        id: stream_id,
        version: expected.version,
        head_hash: expected.headHash,
        view: JSON.stringify(expected.view),
        state: JSON.parse(JSON.stringify(expected.state)) as unknown,
      });
      const reservation = emailReservation(expected.state);
      if (reservation) reservations.push({ ...reservation, contact_id: stream_id });
    }
    expect(live.size).toBe(streams.length);
    const byKey = (a: { kind: string; email: string }, b: { kind: string; email: string }): number =>
      `${a.kind} ${a.email}` < `${b.kind} ${b.email}` ? -1 : 1;
    expect(await reservationRows()).toEqual(reservations.sort(byKey));
  }

  /** Contacts of every type, written by every kind of command: the events a replay has to fold. */
  async function aMixOfContacts(): Promise<string[]> {
    const user = await aCreatedContact(
      api,
      token,
      aUserPayload({
        address: anAddressPayload(),
        tags: { contact: ['vip', 'trade'] },
        accessRoles: [plainRole, adminRole, { reference: expiringRole, expires: '2026-03-01T00:00:00+00:00', status: 'active' }],
      }),
    );
    const invited = await aCreatedContact(api, token, aUserPayload({ password: undefined, firstname: 'Zoë', lastname: 'Ünal' }), {
      invite: true,
    });
    // Characters COPY's CSV and Postgres's array literals must carry through unchanged.
    const guest = await aCreatedContact(
      api,
      token,
      aGuestPayload({
        lastname: 'O\'Brien "Jr", \\ N',
        address: anAddressPayload({ line2: null }),
        tags: { contact: ['a"b', 'back\\slash', 'comma,{brace}', 'NULL', ''] },
      }),
    );
    const branch = await aCreatedContact(api, token, aBranchPayload());
    const recipient = await aCreatedContact(api, token, aRecipientPayload());
    expect((await updateContact(api, token, user.id, { email: uniqueEmail('moved'), tags: { contact: ['vip'] } })).statusCode).toBe(200);
    expect((await updateContact(api, token, guest.id, { lastname: 'Renamed' })).statusCode).toBe(200);
    expect((await post(api, token, `/api/contacts/${user.id}/access-roles/${adminRole}/approve.json`, undefined)).statusCode).toBe(200);
    // A deleted contact keeps its read row, out of every list, and gives up its email and its invite.
    const deleted = await aCreatedContact(api, token, aUserPayload({ password: undefined, accessRoles: [plainRole] }), { invite: true });
    const removal = await api.http.inject({
      method: 'DELETE',
      url: `/api/contacts/${deleted.id}.json`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(removal.statusCode).toBe(204);
    return [user.id, invited.id, guest.id, branch.id, recipient.id, deleted.id];
  }

  it('rebuilds byte-identical rows from an unchanged log, the API answers the same, and the log and checkpoints are untouched', async () => {
    const ids = await aMixOfContacts();
    const rowsBefore = await contactRows();
    const reservationsBefore = await reservationRows();
    const readsBefore = await apiReads(ids);
    const logBefore = await logAndCheckpoints();

    const { printed, error } = await sut();

    expect(error).toBeNull();
    expect(await contactRows()).toEqual(rowsBefore);
    expect(await reservationRows()).toEqual(reservationsBefore);
    expect(await apiReads(ids)).toEqual(readsBefore);
    expect(await logAndCheckpoints()).toEqual(logBefore);
    expect(printed.at(-1)).toMatch(
      new RegExp(
        `^replay: rebuilt contacts \\(${rowsBefore.length} rows\\) and email_reservations \\(${reservationsBefore.length} rows\\) from \\d+ events in ${rowsBefore.length} streams in .* events/s\\); .*no job was enqueued$`,
      ),
    );
  });

  it('keeps the name and definition of every index and constraint', async () => {
    await aMixOfContacts();
    const before = await indexesAndConstraints();

    expect((await sut()).error).toBeNull();

    expect(await indexesAndConstraints()).toEqual(before);
    expect(before).toContainEqual(expect.objectContaining({ name: 'contacts_invite_token' }));
    expect(before).toContainEqual(expect.objectContaining({ name: 'contacts_next_expiry' }));
  });

  it('with --verify names each row the live tables got wrong, --dry-run leaves them so, and without it they are repaired', async () => {
    const [user, invited, guest] = await aMixOfContacts();
    const rowsBefore = await contactRows();
    const reservationsBefore = await reservationRows();
    const stray = randomUUID();
    await db().query(`UPDATE contacts SET view = '{"firstname":"Mallory"}' WHERE id = $1`, [user]);
    await db().query(`UPDATE contacts SET next_expiry = now(), head_hash = 'forged' WHERE id = $1`, [guest]);
    await db().query('DELETE FROM email_reservations WHERE contact_id = $1', [invited]);
    await db().query(
      `INSERT INTO contacts (id, type, email, version, created, view) VALUES ($1, 'guest', 'ghost@example.com', 1, now(), '{}')`,
      [stray],
    );
    const corrupted = await contactRows();
    const lost = reservationsBefore.find((r) => r.contact_id === invited);

    const dryRun = await sut('--verify', '--dry-run');

    expect(dryRun.error).toBeInstanceOf(CheckFailed);
    expect(String(dryRun.error)).toMatch(
      /4 row\(s\) of the live read tables differed from the log; the live tables are unchanged \(--dry-run\)/,
    );
    expect(dryRun.printed).toEqual(
      expect.arrayContaining([
        `replay --verify: contacts id=${user}: view differ`,
        `replay --verify: contacts id=${guest}: head_hash, next_expiry differ`,
        `replay --verify: contacts id=${stray}: in the live table, not in the log`,
        `replay --verify: email_reservations kind=user email=${lost?.email}: in the log, missing from the live table`,
      ]),
    );
    expect(dryRun.printed.filter((line) => line.startsWith('replay --verify: '))).toHaveLength(4);
    expect(await contactRows()).toEqual(corrupted);

    const repair = await sut('--verify');

    expect(repair.error).toBeInstanceOf(CheckFailed);
    expect(String(repair.error)).toMatch(/4 row\(s\) .* the rebuilt tables, which match the log, are now live/);
    expect(await contactRows()).toEqual(rowsBefore);
    expect(await reservationRows()).toEqual(reservationsBefore);

    const again = await sut('--verify');

    expect(again.error).toBeNull();
    expect(again.printed).toContain('replay --verify: the rebuilt tables equal the live ones, row for row');
  });

  it('loses no write made while it rebuilds, however the write falls against its phases, and the API keeps answering', async () => {
    // Guests of three events each, so a small batch size makes the read take many batches.
    const seeded = await Promise.all(
      Array.from({ length: 120 }, () =>
        aCreatedContact(api, token, aGuestPayload({ address: anAddressPayload(), tags: { contact: ['seed'] } })),
      ),
    );
    const users = await Promise.all(Array.from({ length: 10 }, () => aCreatedContact(api, token, aUserPayload())));
    const answers: Promise<Response>[] = [];
    let writes = 0;
    /** A write of each kind the service does: a create with a reservation, an email move, an update. */
    const aWrite = (): Promise<Response> => {
      writes += 1;
      const pick = <T>(list: T[]): T => list[writes % list.length] as T;
      const response =
        writes % 3 === 0
          ? post(api, token, '/api/contacts.json', { contact: aUserPayload() })
          : writes % 3 === 1
            ? updateContact(api, token, pick(users).id, { email: uniqueEmail('moved') })
            : updateContact(api, token, pick(seeded).id, { lastname: `Writer ${writes}`, tags: { contact: [`w${writes}`] } });
      answers.push(response);
      return response;
    };
    let rebuilding = true;
    const background = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (rebuilding) {
          await aWrite();
          answers.push(get(api, token, `/api/contacts/${seeded[writes % seeded.length]?.id}.json`));
        }
      }),
    );
    const phases: RebuildProgress['phase'][] = [];
    const underTheLock: Promise<Response>[] = [];

    const report = await rebuildReadTables(db(), {
      batchSize: 40,
      maxStreamsUnderLock: 0,
      // the live rows are right all along: writes landing mid-rebuild must not read as differences
      compare: true,
      onProgress: async (progress) => {
        if (phases.at(-1) !== progress.phase) phases.push(progress.phase);
        if (progress.phase === 'read' && progress.events === 40) await Promise.all([aWrite(), aWrite(), aWrite()]);
        if (progress.phase === 'catch-up' && progress.round === 1) await Promise.all([aWrite(), aWrite(), aWrite()]);
        // the read tables are locked now: these wait for the swap, then write to the new tables
        if (progress.phase === 'swap')
          underTheLock.push(aWrite(), aWrite(), aWrite(), get(api, token, `/api/contacts/${seeded[0]?.id}.json`));
      },
    }).finally(() => (rebuilding = false));
    await background;
    const settled = await Promise.all([...answers, ...underTheLock]);

    expect(report.swapped).toBe(true);
    expect(report.differences).toEqual([]);
    expect(phases).toEqual(['read', 'catch-up', 'swap']);
    expect(report.caughtUp).toBeGreaterThanOrEqual(3);
    expect(settled.map((r) => r.statusCode).filter((status) => status !== 200 && status !== 201)).toEqual([]);
    await expectEveryRowToMatchItsStream();
    // what the writes made under the lock answered is what the new tables hold
    for (const response of await Promise.all(underTheLock.slice(0, 3))) {
      const answered = contactOf(response);
      const read = await get(api, token, `/api/contacts/${answered.id}.json`);
      expect(contactOf(read).version).toBeGreaterThanOrEqual(answered.version);
    }
  });

  it('gives way to a writer it would deadlock with, and swaps on a later attempt', async () => {
    // A reader holds contacts, so the swap queues for it; a writer holding a reservation then
    // queues behind the swap for contacts; the reader ends, the swap takes contacts and waits for
    // email_reservations, which the writer holds: a cycle in which the writer waited first. Left to
    // deadlock_timeout, Postgres would abort the writer (an API request); the swap must let go first.
    const reader = await db().pool.connect();
    const writer = await db().pool.connect();
    const attempts: number[] = [];
    const waitingFor = async (table: string, count: number): Promise<boolean> => {
      const { rows } = await db().query(`SELECT 1 FROM pg_locks WHERE NOT granted AND relation = $1::regclass`, [table]);
      return rows.length >= count;
    };
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM contacts');
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO email_reservations (kind, email, contact_id) VALUES ('user', $1, $2)`, [
        uniqueEmail('midway'),
        randomUUID(),
      ]);
      const replay = rebuildReadTables(db(), {
        onProgress: (progress) => {
          if (progress.phase === 'swap') attempts.push(progress.attempt);
        },
      });
      await until(() => waitingFor('contacts', 1));
      const write = writer.query('UPDATE contacts SET version = version WHERE false').then(() => writer.query('COMMIT'));
      await until(() => waitingFor('contacts', 2)).catch(() => undefined); // the swap may already have let go
      await reader.query('COMMIT');

      await write;
      const report = await replay;

      expect(report.swapped).toBe(true);
      expect(attempts.at(-1)).toBeGreaterThanOrEqual(2);
    } finally {
      reader.release();
      writer.release();
    }
  });

  it('refuses a second replay while one is running', async () => {
    let second: Promise<{ printed: string[]; error: unknown }> | null = null;

    await rebuildReadTables(db(), {
      onProgress: async (progress) => {
        if (progress.phase === 'swap' && second === null) {
          second = sut();
          await second;
        }
      },
    });

    const { error } = await (second ?? sut());
    expect(String(error)).toMatch(/another replay is rebuilding the read tables/);
  });
});
