import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { formatAtom } from '@app/contacts';
import { Database } from '@app/database';
import { openQueue, type ExpireRoleJob, type QueueBackend } from '@app/queues';
import {
  checkpoint,
  cpuPerOperation,
  CpuMeter,
  createBenchDatabase,
  inPool,
  issueToken,
  log,
  redisKeysCleanup,
  round,
  spread,
  startApi,
  startWorker,
  table,
  waitForQuiet,
  type BenchDatabase,
  type Child,
  type Spread,
  type CpuFigures,
} from './support.js';

/** 1,000 grants expiring within the same 10 seconds */
const GRANTS = 1_000;
const WINDOW_SECONDS = 10;
/** the goal: p99 of (RoleRevoked recorded − expires), and never early */
const GOAL_P99_MS = 250;
/** grants of the warm-up, which also time the create phase to place the window after it */
const WARMUP_GRANTS = 50;
/** creates in flight at once */
const CREATE_CONCURRENCY = 16;
/** after the creates (twice their estimate), time for the dispatcher to queue every job and the machine to settle */
const SETTLE_MS = 4_000;
/** how long after the window's end the bench waits for the last revocation */
const REVOKE_TIMEOUT_MS = 60_000;
/** how long it keeps watching after the last revocation, so a duplicate has time to appear */
const DUPLICATE_GRACE_MS = 3_000;
const ROLE = 'bench-expiry';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// ---------------------------------------------------------------------------------------------
// grants

interface Grant {
  email: string;
  contactId: string;
  /** ATOM, whole seconds */
  expires: string;
}

function userBody(email: string, expires: string): string {
  return JSON.stringify({
    contact: {
      type: 'user',
      firstname: 'Ann',
      lastname: 'Lee',
      email,
      password: 'secret123',
      accessRoles: [{ reference: ROLE, expires }],
    },
  });
}

async function createRole(api: Child, token: string): Promise<void> {
  const response = await fetch(`${api.baseUrl}/api/roles.json`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: { reference: ROLE, title: 'Bench', approvalMethod: 'none' } }),
  });
  const body = await response.text();
  if (response.status !== 201) throw new Error(`POST /api/roles.json answered ${response.status}: ${body.slice(0, 300)}`);
}

