import { randomUUID } from 'node:crypto';
import type { AutocannonRequest } from 'autocannon';
import { Database } from '@app/database';
import { seedContacts } from './read.js';
import {
  checkpoint,
  cpuPerOperation,
  CpuMeter,
  createBenchDatabase,
  issueToken,
  load,
  log,
  startApi,
  table,
  waitForQuiet,
  type BenchDatabase,
  type Child,
  type LoadFigures,
} from './support.js';

const DURATION = 10;
const WARMUP = 2;
const CONNECTIONS = 32;
const DISTINCT_CONTACTS = 500;

/** Each request changes the lastname to a new value, so every update is exactly one event. */
function updateRequests(ids: string[]): AutocannonRequest[] {
  const run = randomUUID().slice(0, 6);
  let n = 0;
  return [
    {
      method: 'POST',
      setupRequest: (request) => {
        const i = n++;
        return {
          ...request,
          path: `/api/contacts/${ids[i % ids.length]}.json`,
          body: JSON.stringify({ contact: { lastname: `L-${run}-${i}` } }),
        };
      },
    },
  ];
}

async function measure(
  api: Child,
  database: string,
  token: string,
  ids: string[],
  label: string,
): Promise<LoadFigures & { cpu: Record<string, number> | null }> {
  const options = {
    url: api.baseUrl,
    connections: CONNECTIONS,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    requests: updateRequests(ids),
  };
  log(`${label}: warm-up ${WARMUP} s (not measured)`);
  await load({ ...options, duration: WARMUP });
  await checkpoint();
  log(`${label}: POST /api/contacts/{id}.json, ${CONNECTIONS} connections, ${DURATION} s`);
  const apiPid = api.process.pid;
  const meter = new CpuMeter(database, () => ({ api: apiPid, load: process.pid }));
  const figures = await load({ ...options, duration: DURATION });
  return { ...figures, cpu: cpuPerOperation(meter.stop(), figures.ok) };
}

/**
 * Updates under contention (every request on one contact: they queue on its lock) and spread
 * over many contacts, with the version check that none was lost.
 */
export async function updateBench(): Promise<Record<string, unknown>> {
  let db: BenchDatabase | null = null;
  let api: Child | null = null;
  try {
    db = await createBenchDatabase('update');
    log(`database ${db.name}`);
    api = await startApi(db.url);
    const token = await issueToken(api, db.url, ['contacts']);
    const [hot] = await seedContacts(api, token, 1);
    const spread = await seedContacts(api, token, DISTINCT_CONTACTS);
    if (!hot) throw new Error('seeding the contended contact failed');
    const busyBefore = await waitForQuiet();

    const contended = await measure(api, db.name, token, [hot], 'one contact');
    const distinct = await measure(api, db.name, token, spread, `${DISTINCT_CONTACTS} contacts`);

    // No lost update: the contended contact's version is 1 + every update that was accepted.
    const pool = new Database({ url: db.url, max: 1 });
    const { rows } = await pool
      .query<{ events: string }>('SELECT count(*) AS events FROM events WHERE stream_id = $1', [hot])
      .finally(() => pool.close());
    const response = await fetch(`${api.baseUrl}/api/contacts/${hot}.json`, { headers: { authorization: `Bearer ${token}` } });
    const { contact } = (await response.json()) as { contact: { version: number } };
    const lost = Number(rows[0]?.events ?? 0) - contact.version;

    console.log(
      table([
        ['update', 'per s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        ['one contact (contended)', contended.rps, contended.p50, contended.p99, contended.non2xx, contended.errors + contended.timeouts],
        [`${DISTINCT_CONTACTS} contacts`, distinct.rps, distinct.p50, distinct.p99, distinct.non2xx, distinct.errors + distinct.timeouts],
      ]),
    );
    console.log(`contended contact: version ${contact.version}, ${rows[0]?.events} events, lost updates: ${lost}`);
    if (contended.cpu && distinct.cpu)
      console.log(`CPU ms per update: contended ${JSON.stringify(contended.cpu)}; spread ${JSON.stringify(distinct.cpu)}`);
    if (contended.non2xx + distinct.non2xx > 0 || lost !== 0) process.exitCode = 1;
    const figures = (f: LoadFigures & { cpu: Record<string, number> | null }): Record<string, unknown> => ({
      rps: f.rps,
      p50: f.p50,
      p99: f.p99,
      total: f.total,
      non2xx: f.non2xx,
      errors: f.errors,
      cpuMs: f.cpu,
    });
    return {
      contended: figures(contended),
      distinct: figures(distinct),
      contendedVersion: contact.version,
      lostUpdates: lost,
      machineBusyBefore: busyBefore,
    };
  } finally {
    await api?.stop();
    await db?.drop();
  }
}
