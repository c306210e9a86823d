import { randomUUID } from 'node:crypto';
import { InviteTokens } from '@app/auth';
import { FixedClock } from '@app/config';
import { ContactService } from '@app/contact-service';
import { EventStore, verifyChains, type EventMetadata } from '@app/event-store';
import { RoleCatalogue } from '@app/roles';
import { CheckFailed, run } from '../../apps/cli/src/cli.js';
import { anAddress, aGuest, aUser } from '../../libs/contacts/src/testing/contact.factories.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const metadata = (): EventMetadata => ({ clientId: 'client-1', requestId: randomUUID(), correlationId: randomUUID(), causationId: null });

interface EventAt {
  position: string;
  stream_id: string;
  stream_version: number;
}

describe('npm run cli -- verify', () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  /** streams of four events each: created, address, tags, updated */
  let streams: string[];

  beforeAll(async () => {
    database = await createTestDatabase('verify');
    env = { DATABASE_URL: database.url };
    const db = database.db;
    const service = new ContactService(db, new EventStore(db), new RoleCatalogue(db), new FixedClock(new Date('2026-01-15T10:00:00Z')), {
      bcryptCost: 4,
      inviteTtlMs: 86_400_000,
      inviteTokens: new InviteTokens('test-secret'),
    });
    streams = [];
    for (let i = 0; i < 6; i++) {
      const contact =
        i % 2 === 0
          ? await service.create(
              {
                contact: { ...aGuest({ email: `guest-${i}@example.com`, address: anAddress() }), tags: { contact: ['a'] } },
                invite: false,
              },
              metadata(),
            )
          : await service.create(
              {
                contact: {
                  ...aUser({ email: `user-${i}@example.com`, address: anAddress() }),
                  tags: { contact: ['b'] },
                  password: 'correct horse 42',
                },
                invite: false,
              },
              metadata(),
            );
      await service.update(contact.id, { contact: { lastname: `Updated ${i}` }, invite: false }, metadata());
      streams.push(contact.id);
    }
  });
  afterAll(() => database.drop());

  /** Runs the command as the CLI would: what it printed, and the error it failed with, if any. */
  async function sut(): Promise<{ printed: string[]; error: unknown }> {
    const printed: string[] = [];
    const error = await run(['verify'], env, (line) => printed.push(line)).then(
      () => null,
      (e: unknown) => e,
    );
    return { printed, error };
  }

  async function eventOf(streamId: string, version: number): Promise<EventAt & Record<string, unknown>> {
    const { rows } = await database.db.query<EventAt & Record<string, unknown>>(
      'SELECT * FROM events WHERE stream_id = $1 AND stream_version = $2',
      [streamId, version],
    );
    const event = rows[0];
    if (!event) throw new Error(`no version ${version} in stream ${streamId}`);
    return event;
  }

  async function counts(): Promise<{ events: number; streams: number }> {
    const { rows } = await database.db.query<{ events: string; streams: string }>(
      'SELECT count(*) AS events, count(DISTINCT stream_id) AS streams FROM events',
    );
    return { events: Number(rows[0]?.events), streams: Number(rows[0]?.streams) };
  }

  /** Runs SQL the append-only trigger would refuse (tests connect as a superuser), then arms it again. */
  async function behindTheApplicationsBack(sql: string, values: unknown[]): Promise<void> {
    await database.db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
    try {
      await database.db.query(sql, values);
    } finally {
      await database.db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
    }
  }

  /** Puts a deleted event back exactly as it was (position, transaction id and all). */
  async function restore(event: Record<string, unknown>): Promise<void> {
    await behindTheApplicationsBack(
      `INSERT INTO events (position, stream_id, stream_version, type, data, metadata, recorded_at, transaction_id, hash)
       SELECT position, stream_id, stream_version, type, data, metadata, recorded_at, transaction_id, hash
       FROM json_populate_record(NULL::events, $1::json)`,
      [JSON.stringify(event)],
    );
  }

  it('passes an intact log and says how much it checked', async () => {
    const { events, streams: streamCount } = await counts();

    const { printed, error } = await sut();

    expect(error).toBeNull();
    expect(printed).toEqual([`verify: ${events} events in ${streamCount} streams, every chain intact`]);
  });

  it('reads the log in batches, streams running across batch boundaries, with progress after each', async () => {
    const progress: [number, number][] = [];

    const report = await verifyChains(database.db, { batchSize: 3, onProgress: (done, total) => progress.push([done, total]) });

    const { events, streams: streamCount } = await counts();
    expect(report).toEqual({ events, streams: streamCount, breaks: [] });
    expect(progress.at(-1)).toEqual([events, events]);
    expect(progress.length).toBeGreaterThanOrEqual(Math.ceil(events / 3));
  });

  it("names the position and stream of an event whose data was edited behind the application's back", async () => {
    const streamId = streams[1] ?? '';
    const event = await eventOf(streamId, 2);
    await behindTheApplicationsBack(`UPDATE events SET data = jsonb_set(data, '{tampered}', 'true') WHERE position = $1`, [event.position]);
    try {
      const { printed, error } = await sut();

      expect(error).toBeInstanceOf(CheckFailed);
      expect(String(error)).toContain(
        `hash chain broken at position ${event.position} in stream ${streamId} (version 2): its hash does not match its content`,
      );
      expect(printed).toEqual([
        `verify: position ${event.position}, stream ${streamId}, version 2: its hash does not match its content and the hash of the event before it`,
      ]);
    } finally {
      await behindTheApplicationsBack('UPDATE events SET data = $2 WHERE position = $1', [event.position, event.data]);
    }
    expect((await sut()).error).toBeNull();
  });

  it.each([
    ['a recorded_at moved by a second', `UPDATE events SET recorded_at = recorded_at + interval '1 second' WHERE position = $1`],
    [
      'metadata naming another client',
      `UPDATE events SET metadata = jsonb_set(metadata, '{clientId}', '"someone-else"') WHERE position = $1`,
    ],
    ['a hash replaced', `UPDATE events SET hash = repeat('0', 64) WHERE position = $1`],
  ])('catches %s', async (_, tampering) => {
    const streamId = streams[2] ?? '';
    const event = await eventOf(streamId, 3);
    await behindTheApplicationsBack(tampering, [event.position]);
    try {
      const { error } = await sut();

      expect(error).toBeInstanceOf(CheckFailed);
      expect(String(error)).toContain(`position ${event.position} in stream ${streamId} (version 3)`);
    } finally {
      await behindTheApplicationsBack('DELETE FROM events WHERE position = $1', [event.position]);
      await restore(event);
    }
    expect((await sut()).error).toBeNull();
  });

  it('names the event after a gap where one was deleted', async () => {
    const streamId = streams[3] ?? '';
    const deleted = await eventOf(streamId, 2);
    const after = await eventOf(streamId, 3);
    await behindTheApplicationsBack('DELETE FROM events WHERE position = $1', [deleted.position]);
    try {
      const { printed, error } = await sut();

      expect(error).toBeInstanceOf(CheckFailed);
      expect(String(error)).toContain(
        `position ${after.position} in stream ${streamId} (version 3): version 3 follows version 1: version 2 is missing`,
      );
      expect(printed).toHaveLength(1);
    } finally {
      await restore(deleted);
    }
    expect((await sut()).error).toBeNull();
  });

  it('names a stream whose first event was deleted', async () => {
    const streamId = streams[4] ?? '';
    const deleted = await eventOf(streamId, 1);
    const second = await eventOf(streamId, 2);
    await behindTheApplicationsBack('DELETE FROM events WHERE position = $1', [deleted.position]);
    try {
      const { error } = await sut();

      expect(String(error)).toContain(
        `position ${second.position} in stream ${streamId} (version 2): the stream starts at version 2, not 1`,
      );
    } finally {
      await restore(deleted);
    }
  });

  it('reports every broken stream, the earliest position first, and counts them', async () => {
    const early = await eventOf(streams[0] ?? '', 2);
    const late = await eventOf(streams[5] ?? '', 4);
    await behindTheApplicationsBack(`UPDATE events SET type = 'Forged' WHERE position = ANY($1::bigint[])`, [
      [late.position, early.position],
    ]);
    try {
      const { printed, error } = await sut();

      expect(String(error)).toMatch(new RegExp(`at position ${early.position} in stream ${early.stream_id} .*; 2 of \\d+ streams broken`));
      expect(printed.map((line) => line.split(',')[0])).toEqual([
        `verify: position ${early.position}`,
        `verify: position ${late.position}`,
      ]);
    } finally {
      await behindTheApplicationsBack(`UPDATE events SET type = $2 WHERE position = $1`, [early.position, early.type]);
      await behindTheApplicationsBack(`UPDATE events SET type = $2 WHERE position = $1`, [late.position, late.type]);
    }
    expect((await sut()).error).toBeNull();
  });
});
