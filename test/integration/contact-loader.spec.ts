import { randomUUID } from 'node:crypto';
import { FixedClock } from '@app/config';
import { InviteTokens } from '@app/auth';
import { ContactService, loadContact } from '@app/contact-service';
import { fold, FOLD_VERSION } from '@app/contacts';
import { EventStore, toRecorded, UnknownEventType, type EventMetadata } from '@app/event-store';
import { RoleCatalogue } from '@app/roles';
import { aGuest } from '../../libs/contacts/src/testing/contact.factories.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const now = new Date('2026-01-15T10:00:00Z');
const metadata: EventMetadata = { clientId: 'client-1', requestId: null, correlationId: null, causationId: null };
const email = (): string => `loader-${randomUUID().slice(0, 8)}@example.com`;

describe(loadContact.name, () => {
  let database: TestDatabase;
  let store: EventStore;
  let service: ContactService;

  beforeAll(async () => {
    database = await createTestDatabase('loader');
    store = new EventStore(database.db);
    service = new ContactService(database.db, store, new RoleCatalogue(database.db), new FixedClock(now), {
      bcryptCost: 4,
      inviteTtlMs: 86_400_000,
      inviteTokens: new InviteTokens('test-secret'),
    });
  });
  afterAll(async () => {
    await database.drop();
  });

  /** What reading and folding the whole stream gives: the loader must always agree with it. */
  async function fromTheLog(id: string): Promise<unknown> {
    const stream = await store.readStream(id);
    return { state: fold(stream.events.map(toRecorded)), head: stream.head };
  }

  it('loads a contact from its snapshot, as folding its whole stream would', async () => {
    const created = await service.create({ contact: aGuest({ email: email() }), invite: false }, metadata);
    for (const lastname of ['One', 'Two', 'Three']) await service.update(created.id, { contact: { lastname }, invite: false }, metadata);

    const sut = await loadContact(database.db, created.id);

    expect(sut.state?.lastname).toBe('Three');
    expect(sut.head.version).toBe(4);
    expect(sut).toEqual(await fromTheLog(created.id));
  });

  it('folds events appended past the snapshot by a writer that did not update it', async () => {
    const created = await service.create({ contact: aGuest({ email: email() }), invite: false }, metadata);
    const { head } = await store.readStream(created.id);
    await store.append(database.db, created.id, head, [{ type: 'TagsSet', data: { tags: ['late'] } }], { metadata, recordedAt: now });

    const sut = await loadContact(database.db, created.id);

    expect(sut.state?.tags).toEqual(['late']);
    expect(sut.head.version).toBe(2);
    expect(sut).toEqual(await fromTheLog(created.id));
  });

  it('reads the whole stream when the row holds no snapshot (rows from before snapshots)', async () => {
    const created = await service.create({ contact: aGuest({ email: email() }), invite: false }, metadata);
    await service.update(created.id, { contact: { firstname: 'Zed' }, invite: false }, metadata);
    await database.db.query('UPDATE contacts SET state = NULL, head_hash = NULL WHERE id = $1', [created.id]);

    const sut = await loadContact(database.db, created.id);

    expect(sut.state?.firstname).toBe('Zed');
    expect(sut).toEqual(await fromTheLog(created.id));
  });

  describe('a snapshot and the version of the fold that made it', () => {
    /** Gives the snapshot a first name its events never gave it, and the fold version `foldVersion`. */
    async function forgeSnapshot(id: string, foldVersion: number): Promise<void> {
      await database.db.query(
        `UPDATE contacts SET state = state || jsonb_build_object('firstname', 'Forged', 'foldVersion', $2::int) WHERE id = $1`,
        [id, foldVersion],
      );
    }

    it('starts from a snapshot this fold made', async () => {
      const created = await service.create({ contact: aGuest({ email: email(), firstname: 'Ann' }), invite: false }, metadata);
      await forgeSnapshot(created.id, FOLD_VERSION);

      const sut = await loadContact(database.db, created.id);

      expect(sut.state?.firstname).toBe('Forged');
      expect(sut.state).not.toHaveProperty('foldVersion');
    });

    it('folds the stream again instead of a snapshot another version of the fold made', async () => {
      const created = await service.create({ contact: aGuest({ email: email(), firstname: 'Ann' }), invite: false }, metadata);
      await service.update(created.id, { contact: { lastname: 'Later' }, invite: false }, metadata);
      await forgeSnapshot(created.id, FOLD_VERSION + 1);

      const sut = await loadContact(database.db, created.id);

      expect(sut.state?.firstname).toBe('Ann');
      expect(sut).toEqual(await fromTheLog(created.id));
    });

    it('folds the stream again instead of a snapshot that names no fold version (written before they did)', async () => {
      const created = await service.create({ contact: aGuest({ email: email(), firstname: 'Ann' }), invite: false }, metadata);
      await database.db.query(`UPDATE contacts SET state = state - 'foldVersion' || '{"firstname": "Forged"}' WHERE id = $1`, [created.id]);

      const sut = await loadContact(database.db, created.id);

      expect(sut.state?.firstname).toBe('Ann');
    });
  });

  it('refuses a stream holding an event of a type this release does not know', async () => {
    const created = await service.create({ contact: aGuest({ email: email() }), invite: false }, metadata);
    const { head } = await store.readStream(created.id);
    await store.append(database.db, created.id, head, [{ type: 'ContactMerged', data: { into: randomUUID() } }], {
      metadata,
      recordedAt: now,
    });

    await expect(loadContact(database.db, created.id)).rejects.toThrow(UnknownEventType);
  });

  it('finds no contact for an unknown id', async () => {
    expect(await loadContact(database.db, randomUUID())).toEqual({ state: null, head: { version: 0, hash: null } });
  });
});
