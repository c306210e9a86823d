import { randomUUID } from 'node:crypto';
import { Clock, FixedClock } from '@app/config';
import { InviteTokens } from '@app/auth';
import { ContactService, loadContact, type CreateRequest } from '@app/contact-service';
import { ContactRejected, normalizeEmail, type ContactView } from '@app/contacts';
import { Database, type Tx } from '@app/database';
import { EventStore, verifyChains, type EventMetadata } from '@app/event-store';
import { RoleCatalogue } from '@app/roles';
import { aBranch, aGuest, anAddress, aRecipient, aUser } from '../../libs/contacts/src/testing/contact.factories.js';
import { until } from '../support/polling.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const now = new Date('2026-01-15T10:00:00Z');
const DAY = 86_400_000;

const uniqueEmail = (label = 'contact'): string => `${label}-${randomUUID().slice(0, 8)}@example.com`;

const aMetadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  clientId: 'client-1',
  requestId: randomUUID(),
  correlationId: randomUUID(),
  causationId: null,
  ...overrides,
});

/** A create request; a user comes with a valid password unless the contact says otherwise. */
const aRequest = (contact: CreateRequest['contact'], overrides: Partial<Omit<CreateRequest, 'contact'>> = {}): CreateRequest => ({
  contact: contact.type === 'user' ? { password: 'correct horse 42', ...contact } : contact,
  invite: false,
  ...overrides,
});

/**
 * Records the order in which transactions commit: the sequence is read as the last statement
 * before COMMIT. Writers of one email hold its advisory lock until they commit, so among them
 * this order is their commit order.
 */
class CommitOrderedDatabase extends Database {
  readonly commitOrder = new Map<string, bigint>();

  override transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return super.transaction(async (tx) => {
      const result = await work(tx);
      const { rows } = await tx.query<{ n: string }>(`SELECT nextval('test_commit_order') AS n`);
      const id = (result as { id?: unknown }).id;
      if (typeof id === 'string' && rows[0]) this.commitOrder.set(id, BigInt(rows[0].n));
      return result;
    });
  }
}

/** A clock that runs backwards a second at every reading: replicas whose clocks disagree. */
class RewindingClock extends Clock {
  private at = now.getTime();

  now(): Date {
    this.at -= 1000;
    return new Date(this.at);
  }
}

