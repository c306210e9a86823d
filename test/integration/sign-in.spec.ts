import { randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import { InviteTokens } from '@app/auth';
import { FixedClock } from '@app/config';
import { ContactService, InvalidCredentials, loadContact, SignInService } from '@app/contact-service';
import { fold, type ContactEvent } from '@app/contacts';
import { Database } from '@app/database';
import { EventStore, type EventMetadata } from '@app/event-store';
import { contactsProjection } from '@app/projections';
import { RoleCatalogue } from '@app/roles';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * Sign-in over hashes the API never writes itself but an import from an old site stores as they
 * are (DESIGN §11): PHP's `$2y$`, the older `$2a$`, lower costs. The service runs at cost 5.
 */

const now = new Date('2026-01-15T10:00:00Z');
const COST = 5;
const PASSWORD = 'correct horse 42';

const aMetadata = (): EventMetadata => ({ clientId: 'website', requestId: randomUUID(), correlationId: randomUUID(), causationId: null });
const uniqueEmail = (): string => `signin-${randomUUID().slice(0, 8)}@example.com`;

describe(SignInService.name, () => {
  let database: TestDatabase;
  let db: Database;
  let store: EventStore;
  let sut: SignInService;

  beforeAll(async () => {
    database = await createTestDatabase('signin');
    db = new Database({ url: database.url, applicationName: 'test-sign-in' });
    store = new EventStore(db);
    const clock = new FixedClock(now);
    const contacts = new ContactService(db, store, new RoleCatalogue(db), clock, {
      bcryptCost: COST,
      inviteTtlMs: 86_400_000,
      inviteTokens: new InviteTokens('test-secret'),
    });
    sut = new SignInService(db, contacts, clock, { bcryptCost: COST });
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  /** A user whose stored hash is `hash`, appended as an import stores one: as it is, read row alongside. */
  async function aUserWithHash(hash: string): Promise<{ id: string; email: string }> {
    const id = randomUUID();
    const email = uniqueEmail();
    const events: ContactEvent[] = [
      { type: 'ContactCreated', data: { contactId: id, contactType: 'user', firstname: 'Ann', lastname: 'Lee', email, company: null } },
      { type: 'PasswordSet', data: { passwordHash: hash } },
    ];
    const next = fold(events.map((event, i) => ({ ...event, version: i + 1, recordedAt: now.toISOString() })));
    const row = next && contactsProjection.toRow(next);
    if (!row) throw new Error('no read row');
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO email_reservations (kind, email, contact_id) VALUES ('user', $1, $2)`, [email, id]);
      await store.append(tx, id, { version: 0, hash: null }, events, {
        metadata: aMetadata(),
        recordedAt: now,
        alongside: contactsProjection.saveAlongside(row),
      });
    });
    return { id, email };
  }

  const passwordEvents = async (id: string): Promise<Record<string, unknown>[]> =>
    (await store.readStream(id)).events.filter((e) => e.type === 'PasswordSet').map((e) => e.data);

  it.each([
    ["PHP's $2y$ at a lower cost", async () => (await bcrypt.hash(PASSWORD, 4)).replace(/^\$2b\$/, '$2y$')],
    ['$2y$ at the current cost', async () => (await bcrypt.hash(PASSWORD, COST)).replace(/^\$2b\$/, '$2y$')],
    ['$2a$ at the current cost', async () => (await bcrypt.hash(PASSWORD, COST)).replace(/^\$2b\$/, '$2a$')],
    ['$2b$ at a lower cost', () => bcrypt.hash(PASSWORD, 4)],
  ])('signs in on %s and stores a $2b$ hash of the current cost', async (_case, hashOf) => {
    const imported = await hashOf();
    const user = await aUserWithHash(imported);

    const contact = await sut.authenticate(user.email, PASSWORD, aMetadata());

    expect(contact).toMatchObject({ id: user.id, hasPassword: true, version: 3 });
    const [, rehashed] = await passwordEvents(user.id);
    expect(rehashed).toEqual({ passwordHash: expect.stringMatching(/^\$2b\$05\$/), reason: 'rehash' });
    expect((await loadContact(db, user.id)).state?.passwordHash).toBe(rehashed?.passwordHash);
    await expect(sut.authenticate(user.email, PASSWORD, aMetadata())).resolves.toMatchObject({ version: 3 });
    expect(await passwordEvents(user.id)).toHaveLength(2);
  });

  it('keeps a $2b$ hash of the current cost as it is', async () => {
    const user = await aUserWithHash(await bcrypt.hash(PASSWORD, COST));

    await expect(sut.authenticate(user.email, PASSWORD, aMetadata())).resolves.toMatchObject({ id: user.id, version: 2 });

    expect(await passwordEvents(user.id)).toHaveLength(1);
  });

  it('refuses a wrong password on an imported $2y$ hash, and rehashes nothing', async () => {
    const user = await aUserWithHash((await bcrypt.hash(PASSWORD, 4)).replace(/^\$2b\$/, '$2y$'));

    await expect(sut.authenticate(user.email, 'not the password 1', aMetadata())).rejects.toBeInstanceOf(InvalidCredentials);

    expect(await passwordEvents(user.id)).toHaveLength(1);
  });

  it('refuses a stored hash bcrypt cannot read, like a wrong password', async () => {
    const user = await aUserWithHash('$1$not-bcrypt$at-all');

    await expect(sut.authenticate(user.email, PASSWORD, aMetadata())).rejects.toBeInstanceOf(InvalidCredentials);
  });
});
