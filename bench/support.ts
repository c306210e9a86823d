import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonOptions, type AutocannonResult } from 'autocannon';
import pg from 'pg';
import { ClientStore, type Scope } from '@app/auth';
import { Database, migrate } from '@app/database';
import { deleteQueueKeys } from '@app/queues';

/** The Postgres server the benchmarks use; each bench makes (and drops) its own database on it. */
export const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const HOST = '127.0.0.1';

/** dist/ paths of the processes the benchmarks start, relative to this (compiled) file. */
export const API_MAIN = fileURLToPath(new URL('../apps/api/src/main.js', import.meta.url));
export const BARE_READ_SERVER = fileURLToPath(new URL('./bare-read-server.js', import.meta.url));
export const WORKER_MAIN = fileURLToPath(new URL('../apps/worker/src/main.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// cleanup

/** What must be undone if the bench is interrupted (children to stop, databases to drop). */
const pending = new Set<() => Promise<void>>();

/** Runs `undo` once, whether called by its owner's `finally` or by `cleanUpAll` on a signal. */
function registered(undo: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | null = null;
  const once = (): Promise<void> => {
    done ??= undo().finally(() => pending.delete(once));
    return done;
  };
  pending.add(once);
  return once;
}

/**
 * Registers `undo` with the cleanup that runs however the bench ends (also on Ctrl-C); call the
 * returned function to run it now (it runs once).
 */
export function onCleanUp(undo: () => Promise<void>): () => Promise<void> {
  return registered(undo);
}

export async function cleanUpAll(): Promise<void> {
  await Promise.allSettled([...pending].map((undo) => undo()));
}

// ---------------------------------------------------------------------------------------------
// database

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const next = new URL(url);
  next.pathname = `/${encodeURIComponent(name)}`;
  return next.toString();
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>, url = SERVER_URL): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabaseName(url, 'postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A new database, migrated with the service's own migrations; `drop()` removes it. */
/** A database name of this bench's own, dropped however the bench ends; nothing is created yet. */
export function reserveBenchDatabase(label: string): BenchDatabase {
  const name = `bench_${label}_${process.pid}_${Date.now().toString(36)}`;
  const url = withDatabaseName(SERVER_URL, name);
  const drop = registered(async () => {
    await onServer((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
  });
  return { name, url, drop };
}

export async function createBenchDatabase(label: string): Promise<BenchDatabase> {
  const database = reserveBenchDatabase(label);
  try {
    await migrate(database.url);
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  return database;
}

/**
 * Flushes dirty buffers before a measured phase, so each phase starts just after a checkpoint
 * (same full-page-write cost) rather than inheriting the previous phase's dirty pages.
 */
export async function checkpoint(): Promise<void> {
  await onServer((c) => c.query('CHECKPOINT'));
}

// ---------------------------------------------------------------------------------------------
// child processes

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface Child {
  name: string;
  baseUrl: string;
  process: ChildProcess;
  /** the last lines it wrote, for error messages */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `BENCH_CPU_PROF=<dir>` profiles the API child (`--cpu-prof`). The profile is written when Node
 * exits normally, and Nest re-raises SIGTERM after its shutdown hooks, so in that mode the child
 * also exits on SIGUSR2 and `stop()` sends that instead.
 */
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const EXIT_ON_SIGUSR2 = 'data:text/javascript,process.on("SIGUSR2",()=>process.exit(0))';

/** Starts `node <script>` with exactly `env` (plus PATH), on 127.0.0.1:<port>. */
export function startNode(name: string, script: string, env: Record<string, string>, options: { profile?: boolean } = {}): Child {
  const port = env.PORT;
  if (!port) throw new Error(`${name}: PORT is required`);
  const profile = options.profile === true && CPU_PROF_DIR !== undefined;
  const args = profile ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, '--import', EXIT_ON_SIGUSR2, script] : [script];
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    name,
    baseUrl: `http://${HOST}:${port}`,
    process: child,
    output: () => tail,
    stop: registered(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(profile ? 'SIGUSR2' : 'SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await Promise.race([exited, sleep(2_000)]);
      }
    }),
  };
}

/** Waits (at most `timeoutMs`) for GET /health to answer 200. */
export async function waitForHealth(child: Child, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    }
    try {
      const response = await fetch(`${child.baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} did not answer GET /health with 200 within ${timeoutMs} ms:\n${child.output()}`);
}

/**
 * The real API (`dist/apps/api/src/main.js`) on `databaseUrl`, ready to serve. `extraEnv` is
 * added last (e.g. `BCRYPT_COST` for a bench that creates many users with passwords).
 */
export async function startApi(databaseUrl: string, extraEnv: Record<string, string> = {}): Promise<Child> {
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST,
    LOG_LEVEL: 'warn',
    // The per-client rate limit stays on (its cost is part of every request) but set far above
    // what one bench client sends, so the figures measure capacity, not the limit.
    RATE_LIMIT_PER_MINUTE: String(1_000_000_000),
  };
  if (process.env.BCRYPT_COST) env.BCRYPT_COST = process.env.BCRYPT_COST;
  Object.assign(env, extraEnv);
  const api = startNode('api', API_MAIN, env, { profile: true });
  try {
    await waitForHealth(api);
  } catch (error) {
    await api.stop();
    throw error;
  }
  return api;
}

export interface WorkerSettings {
  /** SMTP_URL: where the worker mails invites */
  smtpUrl: string;
  /** PUBLIC_URL: the base of the links in the mails */
  publicUrl: string;
  /** REDIS_URL; unset: BullMQ's PostgreSQL backend in the same database */
  redisUrl?: string;
  queuePrefix: string;
}

/**
 * The real worker (`dist/apps/worker/src/main.js`) on `databaseUrl`, with `LOG_LEVEL=warn`. It
 * serves no HTTP (PORT is given only because startNode wants one; the worker ignores it), so
 * there is no readiness probe: the caller knows it is ready when a first job is done, and
 * `child.process.exitCode` tells a worker that stopped at start.
 */
export function startWorker(databaseUrl: string, settings: WorkerSettings): Child {
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    PORT: '0',
    SMTP_URL: settings.smtpUrl,
    PUBLIC_URL: settings.publicUrl,
    QUEUE_PREFIX: settings.queuePrefix,
    LOG_LEVEL: 'warn',
  };
  if (settings.redisUrl) env.REDIS_URL = settings.redisUrl;
  if (process.env.BCRYPT_COST) env.BCRYPT_COST = process.env.BCRYPT_COST;
  return startNode('worker', WORKER_MAIN, env);
}

/**
 * Registers, with the cleanup that runs however the bench ends, deleting every Redis key under
 * `<prefix>:` (a bench's BullMQ queues); call the returned function to run it now.
 */
export function redisKeysCleanup(redisUrl: string, prefix: string): () => Promise<void> {
  return onCleanUp(async () => {
    try {
      await deleteQueueKeys(redisUrl, prefix);
    } catch (error) {
      log(`could not delete the Redis keys ${prefix}:*: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/** A new OAuth client in the store, and a bearer token for it from POST /oauth/token. */
export async function issueToken(api: Child, databaseUrl: string, scopes: Scope[]): Promise<string> {
  const db = new Database({ url: databaseUrl, max: 1, applicationName: 'contacts-bench' });
  let client;
  try {
    client = await new ClientStore(db).create('bench', scopes);
  } finally {
    await db.close();
  }
  const response = await fetch(`${api.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.client_id, client_secret: client.client_secret }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) throw new Error(`POST /oauth/token answered ${response.status}`);
  return body.access_token;
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inPool<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return results;
}

// ---------------------------------------------------------------------------------------------
// load

export interface LoadFigures {
  /** mean requests per second over the run (autocannon's per-second samples) */
  rps: number;
  total: number;
  ok: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** seconds the run lasted */
  duration: number;
}

export function figuresOf(result: AutocannonResult): LoadFigures {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count;
  return {
    rps: round(result.requests.average, 1),
    total: result.requests.total,
    ok: result['2xx'],
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    duration: result.duration,
  };
}

export async function load(options: AutocannonOptions): Promise<LoadFigures> {
  const result = await autocannon({ timeout: 10, ...options });
  return figuresOf(result);
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export interface Spread {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of latencies in ms, to `digits` decimals; null for none. */
export function spread(values: number[], digits = 1): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number): number => round(sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!, digits);
  return { n: sorted.length, min: round(sorted[0]!, digits), p50: at(50), p99: at(99), max: round(sorted.at(-1)!, digits) };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc): who spent the machine's CPU during a measured phase

const CLOCK_TICKS = 100; // USER_HZ: /proc reports CPU time in 1/100 s on every Linux architecture

function processTicks(pid: string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return null;
  }
}

function machineTicks(): { busy: number; total: number } | null {
  try {
    const values = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = values.reduce((a, b) => a + b, 0);
    return { busy: total - (values[3] ?? 0) - (values[4] ?? 0), total };
  } catch {
    return null;
  }
}

function postgresBackends(database: string): string[] {
  const pids: string[] = [];
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        // A backend's title: "postgres: 15/main: <user> <database> <host(port)> <state>"
        const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        if (title.startsWith('postgres: ') && title.includes(` ${database} `)) pids.push(pid);
      } catch {
        // gone already
      }
    }
  } catch {
    // no /proc
  }
  return pids;
}

