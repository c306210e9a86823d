import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  cleanUpAll,
  freePort,
  HOST,
  log,
  onCleanUp,
  projectRoot,
  redisKeysCleanup,
  reserveBenchDatabase,
  round,
  table,
  waitForQuiet,
} from './support.js';

/**
 * `npm run bench -- start` (issue 7): from spawning the service to its first `GET /health` 200,
 * on the embedded Postgres (a fresh DATA_DIR: initdb; then the same DATA_DIR again) and on
 * services (DATABASE_URL to the local Postgres, REDIS_URL), each both as `npm start` (the build
 * included, as a newcomer types it) and as `node dist/apps/cli/src/main.js start` (built already).
 * Also: when the start line (database ready) was logged, and how long SIGTERM takes to stop it all.
 */

const ROOT = projectRoot();
const CLI_MAIN = fileURLToPath(new URL('../apps/cli/src/main.js', import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** issue 7: `npm ci && npm start` healthy within this, embedded */
const GOAL_MS = 10_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const HEALTH_TIMEOUT_MS = 60_000;

type How = 'npm start' | 'node';
type Mode = 'embedded' | 'services';

interface Run {
  /** spawn -> first /health 200 */
  healthyMs: number;
  /** spawn -> the start line ("database: …"), i.e. the database was there (initdb and start included) */
  databaseMs: number | null;
  /** SIGTERM -> every process exited (and, embedded, Postgres stopped) */
  stopMs: number;
}

interface Scenario {
  name: string;
  how: How;
  mode: Mode;
  /** fresh: a new DATA_DIR (initdb) or a new database (migrations); existing: the previous run's */
  data: 'fresh' | 'existing';
  runs: Run[];
}

/** One start: spawn, poll /health every 20 ms, then SIGTERM (the process group for npm) and wait for the exit. */
async function startOnce(how: How, env: Record<string, string>, dataDir: string | null): Promise<Run> {
  const port = await freePort();
  const fullEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    PORT: String(port),
    HOST,
    LOG_LEVEL: 'info',
    ...env,
  };
  const spawnedAt = performance.now();
  const wallAt = Date.now();
  // npm gets a process group of its own, so SIGTERM reaches npm, its shell and node as a terminal's Ctrl-C would.
  const child: ChildProcess =
    how === 'npm start'
      ? spawn('npm', ['start', '--silent'], { cwd: ROOT, env: fullEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [CLI_MAIN, 'start'], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let databaseAt: number | null = null;
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
    if (databaseAt === null) {
      const line = /\{[^\n]*"msg":"database: [^\n]*\}/.exec(output)?.[0];
      if (line) databaseAt = (JSON.parse(line) as { time: number }).time;
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (how === 'npm start' && child.pid) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {
      // gone already
    }
  };
  const stop = onCleanUp(async () => {
    signal('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]))) signal('SIGKILL');
  });
  try {
    const deadline = spawnedAt + HEALTH_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || performance.now() > deadline)
        throw new Error(`${how} did not become healthy:\n${output.slice(-3000)}`);
      const ok = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await sleep(20);
    }
    const healthyMs = performance.now() - spawnedAt;
    const stoppingAt = performance.now();
    await stop();
    // npm exits before its node child does: stopped means the whole group is gone, and the embedded Postgres's lock.
    while (
      (groupLives(how, child) || (dataDir !== null && existsSync(join(dataDir, 'postgres.lock')))) &&
      performance.now() - stoppingAt < 20_000
    )
      await sleep(10);
    return {
      healthyMs: round(healthyMs, 0),
      databaseMs: databaseAt === null ? null : databaseAt - wallAt,
      stopMs: round(performance.now() - stoppingAt, 0),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function groupLives(how: How, child: ChildProcess): boolean {
  if (how !== 'npm start' || !child.pid) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function aDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'contacts-bench-start-'));
  // Run as root, the embedded Postgres runs as the `postgres` user, who must be able to enter it.
  await chmod(dir, 0o755);
  onCleanUp(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Fresh: a new DATA_DIR for every run; existing: one DATA_DIR, initialised by a first start that is not counted. */
async function embedded(how: How, data: 'fresh' | 'existing'): Promise<Scenario> {
  const runs: Run[] = [];
  const shared = data === 'existing' ? await aDataDir() : null;
  if (shared) await startOnce(how, { DATA_DIR: shared }, shared);
  for (let i = 0; i < RUNS; i++) {
    const dataDir = shared ?? (await aDataDir());
    runs.push(await startOnce(how, { DATA_DIR: dataDir }, dataDir));
    log(`${how}, embedded, ${data} data: healthy after ${runs.at(-1)?.healthyMs} ms`);
  }
  return {
    name: `${how}, embedded Postgres, ${data === 'fresh' ? 'fresh DATA_DIR (initdb)' : 'existing DATA_DIR'}`,
    how,
    mode: 'embedded',
    data,
    runs,
  };
}

/** DATABASE_URL to a database of the bench's own on the local server (made by the first start's migrate), REDIS_URL. */
async function services(how: How): Promise<Scenario[]> {
  const { url } = reserveBenchDatabase('start');
  const prefix = `bench-start-${process.pid}`;
  redisKeysCleanup(REDIS_URL, prefix);
  const env = { DATABASE_URL: url, REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: await aDataDir() };
  const first = await startOnce(how, env, null);
  log(`${how}, services, new database: healthy after ${first.healthyMs} ms`);
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await startOnce(how, env, null));
    log(`${how}, services, existing database: healthy after ${runs.at(-1)?.healthyMs} ms`);
  }
  return [
    { name: `${how}, services (Postgres + Redis), new database (migrations)`, how, mode: 'services', data: 'fresh', runs: [first] },
    { name: `${how}, services (Postgres + Redis), existing database`, how, mode: 'services', data: 'existing', runs },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : round(((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2, 0);
}

export async function startBench(): Promise<Record<string, unknown>> {
  const busy = await waitForQuiet();
  const scenarios: Scenario[] = [];
  try {
    // npm start rebuilds dist/ (prestart); node runs the build that is there.
    for (const how of ['npm start', 'node'] as const) {
      scenarios.push(await embedded(how, 'fresh'));
      scenarios.push(await embedded(how, 'existing'));
      scenarios.push(...(await services(how)));
    }
  } finally {
    // the DATA_DIRs, the database and the Redis keys
    await cleanUpAll();
  }
  const summary = scenarios.map((s) => {
    const healthy = s.runs.map((r) => r.healthyMs);
    const database = s.runs.map((r) => r.databaseMs).filter((v): v is number => v !== null);
    return {
      name: s.name,
      how: s.how,
      mode: s.mode,
      data: s.data,
      runs: s.runs.length,
      healthyMs: { min: Math.min(...healthy), median: median(healthy), max: Math.max(...healthy) },
      databaseMs: database.length > 0 ? median(database) : null,
      stopMs: median(s.runs.map((r) => r.stopMs)),
    };
  });
  console.log(
    '\n' +
      table([
        ['spawn -> GET /health 200', 'runs', 'min ms', 'median ms', 'max ms', 'database ready ms', 'SIGTERM -> stopped ms'],
        ...summary.map((s) => [s.name, s.runs, s.healthyMs.min, s.healthyMs.median, s.healthyMs.max, s.databaseMs ?? '-', s.stopMs]),
      ]),
  );
  const embeddedNpm = summary.filter((s) => s.how === 'npm start' && s.mode === 'embedded');
  const worst = Math.max(...embeddedNpm.map((s) => s.healthyMs.max));
  console.log(
    `\nnpm start, embedded, slowest run: ${worst} ms (goal <= ${GOAL_MS} ms after npm ci: ${worst <= GOAL_MS ? 'met' : 'NOT met'})`,
  );
  return { goalMs: GOAL_MS, met: worst <= GOAL_MS, machineBusyBefore: busy, scenarios: summary };
}
