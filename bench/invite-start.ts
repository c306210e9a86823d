import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { stagesOf, type Created } from './invite.js';
import { startMailSink, type MailSink } from './mail-sink.js';
import {
  createBenchDatabase,
  freePort,
  HOST,
  log,
  onCleanUp,
  projectRoot,
  redisKeysCleanup,
  round,
  spread,
  table,
  waitForQuiet,
  type BenchDatabase,
  type Spread,
} from './support.js';

/**
 * Invite latency as a user runs the service: `npm start` (API and worker in one process, the log
 * level it ships with), 200 invites sent in bursts of 20, from each 201 to the SMTP server
 * accepting the mail. Once with Postgres and Redis (DATABASE_URL, REDIS_URL), once on the embedded
 * defaults (nothing configured but SMTP_URL and a fresh DATA_DIR).
 */
const INVITES = 200;
const BURST = 20;
const WARMUP_INVITES = 10;
const GOAL_P99_MS = 1_000;
const MAIL_TIMEOUT_MS = 60_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = projectRoot();

export type StartTopology = 'npm start, Redis' | 'npm start, embedded';

export interface StartTopologyFigures {
  topology: StartTopology;
  invites: number;
  latency: Spread | null;
  stages: Record<string, Spread | null> | null;
  missing: number;
  duplicates: number;
  met: boolean;
}

interface Server {
  child: ChildProcess;
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  output(): string;
  stop(): Promise<void>;
}

async function npmStart(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const fullEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', PORT: String(port), HOST, ...env };
  // A process group of its own, so SIGTERM reaches npm, its shell and node as a terminal's Ctrl-C would.
  const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: fullEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (child.pid) process.kill(-child.pid, name);
    } catch {
      // gone already
    }
  };
  const stop = onCleanUp(async () => {
    signal('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]))) signal('SIGKILL');
    // npm exits before its node child: wait for the group, the embedded Postgres included.
    for (let i = 0; i < 100; i++) {
      try {
        if (child.pid) process.kill(-child.pid, 0);
      } catch {
        return;
      }
      await sleep(100);
    }
  });
  const baseUrl = `http://${HOST}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not become healthy:\n${output}`);
    }
    const ok = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(50);
  }
  return { child, baseUrl, env: fullEnv, output: () => output, stop };
}