/** Creates one user per (email, expires) with that grant, `CREATE_CONCURRENCY` at a time; fails on any answer but 201. */
async function createGrants(api: Child, token: string, wanted: { email: string; expires: string }[]): Promise<Grant[]> {
  const failures: string[] = [];
  const created = await inPool(wanted, CREATE_CONCURRENCY, async ({ email, expires }): Promise<Grant | null> => {
    try {
      const response = await fetch(`${api.baseUrl}/api/contacts.json`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: userBody(email, expires),
      });
      const body = (await response.json()) as { contact?: { id?: string } };
      if (response.status !== 201 || !body.contact?.id) {
        failures.push(`${email}: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
        return null;
      }
      return { email, contactId: body.contact.id, expires };
    } catch (error) {
      failures.push(`${email}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  });
  if (failures.length > 0)
    throw new Error(`${failures.length} of ${wanted.length} creates failed, e.g.\n${failures.slice(0, 5).join('\n')}`);
  return created.filter((g): g is Grant => g !== null);
}

function assertAlive(worker: Child, doing: string): void {
  if (worker.process.exitCode !== null || worker.process.signalCode !== null) {
    throw new Error(`the worker exited with ${worker.process.exitCode ?? worker.process.signalCode} while ${doing}:\n${worker.output()}`);
  }
}

async function revokedCount(db: Database, contactIds: string[]): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*) FROM events
     WHERE type = 'RoleRevoked' AND data->>'reason' = 'expired' AND data->>'reference' = $2 AND stream_id = ANY($1::uuid[])`,
    [contactIds, ROLE],
  );
  return Number(rows[0]?.count ?? 0);
}

/** Waits until `contactIds` have at least one expiry revocation each, or `deadline` (epoch ms); returns how many they have. */
async function waitForRevocations(db: Database, contactIds: string[], worker: Child, deadline: number): Promise<number> {
  for (;;) {
    const count = await revokedCount(db, contactIds);
    if (count >= contactIds.length || Date.now() >= deadline) return count;
    assertAlive(worker, `${contactIds.length - count} grants were still to be revoked`);
    await sleep(200);
  }
}

/** Events the dispatcher has not passed yet (it reads in commit order: transaction id, then position). */
async function undispatched(db: Database): Promise<number> {
  const { rows } = await db.query<{ count: string }>(
    `SELECT count(*) FROM events e
     WHERE NOT EXISTS (SELECT 1 FROM log_checkpoints c
                       WHERE c.consumer = 'dispatcher' AND (e.transaction_id, e.position) <= (c.transaction_id, c.position))`,
  );
  return Number(rows[0]?.count ?? 0);
}

interface WorkerConnections {
  total: number;
  openedInWindow: number;
}

/** The worker's pool connections to the bench database (BullMQ's PostgreSQL backend names its own differently). */
async function workerConnections(db: Database, since: number): Promise<WorkerConnections> {
  const { rows } = await db.query<{ total: string; opened: string }>(
    `SELECT count(*) AS total, count(*) FILTER (WHERE backend_start >= $1) AS opened
     FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'contacts-worker'`,
    [new Date(since)],
  );
  return { total: Number(rows[0]?.total ?? 0), openedInWindow: Number(rows[0]?.opened ?? 0) };
}

// ---------------------------------------------------------------------------------------------
// figures

interface Revocation {
  streamId: string;
  expires: string;
  /** epoch ms */
  recordedAt: number;
  latenessMs: number;
  /** who revoked it: the grant's own delayed job or the sweep */
  byJob: boolean;
}

/** Every expiry revocation of the bench's grants, with its lateness computed by Postgres (µs precision). */
async function revocationsOf(db: Database, contactIds: string[]): Promise<Revocation[]> {
  const { rows } = await db.query<{
    stream_id: string;
    expires: string;
    recorded_at: Date;
    lateness_ms: number;
    request_id: string | null;
  }>(
    `SELECT g.stream_id, g.data->>'expires' AS expires, r.recorded_at, r.metadata->>'requestId' AS request_id,
            (extract(epoch FROM r.recorded_at - (g.data->>'expires')::timestamptz) * 1000)::float8 AS lateness_ms
     FROM events g
     JOIN events r ON r.stream_id = g.stream_id AND r.type = 'RoleRevoked'
                  AND r.data->>'reason' = 'expired' AND r.data->>'reference' = g.data->>'reference'
     WHERE g.type = 'RoleGranted' AND g.data->>'reference' = $2 AND g.stream_id = ANY($1::uuid[])
     ORDER BY r.position`,
    [contactIds, ROLE],
  );
  return rows.map((r) => ({
    streamId: r.stream_id,
    expires: r.expires,
    recordedAt: r.recorded_at.getTime(),
    latenessMs: Number(r.lateness_ms),
    byJob: (r.request_id ?? '').startsWith('job-expire-role-'),
  }));
}

interface JobFigures {
  stages: Record<string, Spread | null>;
  /** jobs taken by a worker more than once (the early guard put them back, a retry, a stall) */
  takenAgain: number;
  /** jobs that found the grant already revoked (by the sweep) */
  nothingToDo: number;
  /** by second of the window: ms from the expiry to the first of its jobs taken (the queue's wake-up) */
  wakeBySecond: number[];
  /** by second of the window: p99 ms from RoleRevoked recorded_at to the job done (pool wait, transaction, completion) */
  commitP99BySecond: number[];
}

/**
 * Where the lateness went, from BullMQ's own timestamps of each expire-role job (Date.now() in
 * the worker, the same clock as the recorded times): when it was due, when a worker took it,
 * and when it was done (after the revocation committed).
 */
async function jobFiguresOf(
  backend: QueueBackend,
  grants: Grant[],
  revoked: Map<string, Revocation>,
  windowStart: number,
): Promise<JobFigures | null> {
  const queue = openQueue<ExpireRoleJob>(backend, 'roles');
  try {
    const jobs = ((await queue.getJobs(['completed'], 0, -1)) as Job<ExpireRoleJob>[]).filter((job) => job.name === 'expire-role');
    const byContact = new Map(jobs.map((job) => [job.data.contactId, job]));
    const due: number[] = [];
    const taken: number[] = [];
    const decide: number[] = [];
    const commit: number[] = [];
    let takenAgain = 0;
    let nothingToDo = 0;
    const wakeBySecond = Array.from({ length: WINDOW_SECONDS }, () => Infinity);
    const commitBySecond = Array.from({ length: WINDOW_SECONDS }, (): number[] => []);
    for (const grant of grants) {
      const job = byContact.get(grant.contactId);
      if (!job) continue;
      const expires = Date.parse(grant.expires);
      // The delay the dispatcher asked for is in the options (the job's own `delay` changes once it is promoted or put back).
      if (job.attemptsStarted > 1) takenAgain += 1;
      else if (typeof job.opts.delay === 'number') due.push(job.timestamp + job.opts.delay - expires);
      if (job.returnvalue === 'nothing-to-do') nothingToDo += 1;
      const revocation = revoked.get(grant.contactId);
      if (job.processedOn === undefined) continue;
      taken.push(job.processedOn - expires);
      const second = Math.round((expires - windowStart) / 1000);
      if (second >= 0 && second < WINDOW_SECONDS) wakeBySecond[second] = Math.min(wakeBySecond[second]!, job.processedOn - expires);
      if (!revocation?.byJob) continue;
      decide.push(revocation.recordedAt - job.processedOn);
      if (job.finishedOn === undefined) continue;
      commit.push(job.finishedOn - revocation.recordedAt);
      if (second >= 0 && second < WINDOW_SECONDS) commitBySecond[second]!.push(job.finishedOn - revocation.recordedAt);
    }
    return {
      stages: {
        'expires -> job due (added + delay; taken once)': spread(due),
        'expires -> taken by a worker (processedOn)': spread(taken),
        'taken -> RoleRevoked recorded_at': spread(decide),
        'recorded_at -> job done (pool, commit, complete)': spread(commit),
      },
      takenAgain,
      nothingToDo,
      wakeBySecond: wakeBySecond.map((ms) => (Number.isFinite(ms) ? ms : NaN)),
      commitP99BySecond: commitBySecond.map((values) => spread(values)?.p99 ?? NaN),
    };
  } catch (error) {
    log(`no job breakdown: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  } finally {
    await queue.close();
  }
}

