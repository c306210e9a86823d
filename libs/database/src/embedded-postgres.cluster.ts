import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EmbeddedPostgresError, errorCode } from './embedded-postgres.errors.js';

/** The cluster's files in DATA_DIR: where they are, its password file, and the settings it gets. */

export const SUPERUSER = 'postgres';

/** Settings the cluster gets at initialisation: TCP on loopback only, no Unix socket in a shared directory. */
export const CLUSTER_SETTINGS = [
  '',
  '# contacts service (embedded Postgres): loopback TCP only; the port is given at each start',
  "listen_addresses = '127.0.0.1'",
  "unix_socket_directories = ''",
  // the API's and the worker's pools, BullMQ's connections and CLI commands, with room to spare
  'max_connections = 200',
  '',
].join('\n');

export interface Paths {
  dataDir: string;
  /** the cluster, as given (for messages) and absolute (for pg_ctl, which may run as another user) */
  cluster: string;
  clusterAbsolute: string;
  credentials: string;
  lock: string;
  log: string;
}

export function pathsOf(dataDir: string): Paths {
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

export interface Credentials {
  user: string;
  password: string;
  /** the port it last listened on: tried first at the next start, so a psql session's port stays the same */
  port?: number;
}

/** The cluster is initialised once PG_VERSION is there: it is made aside and renamed into place whole. */
export async function isInitialised(paths: Paths): Promise<boolean> {
  return (await readText(join(paths.clusterAbsolute, 'PG_VERSION'))) !== null;
}

export async function versionOf(paths: Paths): Promise<string> {
  return ((await readText(join(paths.clusterAbsolute, 'PG_VERSION'))) ?? '?').trim();
}

export async function readCredentials(paths: Paths): Promise<Credentials> {
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

export async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** Written whole (a rename), readable by this user only: it holds a password. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(draft, path);
}
