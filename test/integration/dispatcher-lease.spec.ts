import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type Queue } from 'bullmq';
import { SystemClock } from '@app/config';
import { EMPTY_STREAM, EventStore, Leases, LogCheckpoints, type EventMetadata, type NewEvent } from '@app/event-store';
import { openQueue, type QueueName } from '@app/queues';
import { jobsFor, sendInviteJobId } from '../../apps/worker/src/dispatcher/dispatch.routes.js';
import { Dispatcher, type DispatcherPause } from '../../apps/worker/src/dispatcher/dispatcher.js';
import { createTestDatabase, REDIS_URL, testQueuePrefix, type TestDatabase } from '../support/test-database.js';

const metadata: EventMetadata = { clientId: 'c', requestId: 'r', correlationId: 'corr', causationId: null };
const quiet = { info: () => undefined, error: () => undefined };
const LEASE_MS = 1_500;
const RENEW_MS = 300;
const POLL_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const anInviteIssued = (n: number): NewEvent => ({
  type: 'InviteIssued',
  data: { tokenHash: `hash-${n}`, expiresAt: '2030-01-01T00:00:00+00:00' },
});

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** Holds a dispatcher at one point of its step, as a stopped process (SIGSTOP) would stand there, until thawed. */
function aFreeze(at: DispatcherPause): { pause: (point: DispatcherPause) => Promise<void>; reached: Promise<void>; thaw: () => void } {
  let reach = (): void => undefined;
  let thaw = (): void => undefined;
  const reached = new Promise<void>((r) => (reach = r));
  const thawed = new Promise<void>((r) => (thaw = r));
  return {
    pause: (point) => {
      if (point !== at) return Promise.resolve();
      reach();
      return thawed;
    },
    reached,
    thaw: () => thaw(),
  };
}