interface BackendFigures {
  backend: 'redis' | 'postgres';
  grants: number;
  createMs: number;
  /** ms from the last create's 201 to the window's first expiry */
  headroomMs: number;
  /** events the dispatcher had not passed when the window began */
  undispatchedAtWindow: number;
  lateness: Spread | null;
  early: number;
  met: boolean;
  missing: number;
  duplicates: number;
  bySweep: number;
  /** ms from the window's last expiry to the last revocation */
  lastAfterWindowMs: number | null;
  /** lateness p99 by second of the window (each second's 100 grants) */
  p99BySecond: number[];
  jobs: JobFigures | null;
  workerConnections: WorkerConnections;
  cpuMsPerRevocation: Record<string, number> | null;
  otherCpuSeconds: number | null;
  machineBusyBefore: number | null;
}

function fmt(value: number | undefined | null): string | number {
  return value === undefined || value === null ? '-' : value;
}

/** The API, the worker and a pool of the bench's own on a new database; the fields are set as they start. */
interface Services {
  kind: 'redis' | 'postgres';
  db: BenchDatabase | null;
  api: Child | null;
  worker: Child | null;
  pool: Database | null;
  dropKeys: (() => Promise<void>) | null;
}

interface Started {
  db: BenchDatabase;
  api: Child;
  worker: Child;
  pool: Database;
  token: string;
  backend: QueueBackend;
}

