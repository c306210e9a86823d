import { randomUUID } from 'node:crypto';
import bcrypt from 'bcrypt';
import { HASH_CONCURRENCY } from '@app/contact-service';
import {
  CpuMeter,
  createBenchDatabase,
  inPool,
  issueToken,
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
import { bcryptCost } from './users.js';

const RAW_SECONDS = 8;
const DURATION = 10;
const CLIENTS = 8;
const ALONE_SECONDS = 6;
/** Wrong passwords a user may take during the bench: below the lock (10 failures in 15 minutes). */
const FAILURES_PER_USER = 6;
const MEDIAN_GAP_GOAL = 0.1;
const PASSWORD = 'Harbour-2024-Quay';

type Kind = 'success' | 'unknown email' | 'wrong password';
const KINDS: readonly Kind[] = ['success', 'unknown email', 'wrong password'];
const EXPECTED: Record<Kind, number> = { success: 200, 'unknown email': 401, 'wrong password': 401 };

/** bcrypt.compare (libuv pool) with `concurrency` compares in flight for `seconds`: what the API can do at best. */
async function rawCompareRate(
  cost: number,
  seconds: number,
  concurrency: number,
): Promise<{ rate: number; compares: number; seconds: number }> {
  const hash = await bcrypt.hash(PASSWORD, cost);
  const { rate, count, seconds: elapsed } = await timedRate(() => bcrypt.compare('not-the-password-1', hash), seconds, concurrency);
  return { rate, compares: count, seconds: elapsed };
}

interface Run {
  seconds: number;
  latencies: Record<Kind, number[]>;
  /** answers other than the kind's expected status, by `kind status` */
  unexpected: Record<string, number>;
}

/**
 * `clients` loops, each sending the three kinds of sign-in in turn (its own starting kind, so
 * every kind is in flight at every moment), for `seconds`; latency by kind.
 */
async function signIns(api: Child, token: string, emails: string[], clients: number, seconds: number): Promise<Run> {
  const latencies: Record<Kind, number[]> = { success: [], 'unknown email': [], 'wrong password': [] };
  const unexpected: Record<string, number> = {};
  const run = randomUUID().slice(0, 8);
  let sent = 0;
  let wrong = 0;
  const bodyOf = (kind: Kind): { email: string; password: string } => {
    switch (kind) {
      case 'success':
        return { email: emails[sent % emails.length]!, password: PASSWORD };
      case 'unknown email':
        return { email: `nobody-${run}-${sent}@example.com`, password: PASSWORD };
      case 'wrong password':
        return { email: emails[wrong++ % emails.length]!, password: 'not-the-password-1' };
    }
  };
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = client; performance.now() < end; i++) {
        const kind = KINDS[i % KINDS.length]!;
        const body = JSON.stringify(bodyOf(kind));
        sent++;
        const t0 = performance.now();
        const response = await fetch(`${api.baseUrl}/api/contacts/authenticate.json`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        const ms = performance.now() - t0;
        if (response.status === EXPECTED[kind]) latencies[kind].push(ms);
        else unexpected[`${kind} ${response.status}`] = (unexpected[`${kind} ${response.status}`] ?? 0) + 1;
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, latencies, unexpected };
}

const spreadsOf = (run: Run): Record<Kind, Spread | null> =>
  Object.fromEntries(KINDS.map((kind) => [kind, spread(run.latencies[kind])])) as Record<Kind, Spread | null>;

/** |unknown − wrong| / wrong, of the medians. */
function medianGap(spreads: Record<Kind, Spread | null>): number | null {
  const unknown = spreads['unknown email']?.p50;
  const wrong = spreads['wrong password']?.p50;
  return unknown === undefined || wrong === undefined || wrong === 0 ? null : round(Math.abs(unknown - wrong) / wrong, 3);
}

export async function signinBench(): Promise<Record<string, unknown>> {
  const cost = bcryptCost();
  let db: BenchDatabase | null = null;
  let api: Child | null = null;
  try {
    const busyBefore = await waitForQuiet();
    log(`raw bcrypt.compare at cost ${cost}, ${HASH_CONCURRENCY} in flight (the API's hashing slots), ${RAW_SECONDS} s`);
    const raw = await rawCompareRate(cost, RAW_SECONDS, HASH_CONCURRENCY);

    db = await createBenchDatabase('signin');
    log(`database ${db.name}`);
    api = await startApi(db.url, { BCRYPT_COST: String(cost) });
    const token = await issueToken(api, db.url, ['contacts', 'signin']);
    // Enough users that wrong passwords (a third of the sign-ins, at most the raw compare rate) never lock one.
    const users = Math.max(8, Math.ceil((raw.rate * (DURATION + ALONE_SECONDS)) / KINDS.length / FAILURES_PER_USER));
    log(`${users} users with passwords at cost ${cost}`);
    const run = randomUUID().slice(0, 8);
    const emails = await inPool(
      Array.from({ length: users }, (_, n) => `ada-${run}-${n}@example.com`),
      HASH_CONCURRENCY,
      async (email) => {
        const response = await fetch(`${api!.baseUrl}/api/contacts.json`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ contact: { type: 'user', firstname: 'Ada', lastname: 'Lovelace', email, password: PASSWORD } }),
        });
        if (response.status !== 201) throw new Error(`creating ${email}: ${response.status} ${await response.text()}`);
        return email;
      },
    );

    log(`API: ${CLIENTS} clients signing in (success, unknown email, wrong password in turn), ${DURATION} s`);
    const apiPid = api.process.pid;
    const meter = new CpuMeter(db.name, () => ({ api: apiPid, load: process.pid }));
    const loaded = await signIns(api, token, emails, CLIENTS, DURATION);
    const cpu = meter.stop();
    log(`API: 1 client, the same three kinds in turn, ${ALONE_SECONDS} s (no queue: the medians are the work itself)`);
    const alone = await signIns(api, token, emails, 1, ALONE_SECONDS);
    // The machine is shared: the raw rate again after, and the API compared with the mean of both.
    log(`raw bcrypt.compare again, ${RAW_SECONDS} s`);
    const rawAfter = await rawCompareRate(cost, RAW_SECONDS, HASH_CONCURRENCY);
    const rawRate = round((raw.rate + rawAfter.rate) / 2, 2);

    const answered = KINDS.reduce((sum, kind) => sum + loaded.latencies[kind].length, 0);
    const perSecond = round(answered / loaded.seconds, 2);
    const ratio = round(perSecond / rawRate, 3);
    const loadedSpreads = spreadsOf(loaded);
    const aloneSpreads = spreadsOf(alone);
    const loadedGap = medianGap(loadedSpreads);
    const aloneGap = medianGap(aloneSpreads);
    const row = (label: string, s: Spread | null): (string | number)[] => [label, s?.n ?? 0, s?.p50 ?? '-', s?.p99 ?? '-'];

    console.log(
      table([
        [`sign-in (bcrypt cost ${cost})`, 'n', 'p50 ms', 'p99 ms'],
        ...KINDS.map((kind) => row(`${CLIENTS} clients: ${kind}`, loadedSpreads[kind])),
        ...KINDS.map((kind) => row(`1 client: ${kind}`, aloneSpreads[kind])),
      ]),
    );
    console.log(
      `throughput: ${perSecond} sign-ins/s vs raw bcrypt.compare x${HASH_CONCURRENCY} ${rawRate}/s` +
        ` (before ${raw.rate}, after ${rawAfter.rate}): ratio ${ratio}` +
        ` (every sign-in is one compare)`,
    );
    const gapMet = (gap: number | null): string => (gap !== null && gap <= MEDIAN_GAP_GOAL ? 'met' : 'NOT met');
    console.log(
      `median gap unknown email vs wrong password: ${CLIENTS} clients ${loadedGap ?? '-'}, 1 client ${aloneGap ?? '-'}` +
        ` (goal <= ${MEDIAN_GAP_GOAL}: ${gapMet(loadedGap)} / ${gapMet(aloneGap)})`,
    );
    if (cpu)
      console.log(
        `CPU s over the ${CLIENTS}-client run: ${JSON.stringify(cpu.seconds)}; other work on the machine: ${cpu.other} of ${cpu.capacity}`,
      );
    const unexpected = { ...loaded.unexpected, ...alone.unexpected };
    if (Object.keys(unexpected).length > 0) {
      console.log(`FAIL: unexpected answers ${JSON.stringify(unexpected)}`);
      process.exitCode = 1;
    }
    return {
      bcryptCost: cost,
      hashSlots: HASH_CONCURRENCY,
      raw: { before: raw, after: rawAfter, rate: rawRate },
      api: { signInsPerSecond: perSecond, answered, seconds: round(loaded.seconds, 2), clients: CLIENTS },
      ratio,
      medians: {
        loaded: Object.fromEntries(KINDS.map((kind) => [kind, loadedSpreads[kind]?.p50 ?? null])),
        alone: Object.fromEntries(KINDS.map((kind) => [kind, aloneSpreads[kind]?.p50 ?? null])),
      },
      medianGap: { loaded: loadedGap, alone: aloneGap, goal: MEDIAN_GAP_GOAL },
      met: loadedGap !== null && loadedGap <= MEDIAN_GAP_GOAL && Object.keys(unexpected).length === 0,
      unexpected,
      cpuSeconds: cpu?.seconds ?? null,
      otherCpuSeconds: cpu?.other ?? null,
      machineBusyBefore: busyBefore,
    };
  } finally {
    await api?.stop();
    await db?.drop();
  }
}
