import { performance } from 'node:perf_hooks';
import { ClientStore } from '@app/auth';
import { Database } from '@app/database';
import {
  createBenchDatabase,
  inPool,
  issueToken,
  log,
  spread,
  startApi,
  table,
  waitForQuiet,
  type BenchDatabase,
  type Child,
  type Spread,
} from './support.js';

const EVENTS = 1000;
const WARMUP = 20;
const SAMPLES = 300;
const GOAL_P99_MS = 300;

/** One contact with `EVENTS` events: a create, then updates that change a name or the tags. */
async function seedHistory(api: Child, token: string): Promise<string> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const created = await fetch(`${api.baseUrl}/api/contacts.json`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ contact: { type: 'guest', firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com' } }),
  });
  const body = (await created.json()) as { contact?: { id?: string; version?: number } };
  const id = body.contact?.id;
  if (created.status !== 201 || !id) throw new Error(`creating the contact: ${created.status} ${JSON.stringify(body)}`);
  let version = body.contact?.version ?? 1;
  while (version < EVENTS) {
    const n = version;
    const patch = n % 2 === 0 ? { lastname: `Lovelace ${n}` } : { tags: { contact: [`batch-${n}`] } };
    const response = await fetch(`${api.baseUrl}/api/contacts/${id}.json`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ contact: patch }),
    });
    const updated = (await response.json()) as { contact?: { version?: number } };
    if (response.status !== 200 || updated.contact?.version === undefined) throw new Error(`update ${n}: ${response.status}`);
    version = updated.contact.version;
    if (version % 200 === 0) log(`${version} events`);
  }
  return id;
}

/** Signs an audit client in through the console's own form; the cookies a browser would then send. */
async function signIn(api: Child, databaseUrl: string): Promise<string> {
  const db = new Database({ url: databaseUrl, max: 1, applicationName: 'contacts-bench' });
  let client;
  try {
    client = await new ClientStore(db).create('bench auditor', ['audit']);
  } finally {
    await db.close();
  }
  const form = await fetch(`${api.baseUrl}/console/sign-in`);
  const csrfCookie = form.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const response = await fetch(`${api.baseUrl}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: csrfCookie.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, clientId: client.client_id, clientSecret: client.client_secret }).toString(),
  });
  if (response.status !== 303) throw new Error(`console sign-in answered ${response.status}`);
  return [...csrfCookie, ...response.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
}

/** Requests the page one at a time, as one person paging through it; latency to the last byte. */
async function measure(api: Child, cookie: string, path: string, expect: string): Promise<Spread & { bytes: number }> {
  let bytes = 0;
  const once = async (): Promise<number> => {
    const started = performance.now();
    const response = await fetch(`${api.baseUrl}${path}`, { headers: { cookie }, redirect: 'manual' });
    const html = await response.text();
    const ms = performance.now() - started;
    if (response.status !== 200 || !html.includes(expect)) throw new Error(`${path} answered ${response.status} without "${expect}"`);
    bytes = html.length;
    return ms;
  };
  await inPool(Array.from({ length: WARMUP }), 1, once);
  const latencies = await inPool(Array.from({ length: SAMPLES }), 1, once);
  const figures = spread(latencies);
  if (!figures) throw new Error('no samples');
  return { ...figures, bytes };
}

export async function consoleBench(): Promise<Record<string, unknown>> {
  let db: BenchDatabase | null = null;
  let api: Child | null = null;
  try {
    db = await createBenchDatabase('console');
    log(`database ${db.name}`);
    api = await startApi(db.url);
    const token = await issueToken(api, db.url, ['contacts']);
    log(`one contact with ${EVENTS} events, through the API`);
    const id = await seedHistory(api, token);
    const cookie = await signIn(api, db.url);

    const busyBefore = await waitForQuiet();
    const pages = {
      newest: await measure(api, cookie, `/console/contacts/${id}`, 'Chain verified'),
      oldest: await measure(api, cookie, `/console/contacts/${id}?page=${Math.ceil(EVENTS / 50)}`, 'ContactCreated'),
      asOf: await measure(api, cookie, `/console/contacts/${id}?asOf=${new Date().toISOString().slice(0, 19)}`, 'As of'),
    };
    log(
      `each: ${WARMUP} requests of warm-up (not measured), then ${SAMPLES} sequential GETs on one connection from this process, ` +
        'latency from sending the request to the last byte of the page; the API is the real dist build on its own database',
    );
    console.log(
      table([
        [`console contact page (${EVENTS} events)`, 'n', 'p50 ms', 'p99 ms', 'max ms', 'KiB'],
        ...Object.entries(pages).map(([name, s]) => [name, s.n, s.p50, s.p99, s.max, Math.round(s.bytes / 1024)]),
      ]),
    );
    const worst = Math.max(...Object.values(pages).map((s) => s.p99));
    const met = worst < GOAL_P99_MS;
    console.log(`worst p99 = ${worst} ms (goal < ${GOAL_P99_MS} ms: ${met ? 'met' : 'NOT met'})`);
    if (!met) process.exitCode = 1;
    return { events: EVENTS, samples: SAMPLES, pages, goalP99Ms: GOAL_P99_MS, met, machineBusyBefore: busyBefore };
  } finally {
    await api?.stop();
    await db?.drop();
  }
}