async function startServices(services: Services): Promise<Started> {
  const { kind } = services;
  const db = (services.db = await createBenchDatabase(`expiry_${kind}`));
  log(`${kind}: database ${db.name}`);
  // Cheap hashes: the bench creates users with passwords to reach the grants, not to time bcrypt.
  const api = (services.api = await startApi(db.url, { BCRYPT_COST: '4' }));
  const token = await issueToken(api, db.url, ['contacts', 'roles']);
  await createRole(api, token);
  // Underscores only: the PostgreSQL backend makes a schema of the prefix and refuses a '-' in it.
  const queuePrefix = `bench_expiry_${process.pid}_${randomUUID().slice(0, 8)}`;
  if (kind === 'redis') services.dropKeys = redisKeysCleanup(REDIS_URL, queuePrefix);
  // No invites are sent: the SMTP URL is never dialled.
  const worker = (services.worker = startWorker(db.url, {
    smtpUrl: 'smtp://127.0.0.1:9',
    publicUrl: api.baseUrl,
    redisUrl: kind === 'redis' ? REDIS_URL : undefined,
    queuePrefix,
  }));
  const backend: QueueBackend =
    kind === 'redis' ? { kind, url: REDIS_URL, prefix: queuePrefix } : { kind, url: db.url, prefix: queuePrefix };
  const pool = (services.pool = new Database({ url: db.url, max: 2, applicationName: 'contacts-bench' }));
  return { db, api, worker, pool, token, backend };
}

async function stopServices(services: Services): Promise<void> {
  await services.pool?.close();
  await services.worker?.stop();
  await services.api?.stop();
  await services.dropKeys?.();
  await services.db?.drop();
}

/** Grants expiring together, not measured: they warm the services up and time a create. Returns ms per create. */
async function warmUp(kind: string, s: Started, run: string): Promise<number> {
  log(`${kind}: warm-up, ${WARMUP_GRANTS} grants expiring together (not measured; times the creates)`);
  const warmExpires = formatAtom(new Date(Math.ceil((Date.now() + 5_000) / 1000) * 1000), 'seconds');
  const warmStart = performance.now();
  const warm = await createGrants(
    s.api,
    s.token,
    Array.from({ length: WARMUP_GRANTS }, (_, i) => ({ email: `warm-${run}-${i}@example.com`, expires: warmExpires })),
  );
  const perCreateMs = (performance.now() - warmStart) / WARMUP_GRANTS;
  const warmIds = warm.map((g) => g.contactId);
  const warmRevoked = await waitForRevocations(s.pool, warmIds, s.worker, Date.parse(warmExpires) + REVOKE_TIMEOUT_MS);
  if (warmRevoked < warmIds.length) {
    throw new Error(
      `${kind}: ${warmIds.length - warmRevoked} warm-up grants were not revoked within ${REVOKE_TIMEOUT_MS} ms of their expiry:\n${s.worker.output()}`,
    );
  }
  return perCreateMs;
}

interface Window {
  start: number;
  end: number;
  perSecond: number;
}

/** The window begins on a whole second after the creates (estimated at twice the warm-up's pace) and the settle time. */
function planWindow(perCreateMs: number): Window {
  const estimateMs = perCreateMs * GRANTS * 2;
  const start = Math.ceil((Date.now() + estimateMs + SETTLE_MS) / 1000) * 1000;
  return { start, end: start + (WINDOW_SECONDS - 1) * 1000, perSecond: GRANTS / WINDOW_SECONDS };
}

interface Created {
  grants: Grant[];
  createMs: number;
  headroomMs: number;
  undispatchedAtWindow: number;
}