describe(`${Dispatcher.name} leadership by lease`, () => {
  let database: TestDatabase;
  let store: EventStore;
  let queue: Queue;
  let queues: Map<QueueName, Queue>;
  let consumer = '';
  const running: Dispatcher[] = [];
  const thaws: (() => void)[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('dispatcher-lease');
    store = new EventStore(database.db);
  });

  beforeEach(async () => {
    // Each test's dispatchers start at the end of the log as the test found it, under a name of their own.
    consumer = `test-${randomUUID()}`;
    await database.db.query(
      `INSERT INTO log_checkpoints (consumer, transaction_id, position)
       SELECT $1, coalesce(max(transaction_id), '0'), coalesce(max(position), 0) FROM events`,
      [consumer],
    );
    queue = openQueue({ kind: 'redis', url: REDIS_URL, prefix: testQueuePrefix('dispatcher-lease') }, 'invites');
    queues = new Map([['invites', queue]]);
  });

  afterEach(async () => {
    thaws.splice(0).forEach((thaw) => thaw());
    await Promise.all(running.splice(0).map((d) => d.stop()));
    await queue.obliterate({ force: true });
    await queue.close();
  });

  afterAll(() => database.drop());

  function start(pause?: (at: DispatcherPause) => Promise<void>): Dispatcher {
    const sut = new Dispatcher(database.db, store, queues, jobsFor, new SystemClock(), {
      consumer,
      databaseUrl: database.url,
      pollMs: POLL_MS,
      batchSize: 10,
      log: quiet,
      leaseMs: LEASE_MS,
      renewMs: RENEW_MS,
      pause,
    });
    running.push(sut);
    sut.start();
    return sut;
  }

  function frozen(at: DispatcherPause): ReturnType<typeof aFreeze> {
    const freeze = aFreeze(at);
    thaws.push(freeze.thaw);
    return freeze;
  }

  /** Appends one invite on a new stream; its position. */
  async function anInvite(n: number): Promise<string> {
    const stream = randomUUID();
    await store.append(database.db, stream, EMPTY_STREAM, [anInviteIssued(n)], { metadata, recordedAt: new Date() });
    const { rows } = await database.db.query<{ position: string }>('SELECT position::text FROM events WHERE stream_id = $1', [stream]);
    return rows[0]?.position ?? '';
  }

  async function checkpointPosition(): Promise<string | undefined> {
    const { rows } = await database.db.query<{ position: string }>('SELECT position::text FROM log_checkpoints WHERE consumer = $1', [
      consumer,
    ]);
    return rows[0]?.position;
  }

  const jobIds = async (): Promise<string[]> =>
    (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((j) => j.id ?? '').sort();

  it('replaces a leader frozen before it adds its jobs within the lease, and the frozen one, thawed, adds nothing and stands by', async () => {
    const freeze = frozen('enqueue');
    const a = start(freeze.pause);
    await waitUntil('a leads', () => a.isLeader);
    const b = start();
    await sleep(3 * POLL_MS);
    expect(b.isLeader).toBe(false);

    const first = await anInvite(1);
    await freeze.reached;
    const frozenAt = Date.now();
    await waitUntil('b leads', () => b.isLeader, 3 * LEASE_MS);
    expect(Date.now() - frozenAt).toBeLessThan(LEASE_MS + 2 * RENEW_MS + 3 * POLL_MS);
    await waitUntil('b added the job', async () => (await jobIds()).includes(sendInviteJobId(first)));
    await waitUntil('b moved the checkpoint past it', async () => (await checkpointPosition()) === first);
    // The job ran and BullMQ forgot it: were the thawed leader to add it again, it would run twice.
    await queue.remove(sendInviteJobId(first));

    freeze.thaw();
    await waitUntil('a knows it lost the lease', () => !a.isLeader);
    await sleep(3 * POLL_MS);

    expect(await jobIds()).toEqual([]);
    expect(await checkpointPosition()).toBe(first);
    expect(b.isLeader).toBe(true);
    // b goes on dispatching as the only leader.
    const second = await anInvite(2);
    await waitUntil('b dispatched the next invite', async () => (await jobIds()).includes(sendInviteJobId(second)));
    expect(a.isLeader).toBe(false);
  });

  it('refuses the checkpoint write of a leader that lost its lease while frozen between adding jobs and advancing', async () => {
    const freezeA = frozen('advance');
    const a = start(freezeA.pause);
    await waitUntil('a leads', () => a.isLeader);
    const before = await checkpointPosition();
    const first = await anInvite(3);
    await freezeA.reached;
    expect(await jobIds()).toEqual([sendInviteJobId(first)]);

    // b takes over, and is itself held before it advances: the checkpoint is where a left it.
    const freezeB = frozen('advance');
    const b = start(freezeB.pause);
    await freezeB.reached;
    expect(b.isLeader).toBe(true);

    freezeA.thaw();
    await waitUntil('a knows it lost the lease', () => !a.isLeader);
    expect(await checkpointPosition()).toBe(before);

    freezeB.thaw();
    await waitUntil('b moved the checkpoint', async () => (await checkpointPosition()) === first);
    expect(await jobIds()).toEqual([sendInviteJobId(first)]);
  });

  it('hands the lease on at once when its leader stops', async () => {
    const a = start();
    await waitUntil('a leads', () => a.isLeader);
    const b = start();
    await a.stop();

    await waitUntil('b leads', () => b.isLeader, LEASE_MS / 2);
    const position = await anInvite(4);
    await waitUntil('b dispatched the invite', async () => (await jobIds()).includes(sendInviteJobId(position)));
  });

  describe(Leases.name, () => {
    const sessions: pg.Client[] = [];

    /** A database session of a holder's own, and its backend pid. */
    async function aSession(): Promise<{ pid: number; end: () => Promise<void> }> {
      const session = new pg.Client({ connectionString: database.url });
      await session.connect();
      sessions.push(session);
      const { rows } = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      return { pid: rows[0]?.pid ?? 0, end: () => session.end() };
    }

    afterEach(async () => {
      await Promise.all(sessions.splice(0).map((s) => s.end().catch(() => undefined)));
    });

    it('lets a lease be taken only once it has expired, and a late renewal neither revives it nor lets its holder write', async () => {
      const sut = new Leases(database.db);
      const checkpoints = new LogCheckpoints(database.db);
      const name = `lease-${randomUUID()}`;
      await checkpoints.read(name);
      const from = { transactionId: '0', position: '0' };
      const to = { transactionId: '0', position: '1' };
      const { pid } = await aSession();

      const first = await sut.take(name, 'first', 300, pid);
      if (!first) throw new Error('not taken');
      expect(first).toMatchObject({ holder: 'first', epoch: '1', previousHolder: null });
      expect(await sut.take(name, 'second', 300, pid)).toBeNull();
      expect(await sut.renew(first, 300, pid)).toBe(true);

      await sleep(400);
      expect(await sut.renew(first, 300, pid)).toBe(false);
      expect(await checkpoints.advance(name, from, to, first)).toBe(false);
      const second = await sut.take(name, 'second', 10_000, pid);
      if (!second) throw new Error('not taken');
      expect(second).toMatchObject({
        holder: 'second',
        epoch: '2',
        previousHolder: 'first',
        previousExpiry: expect.any(Date),
        previousSessionEnded: false,
      });
      expect(await sut.renew(first, 300, pid)).toBe(false);

      expect(await checkpoints.advance(name, from, to, first)).toBe(false);
      expect(await checkpoints.advance(name, from, to, second)).toBe(true);
      await sut.release(second);
      expect(await sut.take(name, 'third', 300, pid)).toMatchObject({ epoch: '3', previousHolder: null });
    });

    it("lets a lease be taken before it expires once its holder's session has ended", async () => {
      const sut = new Leases(database.db);
      const name = `lease-${randomUUID()}`;
      const holder = await aSession();
      const standby = await aSession();

      expect(await sut.take(name, 'holder', 60_000, holder.pid)).toMatchObject({ epoch: '1' });
      expect(await sut.take(name, 'standby', 60_000, standby.pid)).toBeNull();
      await holder.end();
      await waitUntil('the session is gone', async () => {
        const { rows } = await database.db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [holder.pid]);
        return rows.length === 0;
      });

      expect(await sut.take(name, 'standby', 60_000, standby.pid)).toMatchObject({
        epoch: '2',
        previousHolder: 'holder',
        previousSessionEnded: true,
      });
    });
  });

  it("has a standby take over at once when the leader's session ends, and the old leader stand by", async () => {
    const a = start();
    await waitUntil('a leads', () => a.isLeader);
    const b = start();
    await sleep(3 * POLL_MS);
    expect(b.isLeader).toBe(false);

    await database.db.query(`SELECT pg_terminate_backend(session_pid) FROM leases WHERE name = $1`, [consumer]);

    await waitUntil('b leads', () => b.isLeader, LEASE_MS / 2);
    await waitUntil('a stands by', () => !a.isLeader, 2 * RENEW_MS + POLL_MS);
    const position = await anInvite(5);
    await waitUntil('b dispatched the invite', async () => (await jobIds()).includes(sendInviteJobId(position)));
    expect([a.isLeader, b.isLeader]).toEqual([false, true]);
  });
});
