import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  checkpointOf,
  ConcurrencyError,
  EMPTY_STREAM,
  eventHash,
  EventStore,
  type EventMetadata,
  type LogCheckpoint,
  type NewEvent,
  type StoredEvent,
  type StreamHead,
} from '@app/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const aStreamId = (): string => randomUUID();
const recordedAt = new Date('2026-01-15T10:00:00.123Z');

const aMetadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  clientId: 'client-1',
  requestId: randomUUID(),
  correlationId: randomUUID(),
  causationId: null,
  ...overrides,
});

const anEvent = (overrides: Partial<NewEvent> = {}): NewEvent => ({
  type: 'ThingHappened',
  data: { n: 1, name: 'Zoë', nested: { b: [1, 'two', null], a: true } },
  ...overrides,
});

const numbered = (count: number, from = 1): NewEvent[] => Array.from({ length: count }, (_, i) => anEvent({ data: { n: from + i } }));

/** Recomputes every link of a stream's chain from the stored content (what `cli verify` does). */
function expectIntactChain(events: StoredEvent[]): void {
  let previous: string | null = null;
  for (const e of events) {
    const content = {
      streamId: e.streamId,
      version: e.version,
      type: e.type,
      data: e.data,
      metadata: e.metadata,
      recordedAt: e.recordedAt,
    };
    expect(e.hash).toBe(eventHash(previous, content));
    previous = e.hash;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `parties` callers have arrived: makes two transactions overlap for certain. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    arrived += 1;
    if (arrived === parties) release();
    await all;
  };
}