/** The measured grants, `perSecond` expiring at each whole second of the window; then waits for the dispatcher to pass them. */
async function createWindowGrants(kind: string, s: Started, window: Window, run: string): Promise<Created> {
  const wanted = Array.from({ length: GRANTS }, (_, i) => ({
    email: `expiry-${run}-${i}@example.com`,
    expires: formatAtom(new Date(window.start + Math.floor(i / window.perSecond) * 1000), 'seconds'),
  }));
  log(
    `${kind}: ${GRANTS} users with a grant, ${window.perSecond} expiring at each of the ${WINDOW_SECONDS} whole seconds from ` +
      `${new Date(window.start).toISOString()} (in ${round((window.start - Date.now()) / 1000, 1)} s)`,
  );
  const createStart = performance.now();
  const grants = await createGrants(s.api, s.token, wanted);
  const createMs = round(performance.now() - createStart, 1);
  const headroomMs = window.start - Date.now();
  if (headroomMs < 500) {
    throw new Error(`${kind}: the creates took ${createMs} ms and ended ${-headroomMs} ms into the window: figures would be meaningless`);
  }
  while ((await undispatched(s.pool)) > 0 && Date.now() < window.start - 300) await sleep(100);
  const undispatchedAtWindow = await undispatched(s.pool);
  if (undispatchedAtWindow > 0) log(`${kind}: ${undispatchedAtWindow} events not yet dispatched when the window begins`);
  return { grants, createMs, headroomMs, undispatchedAtWindow };
}

/** Waits through the window for every revocation, metering the processes' CPU, then a grace time for duplicates. */
async function watchWindow(kind: string, s: Started, window: Window, ids: string[]): Promise<CpuFigures | null> {
  const apiPid = s.api.process.pid;
  const workerPid = s.worker.process.pid;
  await sleep(Math.max(0, window.start - 500 - Date.now()));

  log(`${kind}: window open; waiting for the revocations`);
  const meter = new CpuMeter(s.db.name, () => ({ api: apiPid, worker: workerPid, bench: process.pid }));
  let cpu: CpuFigures | null;
  try {
    await sleep(Math.max(0, window.end - Date.now()));
    await waitForRevocations(s.pool, ids, s.worker, window.end + REVOKE_TIMEOUT_MS);
  } finally {
    cpu = meter.stop();
  }
  await sleep(DUPLICATE_GRACE_MS);
  return cpu;
}

interface Outcome {
  perStream: Map<string, Revocation[]>;
  /** each grant's first revocation */
  first: Map<string, Revocation>;
  missingIds: string[];
  duplicates: number;
  lateness: Spread | null;
  early: Revocation[];
  bySweep: number;
  lastRecorded: number;
  p99BySecond: number[];
}

function outcomeOf(revocations: Revocation[], ids: string[], window: Window): Outcome {
  const perStream = new Map<string, Revocation[]>();
  for (const r of revocations) perStream.set(r.streamId, [...(perStream.get(r.streamId) ?? []), r]);
  const first = new Map([...perStream].map(([id, list]) => [id, list[0]!]));
  const p99BySecond = Array.from({ length: WINDOW_SECONDS }, (_, s) => {
    const at = window.start + s * 1000;
    return spread([...first.values()].filter((r) => Date.parse(r.expires) === at).map((r) => r.latenessMs))?.p99 ?? NaN;
  });
  return {
    perStream,
    first,
    missingIds: ids.filter((id) => !perStream.has(id)),
    duplicates: [...perStream.values()].filter((list) => list.length > 1).length,
    lateness: spread([...first.values()].map((r) => r.latenessMs)),
    early: revocations.filter((r) => r.latenessMs < 0),
    bySweep: [...first.values()].filter((r) => !r.byJob).length,
    lastRecorded: Math.max(...revocations.map((r) => r.recordedAt)),
    p99BySecond,
  };
}