export interface CpuFigures {
  /** CPU seconds per group over the phase */
  seconds: Record<string, number>;
  /** machine CPU seconds spent by processes outside these groups (other work on the box) */
  other: number;
  /** CPU seconds the machine had (cores x wall time) */
  capacity: number;
}

/**
 * Samples the CPU time of named processes (and of the Postgres backends serving `database`,
 * which come and go) every 200 ms while a phase runs. Null figures when /proc is unavailable.
 */
export class CpuMeter {
  private readonly start = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly machineStart = machineTicks();

  constructor(
    private readonly database: string,
    private readonly groups: () => Record<string, number | undefined>,
  ) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), 200);
  }

  private pids(): [string, string][] {
    const named = Object.entries(this.groups())
      .filter((e): e is [string, number] => e[1] !== undefined)
      .map(([group, pid]): [string, string] => [String(pid), group]);
    return [...named, ...postgresBackends(this.database).map((pid): [string, string] => [pid, 'postgres'])];
  }

  private sample(initial: boolean): void {
    for (const [pid, group] of this.pids()) {
      const ticks = processTicks(pid);
      if (ticks === null) continue;
      const key = `${group}:${pid}`;
      if (!this.start.has(key)) this.start.set(key, initial ? ticks : 0);
      this.last.set(key, ticks);
    }
  }

  stop(): CpuFigures | null {
    this.sample(false);
    clearInterval(this.timer);
    const machineEnd = machineTicks();
    if (!this.machineStart || !machineEnd) return null;
    const seconds: Record<string, number> = {};
    let ours = 0;
    for (const [key, ticks] of this.last) {
      const group = key.slice(0, key.indexOf(':'));
      const used = ticks - (this.start.get(key) ?? 0);
      seconds[group] = (seconds[group] ?? 0) + used / CLOCK_TICKS;
      ours += used;
    }
    for (const group of Object.keys(seconds)) seconds[group] = round(seconds[group]!, 2);
    return {
      seconds,
      other: round(Math.max(0, machineEnd.busy - this.machineStart.busy - ours) / CLOCK_TICKS, 2),
      capacity: round((machineEnd.total - this.machineStart.total) / CLOCK_TICKS, 2),
    };
  }
}