describe(ContactService.name, () => {
  let database: TestDatabase;
  let db: Database;
  let sut: ContactService;

  const serviceOn = (on: Database): ContactService =>
    new ContactService(on, new EventStore(on), new RoleCatalogue(on), new FixedClock(now), {
      bcryptCost: 4,
      inviteTtlMs: 7 * DAY,
      inviteTokens: new InviteTokens('test-secret'),
    });

  beforeAll(async () => {
    database = await createTestDatabase('contactservice');
    db = new Database({ url: database.url, applicationName: 'test-contact-service' });
    sut = serviceOn(db);
    await new RoleCatalogue(db).create({ reference: 'customer', title: 'Customer', approvalMethod: 'none' });
    await new RoleCatalogue(db).create({ reference: 'trade', title: 'Trade', approvalMethod: 'admin' });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  async function reservationsOf(email: string): Promise<Array<{ kind: string; contact_id: string }>> {
    const { rows } = await db.query<{ kind: string; contact_id: string }>(
      'SELECT kind, contact_id FROM email_reservations WHERE email = $1 ORDER BY kind',
      [normalizeEmail(email)],
    );
    return rows;
  }

  async function contactsWith(email: string): Promise<Array<{ id: string; type: string }>> {
    const { rows } = await db.query<{ id: string; type: string }>('SELECT id, type FROM contacts WHERE email = $1 ORDER BY id', [
      normalizeEmail(email),
    ]);
    return rows;
  }

  async function createdEventsFor(email: string): Promise<Array<{ stream_id: string }>> {
    const { rows } = await db.query<{ stream_id: string }>(
      `SELECT stream_id FROM events WHERE type = 'ContactCreated' AND lower(trim(data->>'email')) = $1`,
      [normalizeEmail(email)],
    );
    return rows;
  }

  async function tableCounts(): Promise<Record<string, number>> {
    const { rows } = await db.query<{ events: string; contacts: string; reservations: string }>(
      `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM contacts) AS contacts,
              (SELECT count(*) FROM email_reservations) AS reservations`,
    );
    const row = rows[0];
    return { events: Number(row?.events), contacts: Number(row?.contacts), reservations: Number(row?.reservations) };
  }

  async function refusal(attempt: Promise<unknown>): Promise<ContactRejected> {
    const error = await attempt.then(
      () => new Error('expected the create to be refused'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ContactRejected);
    return error as ContactRejected;
  }

  describe('create', () => {
    it('writes the events, the read row and the reservation in one transaction', async () => {
      const email = uniqueEmail('writes');
      const metadata = aMetadata();

      const view = await sut.create(
        aRequest(
          aUser({
            email: `  ${email.toUpperCase()} `,
            address: anAddress(),
            tags: { contact: ['vip'] },
            accessRoles: ['customer', 'trade'],
          }),
        ),
        metadata,
      );

      const { rows: events } = await db.query<{
        type: string;
        stream_version: number;
        metadata: EventMetadata;
        tx: string;
        data: Record<string, unknown>;
      }>(
        'SELECT type, stream_version, metadata, transaction_id::xid::text AS tx, data FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [view.id],
      );
      expect(events.map((e) => e.type)).toEqual([
        'ContactCreated',
        'PasswordSet',
        'PrimaryAddressSet',
        'TagsSet',
        'RoleGranted',
        'RoleGranted',
      ]);
      expect(events.map((e) => e.stream_version)).toEqual([1, 2, 3, 4, 5, 6]);
      for (const e of events) expect(e.metadata).toEqual(metadata);
      expect(events[1]?.data.passwordHash).toMatch(/^\$2b\$04\$/);
      expect(JSON.stringify(events)).not.toContain('correct horse 42');

      const { rows: contactRows } = await db.query<{ view: ContactView; tx: string; email: string; type: string }>(
        'SELECT view, xmin::text AS tx, email, type FROM contacts WHERE id = $1',
        [view.id],
      );
      expect(contactRows).toHaveLength(1);
      expect(contactRows[0]).toMatchObject({ view, email: normalizeEmail(email), type: 'user' });
      const { rows: reservations } = await db.query<{ kind: string; email: string; contact_id: string; tx: string }>(
        'SELECT kind, email, contact_id, xmin::text AS tx FROM email_reservations WHERE contact_id = $1',
        [view.id],
      );
      expect(reservations).toEqual([{ kind: 'user', email: normalizeEmail(email), contact_id: view.id, tx: expect.any(String) }]);

      const transactions = new Set([...events.map((e) => e.tx), contactRows[0]?.tx, reservations[0]?.tx]);
      expect(transactions.size).toBe(1);
    });

    it('commits concurrent creates together, each with its own events, metadata, chain and read row, as if written alone', async () => {
      const requests = Array.from({ length: 40 }, (_, i) => ({
        request: aRequest(aGuest({ email: uniqueEmail('batch'), firstname: `Batch ${i}`, tags: { contact: [`t"${i}`, 'back\\slash'] } })),
        metadata: aMetadata({ requestId: `batch-${i}` }),
      }));

      const created = await Promise.all(requests.map(({ request, metadata }) => sut.create(request, metadata)));

      const { rows } = await db.query<{ stream_id: string; stream_version: number; request_id: string; transaction_id: string }>(
        `SELECT stream_id, stream_version, metadata->>'requestId' AS request_id, transaction_id::text FROM events
         WHERE stream_id = ANY($1::uuid[]) ORDER BY position`,
        [created.map((c) => c.id)],
      );
      // Fewer commits than creates: some were written together.
      expect(new Set(rows.map((r) => r.transaction_id)).size).toBeLessThan(requests.length);
      for (const [i, view] of created.entries()) {
        const stream = rows.filter((r) => r.stream_id === view.id);
        expect(stream.map((r) => r.stream_version)).toEqual(stream.map((_, v) => v + 1));
        expect(new Set(stream.map((r) => r.request_id))).toEqual(new Set([`batch-${i}`]));
        expect(new Set(stream.map((r) => r.transaction_id)).size).toBe(1);
        const { state } = await loadContact(db, view.id);
        expect(state).toMatchObject({ firstname: `Batch ${i}`, tags: [`t"${i}`, 'back\\slash'], version: stream.length });
        const { rows: read } = await db.query<{ view: string; tags: string[]; head_hash: string }>(
          'SELECT view::text, tags, head_hash FROM contacts WHERE id = $1',
          [view.id],
        );
        expect(read[0]?.view).toBe(JSON.stringify(view));
        expect(read[0]?.tags).toEqual([`t"${i}`, 'back\\slash']);
      }
      const chains = await verifyChains(db);
      expect(chains.breaks).toEqual([]);
    });

    it('returns the contact as created, without its password', async () => {
      const email = uniqueEmail('returns');

      const view = await sut.create(
        aRequest(aUser({ email, accessRoles: [{ reference: 'trade', expires: '2026-02-01T00:00:00+00:00', status: 'active' }] }), {
          mayBypassApproval: true,
        }),
        aMetadata(),
      );

      expect(view).toMatchObject({
        type: 'user',
        email,
        hasPassword: true,
        accessRoles: [{ reference: 'trade', status: 'active', expires: '2026-02-01T00:00:00+00:00' }],
        version: 3,
        created: '2026-01-15T10:00:00+00:00',
      });
      expect(JSON.stringify(view)).not.toMatch(/\$2b\$|correct horse/);
    });

    it('issues an invite that expires after the configured time', async () => {
      const view = await sut.create(aRequest(aUser({ email: uniqueEmail('invited') }), { invite: true }), aMetadata());

      expect(view.invite).toEqual({ status: 'pending', expiresAt: '2026-01-22T10:00:00+00:00' });
    });

    it('writes no event, row or reservation for a create the rules refuse', async () => {
      const email = uniqueEmail('refused');
      const before = await tableCounts();

      const error = await refusal(sut.create({ contact: aUser({ email, accessRoles: ['no-such-role'] }), invite: false }, aMetadata()));

      expect(error.kind).toBe('invalid');
      expect(error.errors.map((e) => e.code).sort()).toEqual(['required', 'unknown_access_role']);
      expect(await tableCounts()).toEqual(before);
      expect(await reservationsOf(email)).toEqual([]);
    });

    it('rolls the appended events back when the reservation is refused', async () => {
      const email = uniqueEmail('taken');
      const first = await sut.create(aRequest(aUser({ email })), aMetadata());
      const before = await tableCounts();

      const error = await refusal(sut.create(aRequest(aUser({ email: ` ${email.toUpperCase()}` })), aMetadata()));

      expect(error.kind).toBe('conflict');
      expect(error.errors).toEqual([expect.objectContaining({ field: '/contact/email', code: 'email_taken' })]);
      expect(await tableCounts()).toEqual(before);
      expect(await createdEventsFor(email)).toEqual([{ stream_id: first.id }]);
      expect(await reservationsOf(email)).toEqual([{ kind: 'user', contact_id: first.id }]);
    });
  });

  describe('email reservations', () => {
    it('lets exactly one of 20 concurrent users take one email, however it is cased or padded', async () => {
      const email = uniqueEmail('race');
      const spellings = Array.from({ length: 20 }, (_, i) => {
        const cased = i % 2 === 0 ? email.toUpperCase() : email;
        return `${' '.repeat(i % 3)}${cased}${'\t'.repeat(i % 4 === 1 ? 1 : 0)}`;
      });

      const outcomes = await Promise.allSettled(
        spellings.map((spelling, i) => sut.create(aRequest(aUser({ email: spelling, firstname: `User${i}` })), aMetadata())),
      );

      const created = outcomes.filter((o): o is PromiseFulfilledResult<ContactView> => o.status === 'fulfilled');
      const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(created).toHaveLength(1);
      expect(refused).toHaveLength(19);
      for (const { reason } of refused) {
        expect(reason).toBeInstanceOf(ContactRejected);
        expect(reason).toMatchObject({ kind: 'conflict', errors: [expect.objectContaining({ code: 'email_taken' })] });
      }
      const winner = created[0]?.value.id;
      expect(await reservationsOf(email)).toEqual([{ kind: 'user', contact_id: winner }]);
      expect(await createdEventsFor(email)).toEqual([{ stream_id: winner }]);
      expect(await contactsWith(email)).toEqual([{ id: winner, type: 'user' }]);
    });

    it('refuses a recipient the email of an existing user', async () => {
      const email = uniqueEmail('user-first');
      const user = await sut.create(aRequest(aUser({ email })), aMetadata());

      const error = await refusal(sut.create(aRequest(aRecipient({ email: email.toUpperCase() })), aMetadata()));

      expect(error).toMatchObject({ kind: 'conflict', errors: [expect.objectContaining({ code: 'email_taken' })] });
      expect(await contactsWith(email)).toEqual([{ id: user.id, type: 'user' }]);
    });

    it("lets a user take a recipient's email", async () => {
      const email = uniqueEmail('recipient-first');
      const recipient = await sut.create(aRequest(aRecipient({ email })), aMetadata());

      const user = await sut.create(aRequest(aUser({ email })), aMetadata());

      expect(await reservationsOf(email)).toEqual([
        { kind: 'recipient', contact_id: recipient.id },
        { kind: 'user', contact_id: user.id },
      ]);
    });

    it.each([
      ['recipient', aRecipient],
      ['branch', aBranch],
    ] as const)('keeps a %s email unique among its type', async (_type, aContact) => {
      const email = uniqueEmail('unique');
      await sut.create(aRequest(aContact({ email })), aMetadata());

      const error = await refusal(sut.create(aRequest(aContact({ email: ` ${email.toUpperCase()} ` })), aMetadata()));

      expect(error.kind).toBe('conflict');
      expect(await contactsWith(email)).toHaveLength(1);
    });

    it("lets a branch share a user's email", async () => {
      const email = uniqueEmail('shared');
      await sut.create(aRequest(aUser({ email })), aMetadata());

      await sut.create(aRequest(aBranch({ email })), aMetadata());

      expect((await reservationsOf(email)).map((r) => r.kind)).toEqual(['branch', 'user']);
    });

    it('never reserves a guest email: guests may share one', async () => {
      const email = uniqueEmail('guest');

      const guests = await Promise.all([0, 1, 2].map(() => sut.create(aRequest(aGuest({ email })), aMetadata())));

      expect(await contactsWith(email)).toHaveLength(3);
      expect(await reservationsOf(email)).toEqual([]);
      expect(new Set(guests.map((g) => g.id)).size).toBe(3);
    });

    it('never leaves a recipient holding a user’s email unless the recipient committed first, round after round', async () => {
      const ordered = new CommitOrderedDatabase({ url: database.url, applicationName: 'test-commit-order' });
      const racingSut = serviceOn(ordered);
      await db.query('CREATE SEQUENCE IF NOT EXISTS test_commit_order');
      try {
        for (let round = 0; round < 25; round += 1) {
          const email = uniqueEmail(`round${round}`);
          const user = (): Promise<ContactView> => racingSut.create(aRequest(aUser({ email })), aMetadata());
          const recipient = (): Promise<ContactView> => racingSut.create(aRequest(aRecipient({ email: email.toUpperCase() })), aMetadata());
          const [userOutcome, recipientOutcome] =
            round % 2 === 0
              ? await Promise.allSettled([user(), recipient()])
              : await Promise.allSettled([recipient(), user()]).then(([r, u]) => [u, r] as const);

          // A user is never refused because of a recipient.
          expect(userOutcome?.status).toBe('fulfilled');
          const userId = userOutcome?.status === 'fulfilled' ? userOutcome.value.id : '';
          if (recipientOutcome?.status === 'fulfilled') {
            const recipientId = recipientOutcome.value.id;
            expect(ordered.commitOrder.get(recipientId)).toBeLessThan(ordered.commitOrder.get(userId) ?? 0n);
            expect((await reservationsOf(email)).map((r) => r.kind)).toEqual(['recipient', 'user']);
          } else {
            expect(recipientOutcome?.reason).toMatchObject({ kind: 'conflict' });
            expect(await reservationsOf(email)).toEqual([{ kind: 'user', contact_id: userId }]);
            expect(await contactsWith(email)).toEqual([{ id: userId, type: 'user' }]);
          }
        }
      } finally {
        await ordered.close();
      }
    });
  });

  describe('recorded times', () => {
    const serviceWith = (clock: Clock): ContactService =>
      new ContactService(db, new EventStore(db), new RoleCatalogue(db), clock, {
        bcryptCost: 4,
        inviteTtlMs: 7 * DAY,
        inviteTokens: new InviteTokens('test-secret'),
      });

    async function recordedTimes(contactId: string): Promise<number[]> {
      const { rows } = await db.query<{ recorded_at: Date }>(
        'SELECT recorded_at FROM events WHERE stream_id = $1 ORDER BY stream_version',
        [contactId],
      );
      return rows.map((r) => r.recorded_at.getTime());
    }

    it('records an update that waited for the contact at the moment it got it, not when it asked', async () => {
      const clock = new FixedClock(now);
      const service = serviceWith(clock);
      const created = await service.create(aRequest(aGuest({ email: uniqueEmail('waited') })), aMetadata());
      const later = new Date(now.getTime() + 3_600_000);

      // The update is handed out of the transaction unawaited: it can finish only once this commits.
      const { waited } = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [created.id]);
        const update = service.update(created.id, { contact: { firstname: 'Waited' }, invite: false }, aMetadata());
        await until(async () => {
          const { rows } = await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
          return rows.length > 0;
        });
        clock.set(later);
        return { waited: update };
      });
      await waited;

      expect(await recordedTimes(created.id)).toEqual([now.getTime(), later.getTime()]);
    });

    it('never records an event of a stream before the one it follows, with concurrent writers whose clocks disagree', async () => {
      const service = serviceWith(new RewindingClock());
      const created = await sut.create(aRequest(aGuest({ email: uniqueEmail('rewind') })), aMetadata());

      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          service.update(created.id, { contact: { firstname: `Writer ${i}` }, invite: false }, aMetadata()),
        ),
      );

      const times = await recordedTimes(created.id);
      expect(times).toHaveLength(13);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect((await verifyChains(db)).breaks).toEqual([]);
    });
  });
});
