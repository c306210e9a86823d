import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@app/config';
import { eventHash, type EventMetadata } from '@app/event-store';
import { AnchorRefused } from '../../apps/cli/src/chain-anchor.js';
import { CheckFailed, run, UsageError } from '../../apps/cli/src/cli.js';
import { aUserPayload, createContact, updateContact } from '../support/contact-requests.js';
import { createTestApiWithToken, type TestApi } from '../support/test-api.js';

const KEY = 'an-anchor-key-kept-far-from-the-database';

describe('verify --anchor and --against', () => {
  let api: TestApi;
  let token: string;
  let streams: string[];
  const folder = mkdtempSync(join(tmpdir(), 'chain-anchor-'));

  /** Runs a CLI command as the CLI would: what it printed on stdout and stderr, and what it threw. */
  async function cli(argv: string[], key: string | null = KEY): Promise<{ out: string[]; err: string[]; error: unknown }> {
    const out: string[] = [];
    const err: string[] = [];
    const env = { DATABASE_URL: api.database.url, ...(key === null ? {} : { CHAIN_ANCHOR_KEY: key }) };
    const error = await run(
      argv,
      env,
      (line) => out.push(line),
      undefined,
      (line) => err.push(line),
    ).then(
      () => null,
      (e: unknown) => e,
    );
    return { out, err, error };
  }

  async function anchorFile(name: string): Promise<string> {
    const { out, error } = await cli(['verify', '--anchor']);
    expect(error).toBeNull();
    expect(out).toHaveLength(1);
    const path = join(folder, name);
    writeFileSync(path, out[0]!);
    return path;
  }

  /** Edits an event's data and re-hashes its stream from there, as someone with the database's owner could. */
  async function rewriteHistory(streamId: string, version: number): Promise<void> {
    const db = api.database.db;
    await db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
    try {
      await db.query(`UPDATE events SET data = jsonb_set(data, '{firstname}', '"Mallory"') WHERE stream_id = $1 AND stream_version = $2`, [
        streamId,
        version,
      ]);
      const { rows } = await db.query<{
        position: string;
        stream_version: number;
        type: string;
        data: object;
        metadata: EventMetadata;
        recorded_at: Date;
      }>(`SELECT position, stream_version, type, data, metadata, recorded_at FROM events WHERE stream_id = $1 ORDER BY stream_version`, [
        streamId,
      ]);
      let previous: string | null = null;
      for (const row of rows) {
        const hash = eventHash(previous, {
          streamId,
          version: row.stream_version,
          type: row.type,
          data: row.data,
          metadata: row.metadata,
          recordedAt: row.recorded_at.toISOString(),
        });
        await db.query('UPDATE events SET hash = $1 WHERE position = $2', [hash, row.position]);
        previous = hash;
      }
    } finally {
      await db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
    }
  }

  beforeAll(async () => {
    ({ api, token } = await createTestApiWithToken({ label: 'chain-anchor' }));
    streams = [];
    for (let i = 0; i < 3; i++) {
      const created = await createContact(api, token, aUserPayload());
      expect(created.statusCode).toBe(201);
      streams.push(created.json<{ contact: { id: string } }>().contact.id);
    }
    expect((await updateContact(api, token, streams[1]!, { lastname: 'Twice' })).statusCode).toBe(200);
  });
  afterAll(() => api.close());

  it('prints one signed JSON document on stdout, with every stream head and the last position, the summary on stderr', async () => {
    const { out, err, error } = await cli(['verify', '--anchor']);

    expect(error).toBeNull();
    expect(out).toHaveLength(1);
    const sut = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(sut).toMatchObject({
      format: 'contacts-chain-anchor/v1',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/),
      lastPosition: expect.stringMatching(/^\d+$/),
      signature: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const heads = sut.heads as [string, number, string, string][];
    expect(heads.map((h) => h[0]).sort()).toEqual([...streams].sort());
    expect(heads.find((h) => h[0] === streams[1])?.[1]).toBeGreaterThan(heads.find((h) => h[0] === streams[0])?.[1] ?? 0);
    expect(err.join('\n')).toMatch(/every chain intact/);
  });

  it('passes a log that still extends the anchor, also with events appended since', async () => {
    const path = await anchorFile('extends.json');
    expect((await updateContact(api, token, streams[0]!, { lastname: 'Later' })).statusCode).toBe(200);
    expect((await createContact(api, token, aUserPayload())).statusCode).toBe(201);

    const { out, error } = await cli(['verify', '--against', path]);

    expect(error).toBeNull();
    expect(out.at(-1)).toMatch(/^verify --against: the log extends the anchor of .+: 3 stream heads as anchored/);
  });

  it('refuses an anchor signed with another key, and one whose content was changed', async () => {
    const path = await anchorFile('keyed.json');
    const edited = JSON.parse(readFileSync(path, 'utf8')) as { heads: [string, number, string, string][] };
    edited.heads[0]![3] = '0'.repeat(64);
    const editedPath = join(folder, 'edited.json');
    writeFileSync(editedPath, JSON.stringify(edited));

    const wrongKey = await cli(['verify', '--against', path], 'another-key-that-is-long-enough-too!!');
    const changed = await cli(['verify', '--against', editedPath]);

    expect(wrongKey.error).toBeInstanceOf(AnchorRefused);
    expect(String(wrongKey.error)).toMatch(/signature does not match CHAIN_ANCHOR_KEY/);
    expect(changed.error).toBeInstanceOf(AnchorRefused);
  });

  it('needs CHAIN_ANCHOR_KEY for --anchor and --against only, and a long one', async () => {
    const plain = await cli(['verify'], null);
    const unset = await cli(['verify', '--anchor'], null);
    const short = await cli(['verify', '--anchor'], 'short');
    const both = await cli(['verify', '--anchor', '--against', 'x']);
    const elsewhere = await cli(['replay', '--anchor']);

    expect(plain.error).toBeNull();
    expect(unset.error).toBeInstanceOf(ConfigError);
    expect(String(unset.error)).toMatch(/CHAIN_ANCHOR_KEY is required/);
    expect(short.error).toBeInstanceOf(ConfigError);
    expect(String(short.error)).toMatch(/CHAIN_ANCHOR_KEY must be at least 32 characters/);
    expect(both.error).toBeInstanceOf(UsageError);
    expect(elsewhere.error).toBeInstanceOf(UsageError);
  });

  it('names the stream whose history was rewritten and re-hashed, which plain verify passes', async () => {
    const path = await anchorFile('before-rewrite.json');
    const victim = streams[2]!;

    await rewriteHistory(victim, 1);

    const plain = await cli(['verify']);
    expect(plain.error).toBeNull();
    const sut = await cli(['verify', '--against', path]);
    expect(sut.error).toBeInstanceOf(CheckFailed);
    expect(String(sut.error)).toContain(`stream ${victim}`);
    expect(sut.out).toContainEqual(
      expect.stringMatching(new RegExp(`^verify --against: stream ${victim}: version \\d+ holds another hash`)),
    );
    expect(sut.out.filter((line) => line.startsWith('verify --against: stream'))).toHaveLength(1);
  });

  it('names a stream whose anchored head was removed', async () => {
    const path = await anchorFile('before-removal.json');
    const victim = streams[1]!;
    const db = api.database.db;
    await db.query('ALTER TABLE events DISABLE TRIGGER events_append_only');
    try {
      await db.query(
        'DELETE FROM events WHERE stream_id = $1 AND stream_version = (SELECT max(stream_version) FROM events WHERE stream_id = $1)',
        [victim],
      );
    } finally {
      await db.query('ALTER TABLE events ENABLE TRIGGER events_append_only');
    }

    const sut = await cli(['verify', '--against', path]);

    expect(sut.error).toBeInstanceOf(CheckFailed);
    expect(String(sut.error)).toMatch(new RegExp(`stream ${victim}: its anchored head, version \\d+ at position \\d+, is gone`));
  });
});