/** CPU milliseconds per operation for each group. */
export function cpuPerOperation(cpu: CpuFigures | null, operations: number): Record<string, number> | null {
  if (!cpu || operations <= 0) return null;
  return Object.fromEntries(Object.entries(cpu.seconds).map(([group, s]) => [group, round((s * 1000) / operations, 3)]));
}

/** Share of the machine's CPU used over `ms` (0..1), to warn when other work skews the figures. */
export async function machineBusy(ms = 1000): Promise<number | null> {
  const a = machineTicks();
  await sleep(ms);
  const b = machineTicks();
  if (!a || !b || b.total === a.total) return null;
  return round((b.busy - a.busy) / (b.total - a.total), 2);
}

/**
 * Waits (at most `maxMs`) for the machine to be mostly idle before measuring; returns the last
 * busy share seen, which the bench reports so a figure taken on a busy box is marked as such.
 */
export async function waitForQuiet(maxMs = 60_000, threshold = 0.15): Promise<number | null> {
  const deadline = Date.now() + maxMs;
  let busy = await machineBusy();
  while (busy !== null && busy > threshold && Date.now() < deadline) {
    log(`machine is ${Math.round(busy * 100)}% busy with other work; waiting for it to settle`);
    await sleep(4_000);
    busy = await machineBusy();
  }
  if (busy !== null && busy > threshold) log(`measuring anyway on a ${Math.round(busy * 100)}% busy machine: figures will be low`);
  return busy;
}

