import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Database, migrate } from '@app/database';
import {
  checkpointOf,
  continueLogAfterRestore,
  EMPTY_STREAM,
  EventStore,
  unreachableEvents,
  type EventMetadata,
  type StoredEvent,
} from '@app/event-store';
import { until } from '../support/polling.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const run = promisify(execFile);
/** The newest Postgres installed from Debian's packages, as .ci/run starts it. */
const BIN = `/usr/lib/postgresql/${readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0]}/bin`;
const metadata: EventMetadata = { clientId: 'client-1', requestId: null, correlationId: null, causationId: null };
const now = new Date('2026-01-15T10:00:00Z');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A new Postgres server of its own (initdb in a temp folder), as an operator restoring a backup would start. */
async function aNewServer(): Promise<{ url: (database: string) => string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'contacts-restore-'));
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  chownSync(dir, uid, uid);
  const asPostgres = (command: string, args: string[]): Promise<unknown> =>
    run('runuser', ['-u', 'postgres', '--', `${BIN}/${command}`, ...args]);
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const port = await freePort();
  await asPostgres('pg_ctl', [
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  return {
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async stop() {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function appendTo(store: EventStore, on: Database, streamId: string, tags: string[]): Promise<void> {
  const { head } = await store.readStream(streamId);
  await store.append(on, streamId, head, [{ type: 'TagsSet', data: { tags } }], { metadata, recordedAt: now });
}

async function readWholeLog(store: EventStore): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (;;) {
    const last = events.at(-1);
    const page = await store.readAll(last ? checkpointOf(last) : null, 1000);
    if (page.length === 0) return events;
    events.push(...page);
  }
}

describe('the event log after a restore into a new server', () => {
  let source: TestDatabase;
  let server: Awaited<ReturnType<typeof aNewServer>>;
  let restored: Database;
  let before: StoredEvent[] = [];
  const stream = randomUUID();

  beforeAll(async () => {
    source = await createTestDatabase('restore');
    const store = new EventStore(source.db);
    for (const tags of [['a'], ['b'], ['c']]) await appendTo(store, source.db, stream, tags);
    // Readers see an event once every older transaction on the server has ended, other test files' too.
    await until(async () => (before = await readWholeLog(store)).length === 3, 20_000);

    server = await aNewServer();
    const dump = join(tmpdir(), `contacts-restore-${randomUUID()}.dump`);
    try {
      await run('pg_dump', ['-Fc', '-f', dump, source.url]);
      await run(`${BIN}/psql`, ['-q', '-d', server.url('postgres'), '-c', 'CREATE DATABASE contacts']);
      // As the README tells: the new server has no roles of the old one; migrate grants the runtime role again.
      await run('pg_restore', ['--no-owner', '--no-privileges', '-d', server.url('contacts'), dump]);
    } finally {
      rmSync(dump, { force: true });
    }
    restored = new Database({ url: server.url('contacts'), applicationName: 'test-restored' });
  }, 60_000);
  afterAll(async () => {
    await restored?.close();
    await server?.stop();
    await source?.drop();
  });

  it('holds events no reader can reach until the log is taken onto its clock, which migrate does at start', async () => {
    expect(before).toHaveLength(3);
    expect(await unreachableEvents(restored)).toBe(3);

    await migrate(server.url('contacts'));

    expect(await unreachableEvents(restored)).toBe(0);
    expect(await continueLogAfterRestore(restored)).toBe(0n);
    const { rows } = await restored.query<{ append: boolean; rewrite: boolean }>(
      `SELECT has_table_privilege('contacts_runtime', 'events', 'INSERT') AS append,
              has_table_privilege('contacts_runtime', 'events', 'UPDATE') AS rewrite`,
    );
    expect(rows[0]).toEqual({ append: true, rewrite: false });
  });

  it('hands new events to a reader that had read the old log, after the old ones, in the feed too', async () => {
    const store = new EventStore(restored);
    const checkpoint = checkpointOf(before.at(-1)!);
    const other = randomUUID();

    await appendTo(store, restored, stream, ['after the restore']);
    await store.append(restored, other, EMPTY_STREAM, [{ type: 'TagsSet', data: { tags: ['new stream'] } }], { metadata, recordedAt: now });

    const next = await store.readAll(checkpoint, 100);
    expect(next.map((e) => [e.streamId, e.version])).toEqual([
      [stream, 4],
      [other, 1],
    ]);
    const whole = await readWholeLog(store);
    expect(whole.map((e) => e.position)).toEqual([...before.map((e) => e.position), ...next.map((e) => e.position)]);
    const feed = await store.readFeed({ after: before.at(-1)!.position, limit: 100 });
    expect(feed?.map((e) => e.position)).toEqual(next.map((e) => e.position));
  });
});
