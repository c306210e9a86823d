import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { EmbeddedPostgresBusy, locateDatabase, openEmbeddedPostgres, type EmbeddedPostgres } from '@app/database';

/** The built module (npm test builds first), for a process of its own that the test can kill -9. */
const EMBEDDED_MODULE = fileURLToPath(new URL('../../dist/libs/database/src/embedded-postgres.js', import.meta.url));

async function query<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Whether a process runs (a zombie, exited but not yet reaped by init, does not). */
function runs(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
  return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

/** A DATA_DIR of the test's own, which the `postgres` user can enter when the tests run as root. */
async function aDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'contacts-embedded-'));
  await chmod(dir, 0o755);
  return dir;
}

describe('the embedded Postgres', () => {
  const dataDirs: string[] = [];
  const running: EmbeddedPostgres[] = [];

  async function open(dataDir: string, use: 'server' | 'command', log?: (line: string) => void): Promise<EmbeddedPostgres> {
    const instance = await openEmbeddedPostgres({ dataDir, use, log });
    running.push(instance);
    return instance;
  }

  afterAll(async () => {
    await Promise.allSettled(running.map((instance) => instance.stop()));
    await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('initialises a cluster in a fresh DATA_DIR, serves the contacts database on a loopback port, and keeps its data over a stop and a start', async () => {
    const dataDir = await aDataDir();
    dataDirs.push(dataDir);
    const said: string[] = [];

    const first = await open(dataDir, 'command', (line) => said.push(line));

    expect(first).toMatchObject({ owned: true, version: '18', dataDirectory: join(dataDir, 'postgres') });
    expect(first.url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${first.port}/contacts$`));
    expect(first.description).toBe(`embedded Postgres 18 on 127.0.0.1:${first.port}, data in ${dataDir}/postgres`);
    expect(first.description).not.toContain(new URL(first.url).password);
    expect(said).toEqual([`initialising a new Postgres cluster in ${dataDir}/postgres (first start)`]);
    const [settings] = await query<{ encoding: string; lower: string }>(
      first.url,
      "SELECT current_setting('server_encoding') AS encoding, lower('ÅNGSTRÖM') AS lower",
    );
    expect(settings).toEqual({ encoding: 'UTF8', lower: 'ångström' });
    await query(first.url, 'CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$still here$$)');

    await first.stop();

    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(existsSync(join(dataDir, 'postgres.lock'))).toBe(false);
    said.length = 0;
    const second = await open(dataDir, 'server', (line) => said.push(line));
    expect(said).toEqual([]);
    expect(second.port).toBe(first.port);
    expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'still here' }]);
    await second.stop();
  });

  it("lets a command join the server's instance and leave it running, and refuses a second server on the same DATA_DIR", async () => {
    const dataDir = await aDataDir();
    dataDirs.push(dataDir);
    const server = await open(dataDir, 'server');

    const command = await open(dataDir, 'command');

    expect(command).toMatchObject({ owned: false, port: server.port, url: server.url });
    expect(command.description).toContain(`(the server's, pid ${process.pid})`);
    await command.stop();
    expect(await query(server.url, 'SELECT 1 AS up')).toEqual([{ up: 1 }]);
    await expect(openEmbeddedPostgres({ dataDir, use: 'server' })).rejects.toThrow(EmbeddedPostgresBusy);
    await expect(openEmbeddedPostgres({ dataDir, use: 'server' })).rejects.toThrow(
      `DATA_DIR ${dataDir} is in use by another server (pid ${process.pid}, embedded Postgres on 127.0.0.1:${server.port})`,
    );
    await server.stop();
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('takes over from an owner killed with SIGKILL: stops the Postgres it left running and starts again on the same data', async () => {
    const dataDir = await aDataDir();
    dataDirs.push(dataDir);
    // A process of its own owns the instance, then dies without a chance to stop it.
    const script = `import { openEmbeddedPostgres } from ${JSON.stringify(EMBEDDED_MODULE)};
      const e = await openEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, use: 'server' });
      console.log(JSON.stringify({ url: e.url }));
      setInterval(() => undefined, 60_000);`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { url } = await new Promise<{ url: string }>((resolve, reject) => {
      owner.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as { url: string }));
      owner.once('exit', (code) => reject(new Error(`the owner exited (${code}) before it was ready`)));
    });
    await query(url, 'CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$written before the crash$$)');
    const leftover = Number((await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    await new Promise((resolve) => {
      owner.once('exit', resolve);
      owner.kill('SIGKILL');
    });
    expect(runs(leftover)).toBe(true);
    const said: string[] = [];

    const next = await open(dataDir, 'server', (line) => said.push(line));

    expect(said).toEqual([
      `${dataDir}/postgres.lock is stale (pid ${owner.pid} is gone or no longer runs the embedded Postgres): taking it over`,
      `stopping the embedded Postgres (pid ${leftover}) left running on ${dataDir}/postgres by a process that ended without stopping it`,
    ]);
    expect(runs(leftover)).toBe(false);
    expect(await query(next.url, 'SELECT note FROM kept')).toEqual([{ note: 'written before the crash' }]);
    await next.stop();
  });

  it('takes a lock that names a live process but no running Postgres (a pid reused after a reboot) for a stale one', async () => {
    const dataDir = await aDataDir();
    dataDirs.push(dataDir);
    await open(dataDir, 'command').then((instance) => instance.stop());
    // process.ppid is alive; nothing runs on the cluster.
    await writeFile(
      join(dataDir, 'postgres.lock'),
      JSON.stringify({ pid: process.ppid, use: 'server', state: 'ready', port: 1, since: new Date().toISOString() }),
    );

    const instance = await open(dataDir, 'command');

    expect(instance.owned).toBe(true);
    await instance.stop();
    expect(existsSync(join(dataDir, 'postgres.lock'))).toBe(false);
  });

  it('makes a command wait for another command that owns the instance, then run its own', async () => {
    const dataDir = await aDataDir();
    dataDirs.push(dataDir);
    const first = await open(dataDir, 'command');
    const said: string[] = [];
    let secondDone = false;

    const second = open(dataDir, 'command', (line) => said.push(line)).then((instance) => {
      secondDone = true;
      return instance;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secondDone).toBe(false);
    expect(said).toEqual([`waiting for pid ${process.pid}, which is running (for a command) the embedded Postgres in ${dataDir}/postgres`]);
    await first.stop();

    const instance = await second;
    expect(instance.owned).toBe(true);
    await instance.stop();
  });

  it('is not used when DATABASE_URL is set: the location is that URL, described without its credentials', async () => {
    const location = await locateDatabase(
      { DATABASE_URL: 'postgres://app:secret@db.internal:5433/contacts?sslmode=require', DATA_DIR: '/nonexistent' },
      'server',
    );

    expect(location).toMatchObject({
      url: 'postgres://app:secret@db.internal:5433/contacts?sslmode=require',
      embedded: null,
      description: 'postgres://db.internal:5433/contacts (DATABASE_URL)',
    });
    await location.release();
  });
});