// ---------------------------------------------------------------------------------------------
// pgbench

export function pgbenchPath(): string {
  const candidates = [process.env.PGBENCH, '/usr/lib/postgresql/15/bin/pgbench'].filter((p): p is string => !!p);
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  const found = spawnSync('sh', ['-c', 'command -v pgbench'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status === 0 && path) return path;
  throw new Error('pgbench not found: install postgresql-client or set PGBENCH');
}

export interface PgbenchFigures {
  tps: number;
  latencyMs: number | null;
  transactions: number | null;
  failed: number | null;
}

/** Runs pgbench (bounded by its own -T) and parses its summary. */
export async function pgbench(
  databaseUrl: string,
  args: string[],
  variables: Record<string, string>,
  onStart: (pid: number | undefined) => void = () => undefined,
): Promise<PgbenchFigures> {
  const url = new URL(databaseUrl);
  const connection = ['-h', url.hostname || HOST, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres')];
  const defines = Object.entries(variables).flatMap(([k, v]) => ['-D', `${k}=${v}`]);
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const child = spawn(pgbenchPath(), [...connection, ...args, ...defines, decodeURIComponent(url.pathname.slice(1))], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onStart(child.pid);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  if (code !== 0 || !tps?.[1]) throw new Error(`pgbench failed (exit ${code}):\n${out.slice(-3000)}`);
  const number = (re: RegExp): number | null => {
    const m = re.exec(out);
    return m?.[1] ? Number(m[1]) : null;
  };
  return {
    tps: round(Number(tps[1]), 1),
    latencyMs: number(/latency average = ([\d.]+) ms/),
    transactions: number(/number of transactions actually processed: (\d+)/),
    failed: number(/number of failed transactions: (\d+)/),
  };
}

// ---------------------------------------------------------------------------------------------
// output

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r, n) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
      return n === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** The project's root: the nearest folder up from this compiled file with a package.json (dist/ links into .build/). */
export function projectRoot(from = fileURLToPath(new URL('.', import.meta.url))): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${from}`);
}

/** Runs `work` with `concurrency` in flight for `seconds`: how many finished, and the rate per second. */
export async function timedRate(
  work: () => Promise<unknown>,
  seconds: number,
  concurrency: number,
): Promise<{ rate: number; count: number; seconds: number }> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await work();
        count++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { rate: round(count / elapsed, 2), count, seconds: round(elapsed, 2) };
}
