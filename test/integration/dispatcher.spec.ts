import { randomUUID } from 'node:crypto';
import { type Queue } from 'bullmq';
import { SystemClock } from '@app/config';
import { EMPTY_STREAM, EventStore, type EventMetadata, type NewEvent } from '@app/event-store';
import { openQueue, type QueueName } from '@app/queues';
import { jobsFor } from '../../apps/worker/src/dispatcher/dispatch.routes.js';
import { Dispatcher } from '../../apps/worker/src/dispatcher/dispatcher.js';
import { createTestDatabase, REDIS_URL, testQueuePrefix, type TestDatabase } from '../support/test-database.js';

const metadata: EventMetadata = { clientId: 'c', requestId: 'r', correlationId: 'corr', causationId: null };
const quiet = { info: () => undefined, error: () => undefined };

const anInviteIssued = (n: number): NewEvent => ({
  type: 'InviteIssued',
  data: { tokenHash: `hash-${n}`, expiresAt: '2030-01-01T00:00:00+00:00' },
});
const aNameChange = (): NewEvent => ({ type: 'ContactUpdated', data: { firstname: 'Ann' } });

describe(Dispatcher.name, () => {
  let database: TestDatabase;
  let store: EventStore;
  let queue: Queue;
  let queues: Map<QueueName, Queue>;
  const running: Dispatcher[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('dispatcher');
    store = new EventStore(database.db);
  });

  beforeEach(async () => {
    await fromHere();
    queue = openQueue({ kind: 'redis', url: REDIS_URL, prefix: testQueuePrefix('dispatcher') }, 'invites');
    queues = new Map([['invites', queue]]);
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  });

  afterAll(() => database.drop());

  let consumer = '';

  /**
   * The log is shared by this file's tests and never shrinks: each test's dispatcher gets a
   * checkpoint of its own at the end of the log as the test found it.
   */
  async function fromHere(): Promise<void> {
    consumer = `test-${randomUUID()}`;
    await database.db.query(
      `INSERT INTO log_checkpoints (consumer, transaction_id, position)
       SELECT $1, coalesce(max(transaction_id), '0'), coalesce(max(position), 0) FROM events`,
      [consumer],
    );
  }

  async function checkpointRow(): Promise<{ transaction_id: string; position: string }> {
    const { rows } = await database.db.query<{ transaction_id: string; position: string }>(
      'SELECT transaction_id::text, position::text FROM log_checkpoints WHERE consumer = $1',
      [consumer],
    );
    if (!rows[0]) throw new Error('no checkpoint');
    return rows[0];
  }

  async function fromHereAgain(at: { transaction_id: string; position: string }): Promise<void> {
    await database.db.query('INSERT INTO log_checkpoints (consumer, transaction_id, position) VALUES ($1, $2::xid8, $3::bigint)', [
      consumer,
      at.transaction_id,
      at.position,
    ]);
  }

  function start(): Dispatcher {
    const sut = new Dispatcher(database.db, store, queues, jobsFor, new SystemClock(), {
      consumer,
      databaseUrl: database.url,
      pollMs: 100,
      batchSize: 3,
      log: quiet,
    });
    running.push(sut);
    sut.start();
    return sut;
  }

  async function appendTo(streamId: string, events: NewEvent[]): Promise<void> {
    const { rows } = await database.db.query<{ v: number | null }>('SELECT max(stream_version) AS v FROM events WHERE stream_id = $1', [
      streamId,
    ]);
    await store.append(database.db, streamId, { ...EMPTY_STREAM, version: rows[0]?.v ?? 0, hash: null }, events, {
      metadata,
      recordedAt: new Date(),
    });
  }

  async function jobIds(expected: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
      if (jobs.length >= expected || Date.now() > deadline) return jobs.map((j) => j.id ?? '').sort();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function checkpointPosition(): Promise<string | undefined> {
    const { rows } = await database.db.query<{ position: string }>('SELECT position::text FROM log_checkpoints WHERE consumer = $1', [
      consumer,
    ]);
    return rows[0]?.position;
  }

  it('adds a job for every event that needs one, with an id derived from the event, and moves its checkpoint past them all', async () => {
    const streams = [randomUUID(), randomUUID()];
    await appendTo(streams[0] ?? '', [anInviteIssued(1), aNameChange(), anInviteIssued(2)]);
    await appendTo(streams[1] ?? '', [aNameChange(), aNameChange(), anInviteIssued(3), aNameChange()]);
    const { rows } = await database.db.query<{ position: string }>(
      `SELECT position::text FROM events WHERE type = 'InviteIssued' AND stream_id = ANY($1) ORDER BY position`,
      [streams],
    );
    const last = await database.db.query<{ max: string }>('SELECT max(position)::text AS max FROM events');

    start();

    expect(await jobIds(3)).toEqual(rows.map((r) => `send-invite-${r.position}`).sort());
    const job = (await queue.getJobs(['waiting']))[0];
    expect(job?.name).toBe('send-invite');
    expect(job?.data).toMatchObject({ version: expect.any(Number), tokenHash: expect.stringMatching(/^hash-/), correlationId: 'corr' });
    for (let i = 0; i < 50 && (await checkpointPosition()) !== last.rows[0]?.max; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await checkpointPosition()).toBe(last.rows[0]?.max);
  });

  it('is woken by an append, and never passes an event whose transaction commits after a later one', async () => {
    start();
    const early = randomUUID();
    const late = randomUUID();
    // The early event takes its position first but commits last: the dispatcher must not skip it.
    const client = await database.db.pool.connect();
    try {
      await client.query('BEGIN');
      await store.append(client, early, EMPTY_STREAM, [anInviteIssued(10)], { metadata, recordedAt: new Date() });
      await appendTo(late, [anInviteIssued(11)]);
      // The later event waits for the earlier transaction (DESIGN §3.3): were it dispatched, the
      // checkpoint would pass the earlier event, which would then never be dispatched.
      expect(await jobIds(1, 1_000)).toEqual([]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }

    expect(await jobIds(2)).toHaveLength(2);
  });

  it('adds each job once when it reads the same events again (a checkpoint lost after the jobs were added)', async () => {
    const before = await checkpointRow();
    await appendTo(randomUUID(), [anInviteIssued(20), anInviteIssued(21)]);
    const first = start();
    expect(await jobIds(2)).toHaveLength(2);
    await first.stop();

    await database.db.query(`DELETE FROM log_checkpoints WHERE consumer = $1`, [consumer]);
    await fromHereAgain(before);
    start();
    await new Promise((r) => setTimeout(r, 500));

    expect(await jobIds(3, 500)).toHaveLength(2);
  });

  it('lets one of two dispatchers advance, and the other take over when it stops', async () => {
    const a = start();
    const b = start();
    await new Promise((r) => setTimeout(r, 300));
    expect([a.isLeader, b.isLeader].filter(Boolean)).toHaveLength(1);

    const leader = a.isLeader ? a : b;
    const standby = leader === a ? b : a;
    await leader.stop();
    await appendTo(randomUUID(), [anInviteIssued(30)]);

    expect(await jobIds(1)).toHaveLength(1);
    expect(standby.isLeader).toBe(true);
  });
});
