import type { AutocannonRequest } from 'autocannon';
import {
  BARE_READ_SERVER,
  checkpoint,
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
  type BenchDatabase,
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

async function measure(server: Child, headers: Record<string, string>, ids: string[]): Promise<LoadFigures> {
  const options = { url: server.baseUrl, connections: CONNECTIONS, headers, requests: readRequests(ids) };
  log(`${server.name}: warm-up ${WARMUP} s (not measured)`);
  await load({ ...options, duration: WARMUP });
  await checkpoint();
  log(`${server.name}: GET /api/contacts/{id}.json, ${CONNECTIONS} connections, ${DURATION} s`);
  return load({ ...options, duration: DURATION });
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

    bare = startNode('bare fastify+pg', BARE_READ_SERVER, { DATABASE_URL: db.url, PORT: String(await freePort()), HOST });
    await waitForHealth(bare);
    const base = await measure(bare, {}, ids);
    await bare.stop();
    bare = null;

    api = await startApi(db.url);
    const http = await measure(api, { authorization: `Bearer ${token}` }, ids);

    const ratio = round(http.rps / base.rps, 3);
    console.log(
      table([
        ['read (GET contact)', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
        ['bare Fastify + pg', base.rps, base.p50, base.p99, base.non2xx, base.errors + base.timeouts],
        ['API GET /api/contacts/{id}.json', http.rps, http.p50, http.p99, http.non2xx, http.errors + http.timeouts],
      ]),
    );
    console.log(`ratio API/bare = ${ratio} (goal >= ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'})`);
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
    };
  } finally {
    await bare?.stop();
    await api?.stop();
    await db?.drop();
  }
}