describe(EventStore.name, () => {
  let database: TestDatabase;
  let sut: EventStore;

  beforeAll(async () => {
    database = await createTestDatabase('eventstore');
    sut = new EventStore(database.db);
  });
  afterAll(async () => {
    await database.drop();
  });

  /**
   * Follows the log like a consumer: pages of `limit` from `after` until every event of `streams`
   * that `expected` counts has arrived. A transaction still open anywhere on the server (other
   * test files run in parallel) may hold the visible horizon back for a moment, so an empty page
   * is retried until the deadline rather than taken as the end.
   */
  async function follow(
    after: LogCheckpoint | null,
    streams: string[],
    expected: number,
    limit = 1000,
  ): Promise<{ events: StoredEvent[]; checkpoint: LogCheckpoint | null }> {
    const mine = new Set(streams);
    const events: StoredEvent[] = [];
    let checkpoint = after;
    const deadline = Date.now() + 10_000;
    while (events.filter((e) => mine.has(e.streamId)).length < expected && Date.now() < deadline) {
      const page = await sut.readAll(checkpoint, limit);
      expect(page.length).toBeLessThanOrEqual(limit);
      const last = page.at(-1);
      if (!last) {
        await sleep(20);
        continue;
      }
      events.push(...page);
      checkpoint = checkpointOf(last);
    }
    const arrived = events.filter((e) => mine.has(e.streamId)).length;
    if (arrived < expected) throw new Error(`the log handed out ${arrived} of ${expected} events in 10 s`);
    return { events, checkpoint };
  }

  /** Where a new reader of the whole log stands after reading everything visible now. */
  async function endOfLog(): Promise<LogCheckpoint | null> {
    let checkpoint: LogCheckpoint | null = null;
    for (;;) {
      const page = await sut.readAll(checkpoint, 1000);
      const last = page.at(-1);
      if (!last) return checkpoint;
      checkpoint = checkpointOf(last);
    }
  }

  const commitOrder = (a: StoredEvent, b: StoredEvent): number => {
    const byTx = BigInt(a.transactionId) - BigInt(b.transactionId);
    const diff = byTx !== 0n ? byTx : BigInt(a.position) - BigInt(b.position);
    return diff < 0n ? -1 : diff > 0n ? 1 : 0;
  };

  describe('append and readStream', () => {
    it('stores events at versions 1..n with their data, metadata, time and a hash chain', async () => {
      const streamId = aStreamId();
      const metadata = aMetadata();
      const first = anEvent({ type: 'Opened', data: { title: 'Ünïcødé ✓', tags: ['a', 'b'], count: 3, flag: false, none: null } });
      const second = anEvent({ type: 'Renamed', data: { title: 'next', deep: { z: 1, a: [{ y: 2, x: 1 }] } } });

      const appended = await sut.append(database.db, streamId, EMPTY_STREAM, [first, second], { metadata, recordedAt });
      const more = await sut.append(database.db, streamId, { version: 2, hash: appended[1]?.hash ?? null }, numbered(2), {
        metadata,
        recordedAt,
      });

      const stream = await sut.readStream(streamId);
      expect(stream.events.map((e) => e.version)).toEqual([1, 2, 3, 4]);
      expect(stream.events.map((e) => [e.type, e.data])).toEqual([
        ['Opened', first.data],
        ['Renamed', second.data],
        ['ThingHappened', { n: 1 }],
        ['ThingHappened', { n: 2 }],
      ]);
      for (const e of stream.events) {
        expect(e.streamId).toBe(streamId);
        expect(e.metadata).toEqual(metadata);
        expect(e.recordedAt).toBe('2026-01-15T10:00:00.123Z');
      }
      expect(stream.head).toEqual({ version: 4, hash: stream.events[3]?.hash });
      expect(stream.events.map((e) => [e.position, e.hash, e.transactionId])).toEqual(
        [...appended, ...more].map((e) => [e.position, e.hash, e.transactionId]),
      );
      expectIntactChain(stream.events);
    });

    it('gives every event of one append the same transaction and increasing positions', async () => {
      const appended = await sut.append(database.db, aStreamId(), EMPTY_STREAM, numbered(3), { metadata: aMetadata(), recordedAt });

      expect(new Set(appended.map((e) => e.transactionId)).size).toBe(1);
      const positions = appended.map((e) => BigInt(e.position));
      expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
      expect(new Set(positions).size).toBe(3);
    });

    it('hashes an event as it reads back, whatever the data holds (a Date is stored as its JSON text)', async () => {
      const streamId = aStreamId();
      await sut.append(
        database.db,
        streamId,
        EMPTY_STREAM,
        [anEvent({ data: { at: new Date('2026-02-01T00:00:00Z'), big: 1e21, list: [undefined, 1] } })],
        {
          metadata: aMetadata(),
          recordedAt,
        },
      );

      const { events } = await sut.readStream(streamId);
      expect(events[0]?.data).toEqual({ at: '2026-02-01T00:00:00.000Z', big: 1e21, list: [null, 1] });
      expectIntactChain(events);
    });

    it('reads an unknown stream as empty', async () => {
      await expect(sut.readStream(aStreamId())).resolves.toEqual({ events: [], head: EMPTY_STREAM });
    });

    it('appends nothing for an empty list', async () => {
      const streamId = aStreamId();

      await expect(sut.append(database.db, streamId, EMPTY_STREAM, [], { metadata: aMetadata(), recordedAt })).resolves.toEqual([]);
      expect((await sut.readStream(streamId)).events).toEqual([]);
    });
  });

  describe('expected version', () => {
    it('refuses an append at a stale version with a ConcurrencyError and writes none of it', async () => {
      const streamId = aStreamId();
      const [firstEvent] = await sut.append(database.db, streamId, EMPTY_STREAM, numbered(2), { metadata: aMetadata(), recordedAt });
      const stale: StreamHead = { version: 1, hash: firstEvent?.hash ?? null };

      const attempt = sut.append(database.db, streamId, stale, numbered(3, 10), { metadata: aMetadata(), recordedAt });

      await expect(attempt).rejects.toBeInstanceOf(ConcurrencyError);
      await expect(attempt).rejects.toMatchObject({ streamId, expectedVersion: 1 });
      const { events } = await sut.readStream(streamId);
      expect(events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('refuses an expected version beyond the stream, so a stream never has a gap', async () => {
      const streamId = aStreamId();
      await sut.append(database.db, streamId, EMPTY_STREAM, numbered(1), { metadata: aMetadata(), recordedAt });

      const ahead = sut.append(database.db, streamId, { version: 3, hash: null }, numbered(1, 5), { metadata: aMetadata(), recordedAt });

      await expect(ahead).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await sut.readStream(streamId)).events.map((e) => e.version)).toEqual([1]);
    });

    it('refuses to start a stream that already exists', async () => {
      const streamId = aStreamId();
      await sut.append(database.db, streamId, EMPTY_STREAM, numbered(1), { metadata: aMetadata(), recordedAt });

      await expect(
        sut.append(database.db, streamId, EMPTY_STREAM, numbered(1, 5), { metadata: aMetadata(), recordedAt }),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect((await sut.readStream(streamId)).events).toHaveLength(1);
    });

    it('never lets a unique violation out as a raw Postgres error, inside a transaction or not', async () => {
      const streamId = aStreamId();
      await sut.append(database.db, streamId, EMPTY_STREAM, numbered(2), { metadata: aMetadata(), recordedAt });

      const outside = await sut
        .append(database.db, streamId, { version: 1, hash: null }, numbered(1), { metadata: aMetadata(), recordedAt })
        .catch((e: unknown) => e);
      const inside = await database.db
        .transaction((tx) => sut.append(tx, streamId, EMPTY_STREAM, numbered(2), { metadata: aMetadata(), recordedAt }))
        .catch((e: unknown) => e);

      for (const error of [outside, inside]) {
        expect(error).toBeInstanceOf(ConcurrencyError);
        expect(error).not.toHaveProperty('code');
        expect((error as Error).message).not.toMatch(/duplicate key|violates/);
      }
    });

    it('lets exactly one of two transactions racing at one expected version win, 20 times over', async () => {
      for (let round = 0; round < 20; round += 1) {
        const streamId = aStreamId();
        const [created] = await sut.append(database.db, streamId, EMPTY_STREAM, numbered(1), { metadata: aMetadata(), recordedAt });
        const head: StreamHead = { version: 1, hash: created?.hash ?? null };
        const bothStarted = barrier(2);
        const racer = (n: number): Promise<StoredEvent[]> =>
          database.db.transaction(async (tx) => {
            await tx.query('SELECT pg_current_xact_id()');
            await bothStarted();
            return sut.append(tx, streamId, head, [anEvent({ data: { racer: n } })], { metadata: aMetadata(), recordedAt });
          });

        const outcomes = await Promise.allSettled([racer(1), racer(2)]);

        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]?.reason).toBeInstanceOf(ConcurrencyError);
        const { events } = await sut.readStream(streamId);
        expect(events.map((e) => e.version)).toEqual([1, 2]);
        expect(events[1]?.data).toEqual(won[0]?.status === 'fulfilled' ? won[0].value[0]?.data : undefined);
        expectIntactChain(events);
      }
    });
  });

  describe('readAll', () => {
    it('pages through the log with limits and checkpoints, handing out every event exactly once in commit order', async () => {
      const start = await endOfLog();
      const streams = [aStreamId(), aStreamId(), aStreamId()];
      const appended: StoredEvent[] = [];
      for (let i = 0; i < 4; i += 1) {
        for (const streamId of streams) {
          const head = (await sut.readStream(streamId)).head;
          appended.push(
            ...(await sut.append(database.db, streamId, head, numbered(i % 2 === 0 ? 1 : 2, i * 10), {
              metadata: aMetadata(),
              recordedAt,
            })),
          );
        }
      }

      const { events } = await follow(start, streams, appended.length, 4);

      const positions = events.map((e) => e.position);
      expect(new Set(positions).size).toBe(positions.length);
      expect([...events].sort(commitOrder)).toEqual(events);
      const mine = events.filter((e) => streams.includes(e.streamId));
      expect(mine.map((e) => e.position)).toEqual(appended.map((e) => e.position));
      expect(mine).toEqual(appended);
    });

    it('hands out nothing past a transaction that is still open, then everything once it commits', async () => {
      const earlier = aStreamId();
      const late = aStreamId();
      const prompt = aStreamId();
      const start = await endOfLog();
      await sut.append(database.db, earlier, EMPTY_STREAM, numbered(1), { metadata: aMetadata(), recordedAt });
      const reader = await follow(start, [earlier], 1);
      const readerBefore = reader.checkpoint;

      const clientA: pg.PoolClient = await database.db.pool.connect();
      try {
        await clientA.query('BEGIN');
        const [a] = await sut.append(clientA, late, EMPTY_STREAM, [anEvent({ data: { who: 'A' } })], { metadata: aMetadata(), recordedAt });
        const [b] = await sut.append(database.db, prompt, EMPTY_STREAM, [anEvent({ data: { who: 'B' } })], {
          metadata: aMetadata(),
          recordedAt,
        });
        expect(BigInt(b?.position ?? 0)).toBeGreaterThan(BigInt(a?.position ?? 0));

        // B is committed and has the higher position, but A (lower) is not: B must wait for A.
        const whileOpen = await sut.readAll(null, 100_000);
        expect(whileOpen.map((e) => e.streamId)).not.toContain(prompt);
        expect(whileOpen.map((e) => e.streamId)).not.toContain(late);
        const fromBefore = await sut.readAll(readerBefore, 100_000);
        expect(fromBefore.filter((e) => e.streamId === late || e.streamId === prompt)).toEqual([]);
        // A reader that keeps going checkpoints on whatever it was handed while A was open.
        const lastSeen = fromBefore.at(-1) ?? reader.events.at(-1);
        const readerDuring = lastSeen ? checkpointOf(lastSeen) : readerBefore;

        await clientA.query('COMMIT');

        for (const from of [readerBefore, readerDuring]) {
          const { events } = await follow(from, [late, prompt], 2);
          expect(events.filter((e) => e.streamId === late || e.streamId === prompt).map((e) => e.data)).toEqual([
            { who: 'A' },
            { who: 'B' },
          ]);
          expect([...events].sort(commitOrder)).toEqual(events);
        }
        const all = await follow(null, [earlier, late, prompt], 3, 100_000);
        expect(all.events.filter((e) => [earlier, late, prompt].includes(e.streamId)).map((e) => e.streamId)).toEqual([
          earlier,
          late,
          prompt,
        ]);
      } finally {
        await clientA.query('ROLLBACK').catch(() => undefined);
        clientA.release();
      }
    });

    it('never skips an event with a lower position that commits after one with a higher position', async () => {
      const first = aStreamId();
      const second = aStreamId();
      const start = await endOfLog();
      const older: pg.PoolClient = await database.db.pool.connect();
      const younger: pg.PoolClient = await database.db.pool.connect();
      try {
        // `older` starts first (lower transaction id) but appends last (higher position) and commits first.
        await older.query('BEGIN');
        await older.query('SELECT pg_current_xact_id()');
        await younger.query('BEGIN');
        const [low] = await sut.append(younger, second, EMPTY_STREAM, [anEvent({ data: { who: 'younger' } })], {
          metadata: aMetadata(),
          recordedAt,
        });
        const [high] = await sut.append(older, first, EMPTY_STREAM, [anEvent({ data: { who: 'older' } })], {
          metadata: aMetadata(),
          recordedAt,
        });
        expect(BigInt(low?.position ?? 0)).toBeLessThan(BigInt(high?.position ?? 0));
        await older.query('COMMIT');

        const seen = await follow(start, [first], 1);
        expect(seen.events.map((e) => e.streamId)).not.toContain(second);
        await younger.query('COMMIT');

        const rest = await follow(seen.checkpoint, [second], 1);
        expect(rest.events.filter((e) => e.streamId === second).map((e) => e.data)).toEqual([{ who: 'younger' }]);
      } finally {
        for (const client of [older, younger]) {
          await client.query('ROLLBACK').catch(() => undefined);
          client.release();
        }
      }
    });

    it('never hands out the events of a transaction that rolls back', async () => {
      const start = await endOfLog();
      const rolledBack = aStreamId();
      const kept = aStreamId();
      await database.db
        .transaction(async (tx) => {
          await sut.append(tx, rolledBack, EMPTY_STREAM, numbered(2), { metadata: aMetadata(), recordedAt });
          throw new Error('abandon');
        })
        .catch(() => undefined);
      await sut.append(database.db, kept, EMPTY_STREAM, numbered(1), { metadata: aMetadata(), recordedAt });

      const { events } = await follow(start, [kept], 1);

      expect(events.map((e) => e.streamId)).not.toContain(rolledBack);
      expect((await sut.readStream(rolledBack)).events).toEqual([]);
    });
  });

  describe('readFeed', () => {
    it('goes on from a position in commit order, never past a transaction still open, and filters', async () => {
      const early = aStreamId();
      const late = aStreamId();
      const [first] = await sut.append(database.db, early, EMPTY_STREAM, numbered(1), { metadata: aMetadata(), recordedAt });
      const open: pg.PoolClient = await database.db.pool.connect();
      try {
        await open.query('BEGIN');
        await sut.append(open, late, EMPTY_STREAM, [anEvent({ data: { who: 'late' } })], { metadata: aMetadata(), recordedAt });
        const [after] = await sut.append(database.db, early, { version: 1, hash: first?.hash ?? null }, numbered(1, 2), {
          metadata: aMetadata(),
          recordedAt,
        });

        const whileOpen = await sut.readFeed({ after: first?.position, limit: 100 });
        expect(whileOpen?.map((e) => e.position)).not.toContain(after?.position);

        await open.query('COMMIT');
        // Any transaction still running on the server holds the feed back a moment: poll.
        let next = await sut.readFeed({ after: first?.position, limit: 100 });
        for (let i = 0; i < 100 && !next?.some((e) => e.position === after?.position); i++) {
          await new Promise((r) => setTimeout(r, 50));
          next = await sut.readFeed({ after: first?.position, limit: 100 });
        }
        expect(next?.filter((e) => e.streamId === late || e.streamId === early).map((e) => e.streamId)).toEqual([late, early]);
        expect(await sut.readFeed({ limit: 100, streamId: late, type: 'ThingHappened' })).toEqual([
          expect.objectContaining({ streamId: late, data: { who: 'late' } }),
        ]);
        expect(await sut.readFeed({ after: '999999999999', limit: 10 })).toBeUndefined();
      } finally {
        await open.query('ROLLBACK').catch(() => undefined);
        open.release();
      }
    });
  });

  describe('append-only trigger', () => {
    let streamId: string;

    beforeEach(async () => {
      streamId = aStreamId();
      await sut.append(database.db, streamId, EMPTY_STREAM, numbered(2), { metadata: aMetadata(), recordedAt });
    });

    it.each([
      ['UPDATE', `UPDATE events SET data = '{"n": 99}' WHERE stream_id = $1`],
      ['DELETE', 'DELETE FROM events WHERE stream_id = $1'],
    ])('refuses %s of events', async (operation, sql) => {
      await expect(database.db.query(sql, [streamId])).rejects.toThrow(new RegExp(`append-only: ${operation} refused`));
      expect((await sut.readStream(streamId)).events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('refuses TRUNCATE of events', async () => {
      await expect(database.db.query('TRUNCATE events')).rejects.toThrow(/append-only: TRUNCATE refused/);
      expect((await sut.readStream(streamId)).events).toHaveLength(2);
    });
  });
});
