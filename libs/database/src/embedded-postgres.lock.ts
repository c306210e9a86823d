import { randomBytes } from 'node:crypto';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import { readText } from './embedded-postgres.cluster.js';
import { errorCode } from './embedded-postgres.errors.js';

/**
 * DATA_DIR/postgres.lock: who runs the embedded Postgres, {pid, use, state, port}; there while a
 * process owns it. It is only ever replaced whole, so no reader sees it half-written.
 */

export type EmbeddedUse = 'server' | 'command';

const OWNER_STATES = ['starting', 'ready', 'stopping'] as const;

export interface Owner {
  pid: number;
  use: EmbeddedUse;
  /** starting: initdb and pg_ctl start; ready: serving on `port`; stopping: pg_ctl stop */
  state: (typeof OWNER_STATES)[number];
  port?: number;
  /** ISO time the lock was taken */
  since: string;
}

/** Locks this process holds (by absolute path): a lock naming this pid is live only if it is one of them. */
export const held = new Set<string>();

/** Creates the lock with its whole content at once (a hard link of a written file): never seen half-written. */
export async function takeLock(lock: string, owner: Owner): Promise<boolean> {
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
export async function replaceLock(lock: string, owner: Owner): Promise<void> {
  const draft = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${JSON.stringify(owner)}\n`);
  await rename(draft, lock);
}

export async function releaseLock(lock: string): Promise<void> {
  if (!held.delete(lock)) return;
  const owner = parseOwner((await readText(lock)) ?? '');
  if (owner?.pid === process.pid) await unlink(lock).catch(() => undefined);
}

/**
 * Removes a stale lock, and only that one: two processes that both found it stale must not remove
 * the lock the faster of them has taken since. The lock is moved aside first (one rename wins) and
 * given back if it is not the stale one that was read.
 */
export async function breakStaleLock(lock: string, staleContent: string): Promise<void> {
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

export function parseOwner(raw: string): Owner | null {
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
