import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import bcrypt from 'bcrypt';
import { fileURLToPath } from 'node:url';
import type { AutocannonRequest } from 'autocannon';
import { readRequests, seedContacts } from './read.js';
import {
  CpuMeter,
  createBenchDatabase,
  issueToken,
  load,
  log,
  round,
  timedRate,
  spread,
  startApi,
  table,
  waitForQuiet,
  type BenchDatabase,
  type Child,
  type Spread,
} from './support.js';

const RAW_SECONDS = 8;
const RAW_CONCURRENCY = 4;
const DURATION = 15;
const USER_CONNECTIONS = 8;
const READ_RATE = 50;
const READ_CONNECTIONS = 4;
const READ_CONTACTS = 100;
const RATIO_GOAL = 0.9;
const P99_GOAL = 50;
const PASSWORD = 'Harbour-2024-Quay';
/** the burst's sender, a process of its own beside this one (compiled beside this file) */
const BURST_SENDER = fileURLToPath(new URL('./password-burst.js', import.meta.url));
/** The flood: this many password creates sent at once by one client, on as many connections. */
const BURST = 200;
const BURST_GOAL_SECONDS = 15;
const BURST_READ_SECONDS = 10;

/** BCRYPT_COST as the API reads it, default 12: the cost the password benches measure at. */
export function bcryptCost(): number {
  const cost = Number(process.env.BCRYPT_COST ?? 12);
  if (!Number.isInteger(cost) || cost < 4 || cost > 15) throw new Error('BCRYPT_COST must be a whole number from 4 to 15');
  return cost;
}

/** bcrypt's async API (libuv pool) with `concurrency` hashes in flight for `seconds`. */
async function rawHashRate(cost: number, seconds: number, concurrency: number): Promise<{ rate: number; hashes: number; seconds: number }> {
  await bcrypt.hash(PASSWORD, cost); // load the native binding before timing
  const { rate, count, seconds: elapsed } = await timedRate(() => bcrypt.hash(PASSWORD, cost), seconds, concurrency);
  return { rate, hashes: count, seconds: elapsed };
}

interface BurstFigures {
  sent: number;
  created: number;
  busy: number;
  /** any other answer, or no answer */
  other: Record<string, number>;
  /** from the first request sent to the last answer */
  seconds: number;
  /** the Retry-After values the 503s carried */
  retryAfter: Spread | null;
}

/**
 * `BURST` user creates with passwords sent at once, each on its own connection: the API hashes
 * what its cores can within a few seconds and answers the rest 503 busy at once. Reads go on
 * meanwhile at `READ_RATE`.
 */
async function passwordBurst(baseUrl: string, headers: Record<string, string>, run: string): Promise<BurstFigures> {
  const child = spawn(process.execPath, [BURST_SENDER, baseUrl, headers.authorization ?? '', run, String(BURST), PASSWORD], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the burst's sender exited with ${code}`)))),
  );
  const { seconds: elapsed, answers: statuses } = JSON.parse(output) as {
    seconds: number;
    answers: { status: string; retryAfter: number }[];
  };
  const seconds = round(elapsed, 2);
  const other: Record<string, number> = {};
  for (const { status } of statuses) if (status !== '201' && status !== '503') other[status] = (other[status] ?? 0) + 1;
  const busy = statuses.filter((s) => s.status === '503');
  return {
    sent: BURST,
    created: statuses.filter((s) => s.status === '201').length,
    busy: busy.length,
    other,
    seconds,
    retryAfter: spread(
      busy.map((s) => s.retryAfter).filter((n) => Number.isFinite(n)),
      0,
    ),
  };
}

