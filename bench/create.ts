import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AutocannonRequest } from 'autocannon';
import { decide, evolve, toContactView, type ContactInput } from '@app/contacts';
import { eventHash, type EventMetadata } from '@app/event-store';
import {
  checkpoint,
  cpuPerOperation,
  CpuMeter,
  createBenchDatabase,
  issueToken,
  load,
  log,
  pgbench,
  round,
  startApi,
  table,
  waitForQuiet,
  type BenchDatabase,
  type Child,
} from './support.js';

const DURATION = 10;
const WARMUP = 2;
const CONNECTIONS = 32;
const GOAL = 0.5;

/** The guest every request creates (one ContactCreated event, no email reservation). */
export function guestBody(email: string): string {
  return JSON.stringify({ contact: { type: 'guest', firstname: 'Ann', lastname: 'Lee', email, company: 'Acme Trading Ltd' } });
}

/**
 * The event data, metadata, hash and read-table view the API writes for that guest, made by the
 * service's own domain code, so pgbench writes rows of the same size.
 */
function sampleWrite(): Record<string, string> {
  const now = new Date();
  const input: ContactInput = {
    type: 'guest',
    firstname: 'Ann',
    lastname: 'Lee',
    email: 'bench-l2k3j4-123456@example.com',
    company: 'Acme Trading Ltd',
  };
  const contactId = randomUUID();
  const [event] = decide(
    { type: 'CreateContact', contactId, input, passwordHash: null, invite: null, addressId: randomUUID(), catalogue: new Map() },
    null,
    now,
  );
  if (!event) throw new Error('decide produced no event');
  const recordedAt = now.toISOString();
  const state = evolve(null, { ...event, version: 1, recordedAt });
  if (!state) throw new Error('evolve produced no contact');
  const requestId = randomUUID();
  const metadata: EventMetadata = { clientId: randomUUID(), requestId, correlationId: requestId, causationId: requestId };
  const hash = eventHash(null, { streamId: contactId, version: 1, type: event.type, data: event.data, metadata, recordedAt });
  return {
    data: JSON.stringify(event.data),
    metadata: JSON.stringify(metadata),
    hash,
    view: JSON.stringify(toContactView(state)),
    state: JSON.stringify(state),
  };
}

/**
 * The durable write of one guest create, as the API makes it: one transaction, one `events` row
 * and one `contacts` row. Payloads are pgbench variables, so with -M prepared they travel as bind
 * parameters and Postgres parses the JSON on every execution, as it does for the API.
 */
const SCRIPT = `\\set r random(1, 2000000000)
BEGIN;
INSERT INTO events (stream_id, stream_version, type, data, metadata, recorded_at, hash)
  VALUES (gen_random_uuid(), 1, 'ContactCreated', CAST(:data AS jsonb), CAST(:metadata AS jsonb), now(), :hash);
INSERT INTO contacts (id, type, email, tags, version, created, view, state, head_hash)
  VALUES (gen_random_uuid(), 'guest', 'bench-' || :client_id || '-' || :r || '@example.com', '{}', 1, now(), CAST(:view AS json), CAST(:state AS jsonb), :hash);
END;
`;

export async function createBench(): Promise<Record<string, unknown>> {
  let db: BenchDatabase | null = null;
  let api: Child | null = null;
  const dir = await mkdtemp(join(tmpdir(), 'contacts-bench-'));
  try {
    db = await createBenchDatabase('create');
    log(`database ${db.name}`);

    const scriptFile = join(dir, 'guest-create.sql');
    const variables = sampleWrite();
    await writeFile(scriptFile, SCRIPT);
    const busyBefore = await waitForQuiet();
    await checkpoint();
    log(`pgbench -c 16 -j 2 -T ${DURATION} -M prepared (one events row + one contacts row per transaction)`);
    let pgbenchPid: number | undefined;
    const pgMeter = new CpuMeter(db.name, () => ({ pgbench: pgbenchPid }));
    const pg = await pgbench(
      db.url,
      ['-n', '-c', '16', '-j', '2', '-T', String(DURATION), '-M', 'prepared', '-f', scriptFile],
      variables,
      (pid) => {
        pgbenchPid = pid;
      },
    );
    const pgCpu = pgMeter.stop();

    api = await startApi(db.url);
    const token = await issueToken(api, db.url, ['contacts']);
    const run = randomUUID().slice(0, 8);
    let n = 0;
    const requests: AutocannonRequest[] = [
      {
        method: 'POST',
        path: '/api/contacts.json',
        setupRequest: (request) => ({ ...request, body: guestBody(`bench-${run}-${n++}@example.com`) }),
      },
    ];
    const options = {
      url: api.baseUrl,
      connections: CONNECTIONS,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      requests,
    };
    log(`API warm-up ${WARMUP} s (not measured)`);
    await load({ ...options, duration: WARMUP });
    await checkpoint();
    log(`API POST /api/contacts.json, ${CONNECTIONS} connections, ${DURATION} s`);
    const apiPid = api.process.pid;
    const apiMeter = new CpuMeter(db.name, () => ({ api: apiPid, load: process.pid }));
    const http = await load({ ...options, duration: DURATION });
    const apiCpu = apiMeter.stop();
    const pgPerTx = cpuPerOperation(pgCpu, pg.transactions ?? 0);
    const apiPerReq = cpuPerOperation(apiCpu, http.ok);

    const ratio = round(http.rps / pg.tps, 3);
    console.log(
      table([
        ['create (guest)', 'per s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        ['pgbench (events + contacts row)', pg.tps, pg.latencyMs ?? '-', '-', '-', pg.failed ?? 0],
        ['API POST /api/contacts.json', http.rps, http.p50, http.p99, http.non2xx, http.errors + http.timeouts],
      ]),
    );
    console.log(`ratio API/pgbench = ${ratio} (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})`);
    if (pgPerTx && apiPerReq) {
      console.log(`CPU ms per create: pgbench run ${JSON.stringify(pgPerTx)}; API run ${JSON.stringify(apiPerReq)}`);
      console.log(
        `CPU s used by other work on the machine: ${pgCpu?.other} of ${pgCpu?.capacity} (pgbench run), ${apiCpu?.other} of ${apiCpu?.capacity} (API run)`,
      );
    }
    if (http.non2xx > 0 || http.errors > 0) {
      console.log(`FAIL: ${http.non2xx} non-2xx responses, ${http.errors} errors (status codes ${JSON.stringify(http.statusCodes)})`);
      process.exitCode = 1;
    }
    return {
      pgbench: { tps: pg.tps, latencyMs: pg.latencyMs, transactions: pg.transactions, failed: pg.failed },
      api: {
        rps: http.rps,
        p50: http.p50,
        p99: http.p99,
        total: http.total,
        non2xx: http.non2xx,
        errors: http.errors,
        timeouts: http.timeouts,
      },
      ratio,
      goal: GOAL,
      met: ratio >= GOAL && http.non2xx === 0,
      cpuMsPerCreate: { pgbench: pgPerTx, api: apiPerReq },
      otherCpuSeconds: { pgbench: pgCpu?.other ?? null, api: apiCpu?.other ?? null },
      machineBusyBefore: busyBefore,
    };
  } finally {
    await api?.stop();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}