/** A client through the CLI, as a user makes one; it joins the running server's database. */
async function tokenFor(server: Server): Promise<string> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      'npm',
      ['run', '--silent', 'cli', '--', 'clients:create', '--name', 'bench', '--scopes', 'contacts'],
      {
        cwd: ROOT,
        env: server.env,
      },
      (error, out, err) => (error ? reject(new Error(`clients:create failed: ${err}`)) : resolve(out)),
    ),
  );
  const { client_id, client_secret } = JSON.parse(stdout.trim()) as { client_id: string; client_secret: string };
  const response = await fetch(`${server.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id, client_secret }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`POST /oauth/token answered ${response.status}`);
  return body.access_token;
}

/** Sends the invites `burst` at a time (the next burst when the last one's answers are in); the 201 times by address. */
async function inviteInBursts(server: Server, token: string, emails: string[], burst: number): Promise<Map<string, Created>> {
  const created = new Map<string, Created>();
  for (let i = 0; i < emails.length; i += burst) {
    await Promise.all(
      emails.slice(i, i + burst).map(async (email) => {
        const sentAt = performance.now();
        const response = await fetch(`${server.baseUrl}/api/contacts.json`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ contact: { type: 'user', firstname: 'Ann', lastname: 'Lee', email }, invite: true }),
        });
        const createdAt = performance.now();
        const body = (await response.json()) as { contact?: { id?: string } };
        if (response.status !== 201 || !body.contact?.id) throw new Error(`create answered ${response.status}:\n${server.output()}`);
        created.set(email, { email, contactId: body.contact.id, sentAt, createdAt });
      }),
    );
  }
  return created;
}

async function waitForMail(sink: MailSink, emails: string[]): Promise<string[]> {
  const deadline = Date.now() + MAIL_TIMEOUT_MS;
  let missing = emails;
  while (missing.length > 0 && Date.now() < deadline) {
    await sleep(10);
    missing = missing.filter((e) => !sink.accepted.has(e));
  }
  return missing;
}

async function measure(topology: StartTopology): Promise<StartTopologyFigures> {
  let db: BenchDatabase | null = null;
  let dataDir: string | null = null;
  let server: Server | null = null;
  let sink: MailSink | null = null;
  let dropKeys: (() => Promise<void>) | null = null;
  try {
    sink = await startMailSink();
    dataDir = await mkdtemp(join(tmpdir(), 'bench-invite-start-'));
    await chmod(dataDir, 0o755); // run as root, the embedded Postgres runs as the postgres user
    const env: Record<string, string> = { SMTP_URL: sink.url, DATA_DIR: dataDir };
    if (topology === 'npm start, Redis') {
      db = await createBenchDatabase('invite_start');
      const queuePrefix = `bench_invite_start_${randomUUID().slice(0, 8)}`;
      dropKeys = redisKeysCleanup(REDIS_URL, queuePrefix);
      Object.assign(env, { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: queuePrefix });
    }
    log(`${topology}: starting`);
    server = await npmStart(env);
    const token = await tokenFor(server);
    const run = randomUUID().slice(0, 8);
    const warm = Array.from({ length: WARMUP_INVITES }, (_, i) => `warm-${run}-${i}@example.com`);
    await inviteInBursts(server, token, warm, BURST);
    await waitForMail(sink, warm);
    await waitForQuiet();
    log(`${topology}: ${INVITES} invites in bursts of ${BURST}`);
    const emails = Array.from({ length: INVITES }, (_, i) => `invite-${run}-${i}@example.com`);
    const created = await inviteInBursts(server, token, emails, BURST);
    const missing = await waitForMail(sink, emails);
    await sleep(2_000); // room for a duplicate to arrive
    const latency = spread(
      emails.flatMap((e) => {
        const accepted = sink?.accepted.get(e)?.[0];
        const at = created.get(e)?.createdAt;
        return accepted === undefined || at === undefined ? [] : [accepted - at];
      }),
    );
    // Where the time goes, from the jobs' own timestamps (the Redis topology: its queue store is at hand).
    const stages =
      env.REDIS_URL && env.QUEUE_PREFIX
        ? await stagesOf({ kind: 'redis', url: env.REDIS_URL, prefix: env.QUEUE_PREFIX }, [...created.values()], sink)
        : null;
    const duplicates = emails.filter((e) => (sink?.accepted.get(e)?.length ?? 0) > 1).length;
    return {
      topology,
      invites: INVITES,
      latency,
      stages,
      missing: missing.length,
      duplicates,
      met: latency !== null && missing.length === 0 && latency.p99 <= GOAL_P99_MS,
    };
  } finally {
    await server?.stop();
    await sink?.close();
    await dropKeys?.();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

/** Both `npm start` topologies, printed as a table. */
export async function measureNpmStartTopologies(): Promise<StartTopologyFigures[]> {
  const figures = [await measure('npm start, Redis'), await measure('npm start, embedded')];
  console.log(
    `\ninvite mail through npm start: ${INVITES} invites in bursts of ${BURST}, 201 -> SMTP server accepted the mail\n` +
      table([
        ['topology', 'n', 'p50 ms', 'p99 ms', 'max ms', 'once each', `p99 <= ${GOAL_P99_MS}`],
        ...figures.map((f) => [
          f.topology,
          f.latency?.n ?? 0,
          f.latency?.p50 ?? '-',
          f.latency?.p99 ?? '-',
          f.latency?.max ?? '-',
          f.missing + f.duplicates === 0 ? 'yes' : 'NO',
          f.met ? 'met' : 'NOT met',
        ]),
      ]),
  );
  for (const f of figures) {
    if (f.stages)
      console.log(
        `${f.topology}, where the time went (ms, p50 / p99): ${Object.entries(f.stages)
          .map(([stage, s]) => `${stage} ${s?.p50 ?? '-'} / ${s?.p99 ?? '-'}`)
          .join('; ')}`,
      );
    if (f.missing + f.duplicates > 0) {
      console.log(`FAIL (${f.topology}): ${f.missing} missing, ${f.duplicates} duplicated`);
      process.exitCode = 1;
    }
  }
  return figures.map((f) => ({ ...f, latency: f.latency && { ...f.latency, p50: round(f.latency.p50, 1) } }));
}
