import type { AutocannonRequest } from 'autocannon';
import {
  BARE_READ_SERVER,
  checkpoint,
  cpuPerOperation,
  CpuMeter,
  createBenchDatabase,
  freePort,
  HOST,
  inPool,
  issueToken,
  load,
  log,
  round,
  startApi,
  startNode,
  table,
  waitForHealth,
  waitForQuiet,
  type BenchDatabase,
  type CpuFigures,
  type Child,
  type LoadFigures,
} from './support.js';

const DURATION = 10;
const WARMUP = 2;
const CONNECTIONS = 32;
const CONTACTS = 1000;
const GOAL = 0.5;

/** A guest as a shop would send it: names, company, an address and a few tags. */
export function richGuest(n: number): Record<string, unknown> {
  return {
    contact: {
      type: 'guest',
      firstname: 'Grace',
      lastname: `Hopper ${n}`,
      email: `grace.hopper.${n}@example.com`,
      company: 'Harbour Supplies Ltd',
      address: { line1: `${n} Quay Street`, line2: 'Unit 4', city: 'Bristol', region: 'Avon', countryCode: 'GB', zip: 'BS1 4DJ' },
      tags: { contact: ['wholesale', 'newsletter', `batch-${n % 10}`] },
    },
  };
}

/** Creates `count` contacts through the API; returns their ids. */
export async function seedContacts(api: Child, token: string, count: number): Promise<string[]> {
  const numbers = Array.from({ length: count }, (_, i) => i);
  return inPool(numbers, 16, async (n) => {
    const response = await fetch(`${api.baseUrl}/api/contacts.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(richGuest(n)),
    });
    const body = (await response.json()) as { contact?: { id?: string } };
    if (response.status !== 201 || !body.contact?.id) throw new Error(`seeding contact ${n}: ${response.status} ${JSON.stringify(body)}`);
    return body.contact.id;
  });
}

/** Cycles every connection through `ids`. */
export function readRequests(ids: string[]): AutocannonRequest[] {
  let n = 0;
  return [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/api/contacts/${ids[n++ % ids.length]}.json` }) }];
}

/** One read, to check a server answers 200 with the contact before it is loaded. */
async function readOne(server: Child, headers: Record<string, string>, id: string): Promise<unknown> {
  const response = await fetch(`${server.baseUrl}/api/contacts/${id}.json`, { headers });
  const body: unknown = await response.json();
  if (response.status !== 200) throw new Error(`${server.name}: GET contact answered ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function measure(
  server: Child,
  database: string,
  headers: Record<string, string>,
  ids: string[],
): Promise<LoadFigures & { cpu: CpuFigures | null }> {
  const options = { url: server.baseUrl, connections: CONNECTIONS, headers, requests: readRequests(ids) };
  log(`${server.name}: warm-up ${WARMUP} s (not measured)`);
  await load({ ...options, duration: WARMUP });
  await checkpoint();
  log(`${server.name}: GET /api/contacts/{id}.json, ${CONNECTIONS} connections, ${DURATION} s`);
  const pid = server.process.pid;
  const meter = new CpuMeter(database, () => ({ server: pid, load: process.pid }));
  const figures = await load({ ...options, duration: DURATION });
  return { ...figures, cpu: meter.stop() };
}

export async function readBench(): Promise<Record<string, unknown>> {
  let db: BenchDatabase | null = null;
  let api: Child | null = null;
  let bare: Child | null = null;
  try {
    db = await createBenchDatabase('read');
    log(`database ${db.name}`);
    api = await startApi(db.url);
    const token = await issueToken(api, db.url, ['contacts']);
    log(`creating ${CONTACTS} contacts through the API`);
    const ids = await seedContacts(api, token, CONTACTS);
    await api.stop();
    api = null;

    const busyBefore = await waitForQuiet();
    bare = startNode('bare fastify+pg', BARE_READ_SERVER, { DATABASE_URL: db.url, PORT: String(await freePort()), HOST });
    await waitForHealth(bare);
    const bareBody = JSON.stringify(await readOne(bare, {}, ids[0]!));
    const base = await measure(bare, db.name, {}, ids);
    await bare.stop();
    bare = null;

    api = await startApi(db.url);
    const apiBody = JSON.stringify(await readOne(api, { authorization: `Bearer ${token}` }, ids[0]!));
    if (apiBody !== bareBody) throw new Error(`the bare server and the API return different bodies:\n${bareBody}\n${apiBody}`);
    const http = await measure(api, db.name, { authorization: `Bearer ${token}` }, ids);

    const ratio = round(http.rps / base.rps, 3);
    console.log(
      table([
        ['read (GET contact)', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        ['bare Fastify + pg', base.rps, base.p50, base.p99, base.non2xx, base.errors + base.timeouts],
        ['API GET /api/contacts/{id}.json', http.rps, http.p50, http.p99, http.non2xx, http.errors + http.timeouts],
      ]),
    );
    console.log(`ratio API/bare = ${ratio} (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})`);
    const baseCpu = cpuPerOperation(base.cpu, base.ok);
    const apiCpu = cpuPerOperation(http.cpu, http.ok);
    if (baseCpu && apiCpu) {
      console.log(`CPU ms per read: bare ${JSON.stringify(baseCpu)}; API ${JSON.stringify(apiCpu)}`);
      console.log(
        `CPU s used by other work on the machine: ${base.cpu?.other} of ${base.cpu?.capacity} (bare run), ${http.cpu?.other} of ${http.cpu?.capacity} (API run)`,
      );
    }
    const failed = base.non2xx + base.errors + http.non2xx + http.errors;
    if (failed > 0) {
      console.log(`FAIL: non-2xx or errors (bare ${JSON.stringify(base.statusCodes)}, API ${JSON.stringify(http.statusCodes)})`);
      process.exitCode = 1;
    }
    return {
      contacts: ids.length,
      bare: { rps: base.rps, p50: base.p50, p99: base.p99, non2xx: base.non2xx, errors: base.errors },
      api: { rps: http.rps, p50: http.p50, p99: http.p99, non2xx: http.non2xx, errors: http.errors },
      ratio,
      goal: GOAL,
      met: ratio >= GOAL && failed === 0,
      cpuMsPerRead: { bare: baseCpu, api: apiCpu },
      otherCpuSeconds: { bare: base.cpu?.other ?? null, api: http.cpu?.other ?? null },
      machineBusyBefore: busyBefore,
    };
  } finally {
    await bare?.stop();
    await api?.stop();
    await db?.drop();
  }
}