export async function usersBench(): Promise<Record<string, unknown>> {
  const cost = bcryptCost();
  let db: BenchDatabase | null = null;
  let api: Child | null = null;
  try {
    const busyBefore = await waitForQuiet();
    log(`raw bcrypt.hash at cost ${cost}, ${RAW_CONCURRENCY} in flight, ${RAW_SECONDS} s`);
    const raw = await rawHashRate(cost, RAW_SECONDS, RAW_CONCURRENCY);

    db = await createBenchDatabase('users');
    log(`database ${db.name}`);
    api = await startApi(db.url);
    const token = await issueToken(api, db.url, ['contacts']);
    const ids = await seedContacts(api, token, READ_CONTACTS);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const run = randomUUID().slice(0, 8);
    let n = 0;
    const createUser: AutocannonRequest[] = [
      {
        method: 'POST',
        path: '/api/contacts.json',
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({
            contact: { type: 'user', firstname: 'Ada', lastname: 'Lovelace', email: `ada-${run}-${n++}@example.com`, password: PASSWORD },
          }),
        }),
      },
    ];
    log(`API: POST users (${USER_CONNECTIONS} connections) and GET contacts at ${READ_RATE}/s, ${DURATION} s`);
    const apiPid = api.process.pid;
    const meter = new CpuMeter(db.name, () => ({ api: apiPid, load: process.pid }));
    const [users, reads] = await Promise.all([
      load({ url: api.baseUrl, connections: USER_CONNECTIONS, duration: DURATION, headers, requests: createUser, timeout: 30 }),
      load({
        url: api.baseUrl,
        connections: READ_CONNECTIONS,
        overallRate: READ_RATE,
        duration: DURATION,
        headers: { authorization: headers.authorization },
        requests: readRequests(ids),
      }),
    ]);
    const cpu = meter.stop();

    log(`API: ${BURST} password creates at once from one client, GET contacts at ${READ_RATE}/s meanwhile`);
    await waitForQuiet();
    const [burst, burstReads] = await Promise.all([
      passwordBurst(api.baseUrl, headers, run),
      load({
        url: api.baseUrl,
        connections: READ_CONNECTIONS,
        overallRate: READ_RATE,
        duration: BURST_READ_SECONDS,
        headers: { authorization: headers.authorization },
        requests: readRequests(ids),
      }),
    ]);
    const burstMet =
      Object.keys(burst.other).length === 0 && burst.seconds <= BURST_GOAL_SECONDS && burstReads.p99 < P99_GOAL && burstReads.non2xx === 0;
    const usersPerSecond = round(users.ok / users.duration, 2);
    const ratio = round(usersPerSecond / raw.rate, 3);

    console.log(
      table([
        [`users (bcrypt cost ${cost})`, 'per s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        [`raw bcrypt.hash x${RAW_CONCURRENCY}`, raw.rate, '-', '-', '-', '-'],
        ['API POST user with password', usersPerSecond, users.p50, users.p99, users.non2xx, users.errors + users.timeouts],
        [`API GET contact at ${READ_RATE}/s meanwhile`, reads.rps, reads.p50, reads.p99, reads.non2xx, reads.errors + reads.timeouts],
      ]),
    );
    console.log(`ratio users/raw = ${ratio} (goal >= ${RATIO_GOAL}: ${ratio >= RATIO_GOAL ? 'met' : 'NOT met'})`);
    console.log(`GET p99 under user load = ${reads.p99} ms (goal < ${P99_GOAL}: ${reads.p99 < P99_GOAL ? 'met' : 'NOT met'})`);
    console.log(
      table([
        [`${BURST} password creates at once`, 'created', '503 busy', 'other', 'all answered in s', 'Retry-After s'],
        [
          'API POST user with password',
          burst.created,
          burst.busy,
          JSON.stringify(burst.other),
          burst.seconds,
          burst.retryAfter ? `${burst.retryAfter.min}-${burst.retryAfter.max}` : '-',
        ],
        [`API GET contact at ${READ_RATE}/s meanwhile`, `p50 ${burstReads.p50} ms`, `p99 ${burstReads.p99} ms`, '-', '-', '-'],
      ]),
    );
    console.log(
      `burst: every create answered 201 or 503 within ${BURST_GOAL_SECONDS} s, GET p99 < ${P99_GOAL} ms meanwhile: ${burstMet ? 'met' : 'NOT met'}`,
    );
    if (cpu)
      console.log(`CPU s over the API run: ${JSON.stringify(cpu.seconds)}; other work on the machine: ${cpu.other} of ${cpu.capacity}`);
    const failed = users.non2xx + users.errors + reads.non2xx + reads.errors + burstReads.non2xx + burstReads.errors;
    if (failed > 0) {
      console.log(`FAIL: non-2xx or errors (users ${JSON.stringify(users.statusCodes)}, reads ${JSON.stringify(reads.statusCodes)})`);
      process.exitCode = 1;
    }
    return {
      bcryptCost: cost,
      raw,
      api: { usersPerSecond, users: users.ok, p50: users.p50, p99: users.p99, non2xx: users.non2xx, errors: users.errors },
      reads: { rps: reads.rps, p50: reads.p50, p99: reads.p99, max: reads.max, non2xx: reads.non2xx, errors: reads.errors },
      ratio,
      burst: {
        ...burst,
        reads: { rps: burstReads.rps, p50: burstReads.p50, p99: burstReads.p99, max: burstReads.max, non2xx: burstReads.non2xx },
      },
      goals: { ratio: RATIO_GOAL, readP99Ms: P99_GOAL, burstSeconds: BURST_GOAL_SECONDS },
      met: ratio >= RATIO_GOAL && reads.p99 < P99_GOAL && failed === 0 && burstMet,
      cpuSeconds: cpu?.seconds ?? null,
      otherCpuSeconds: cpu?.other ?? null,
      machineBusyBefore: busyBefore,
    };
  } finally {
    await api?.stop();
    await db?.drop();
  }
}