function printBackend(
  kind: 'redis' | 'postgres',
  window: Window,
  created: Created,
  outcome: Outcome,
  jobs: JobFigures | null,
  connections: WorkerConnections,
  cpu: CpuFigures | null,
  met: boolean,
): void {
  const { lateness, p99BySecond, lastRecorded, perStream, duplicates, missingIds, early, bySweep } = outcome;
  const row = (label: string, s: Spread | null): (string | number)[] => [
    label,
    s?.n ?? 0,
    fmt(s?.min),
    fmt(s?.p50),
    fmt(s?.p99),
    fmt(s?.max),
  ];
  console.log(
    `\nrole expiry, BullMQ on ${kind === 'redis' ? 'Redis' : 'its PostgreSQL backend'}: ${GRANTS} grants, ${window.perSecond} expiring at each of ${WINDOW_SECONDS} whole seconds`,
  );
  console.log(
    table([
      [kind, 'n', 'min ms', 'p50 ms', 'p99 ms', 'max ms'],
      row('lateness: RoleRevoked recorded_at - expires', lateness),
      ...Object.entries(jobs?.stages ?? {}).map(([label, s]) => row(`  ${label}`, s)),
    ]),
  );
  console.log(`lateness p99 by second of the window (ms): ${p99BySecond.join(', ')}`);
  if (jobs) {
    console.log(`first job taken after each second's expiry (the queue's wake-up, ms): ${jobs.wakeBySecond.join(', ')}`);
    console.log(`recorded_at -> job done p99 by second (ms): ${jobs.commitP99BySecond.join(', ')}`);
  }
  console.log(
    `worker's Postgres connections: ${connections.total} open after the window, ${connections.openedInWindow} of them opened since it began ` +
      `(the pool closes a connection idle for 10 s)`,
  );
  console.log(
    `create phase: ${GRANTS} x 201 in ${created.createMs} ms, ${round(created.headroomMs / 1000, 1)} s before the window; ` +
      `undispatched events at the window: ${created.undispatchedAtWindow}; last revocation ` +
      `${Number.isFinite(lastRecorded) ? `${lastRecorded - window.end} ms after the last expiry` : 'never'}`,
  );
  console.log(
    `revoked exactly once: ${perStream.size - duplicates} of ${GRANTS}; missing ${missingIds.length}, duplicated ${duplicates}; ` +
      `early ${early.length}; by the sweep ${bySweep}; jobs taken more than once ${fmt(jobs?.takenAgain)}, found nothing to do ${fmt(jobs?.nothingToDo)}`,
  );
  console.log(`p99 goal <= ${GOAL_P99_MS} ms and never early: ${met ? 'met' : 'NOT met'}`);
  const perRevocation = cpuPerOperation(cpu, GRANTS);
  if (perRevocation)
    console.log(
      `CPU ms per revocation over the window: ${JSON.stringify(perRevocation)}; CPU s used by other work: ${cpu?.other} of ${cpu?.capacity}`,
    );
}

/** Grants revoked early, never, or more than once: each a failure of the bench. */
function problemsOf(outcome: Outcome): string[] {
  const { early, missingIds, duplicates } = outcome;
  return [
    early.length > 0
      ? `${early.length} grants revoked EARLY, before their expiry (e.g. ${early
          .slice(0, 3)
          .map((r) => `${r.streamId} ${round(r.latenessMs, 1)} ms`)
          .join(', ')})`
      : null,
    missingIds.length > 0 ? `${missingIds.length} grants never revoked (e.g. ${missingIds.slice(0, 3).join(', ')})` : null,
    duplicates > 0 ? `${duplicates} grants revoked more than once` : null,
  ].filter((p): p is string => p !== null);
}

async function measureBackend(kind: 'redis' | 'postgres'): Promise<BackendFigures> {
  const services: Services = { kind, db: null, api: null, worker: null, pool: null, dropKeys: null };
  try {
    const s = await startServices(services);
    const run = randomUUID().slice(0, 8);
    const perCreateMs = await warmUp(kind, s, run);

    const busyBefore = await waitForQuiet();
    await checkpoint();
    const window = planWindow(perCreateMs);
    const created = await createWindowGrants(kind, s, window, run);
    const ids = created.grants.map((g) => g.contactId);
    const cpu = await watchWindow(kind, s, window, ids);

    const connections = await workerConnections(s.pool, window.start);
    const outcome = outcomeOf(await revocationsOf(s.pool, ids), ids, window);
    const jobs = await jobFiguresOf(s.backend, created.grants, outcome.first, window.start);
    const { lateness, missingIds, early } = outcome;
    const met = lateness !== null && missingIds.length === 0 && early.length === 0 && lateness.p99 <= GOAL_P99_MS;
    printBackend(kind, window, created, outcome, jobs, connections, cpu, met);
    const problems = problemsOf(outcome);
    for (const problem of problems) console.log(`FAIL (${kind}): ${problem}`);
    if (problems.length > 0) process.exitCode = 1;

    return {
      backend: kind,
      grants: GRANTS,
      createMs: created.createMs,
      headroomMs: created.headroomMs,
      undispatchedAtWindow: created.undispatchedAtWindow,
      lateness,
      early: early.length,
      met,
      missing: missingIds.length,
      duplicates: outcome.duplicates,
      bySweep: outcome.bySweep,
      lastAfterWindowMs: Number.isFinite(outcome.lastRecorded) ? outcome.lastRecorded - window.end : null,
      p99BySecond: outcome.p99BySecond,
      jobs,
      workerConnections: connections,
      cpuMsPerRevocation: cpuPerOperation(cpu, GRANTS),
      otherCpuSeconds: cpu?.other ?? null,
      machineBusyBefore: busyBefore,
    };
  } finally {
    await stopServices(services);
  }
}

/**
 * 1,000 grants expiring within the same 10 seconds, and how late each RoleRevoked is
 * recorded after its `expires`, with the worker's queues on Redis and on BullMQ's PostgreSQL backend.
 */
export async function expiryBench(): Promise<Record<string, unknown>> {
  const redis = await measureBackend('redis');
  const postgres = await measureBackend('postgres');
  console.log(
    '\n' +
      table([
        ['lateness', 'min ms', 'p50 ms', 'p99 ms', 'max ms', 'early', 'once each', `p99 <= ${GOAL_P99_MS}`],
        ...[redis, postgres].map((f) => [
          f.backend,
          fmt(f.lateness?.min),
          fmt(f.lateness?.p50),
          fmt(f.lateness?.p99),
          fmt(f.lateness?.max),
          f.early,
          f.missing + f.duplicates === 0 ? 'yes' : 'NO',
          f.met ? 'met' : 'NOT met',
        ]),
      ]),
  );
  const summary = (f: BackendFigures): Record<string, unknown> => ({
    grants: f.grants,
    createMs: f.createMs,
    headroomMs: f.headroomMs,
    undispatchedAtWindow: f.undispatchedAtWindow,
    min: f.lateness?.min ?? null,
    p50: f.lateness?.p50 ?? null,
    p99: f.lateness?.p99 ?? null,
    max: f.lateness?.max ?? null,
    early: f.early,
    met: f.met,
    missing: f.missing,
    duplicates: f.duplicates,
    bySweep: f.bySweep,
    lastAfterWindowMs: f.lastAfterWindowMs,
    p99BySecond: f.p99BySecond,
    stages: f.jobs?.stages ?? null,
    jobsTakenAgain: f.jobs?.takenAgain ?? null,
    jobsNothingToDo: f.jobs?.nothingToDo ?? null,
    wakeBySecond: f.jobs?.wakeBySecond ?? null,
    commitP99BySecond: f.jobs?.commitP99BySecond ?? null,
    workerConnections: f.workerConnections,
    cpuMsPerRevocation: f.cpuMsPerRevocation,
    otherCpuSeconds: f.otherCpuSeconds,
    machineBusyBefore: f.machineBusyBefore,
  });
  return { goalP99Ms: GOAL_P99_MS, windowSeconds: WINDOW_SECONDS, redis: summary(redis), postgres: summary(postgres) };
}
