import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { freePort } from '../support/dist-processes.js';

/**
 * DESIGN §4 "Embedded defaults": the built service (npm test builds first) on a machine where
 * nothing is configured. The processes get no DATABASE_URL, REDIS_URL or SMTP_URL (CI sets the
 * first two for the other tests), a DATA_DIR of their own and a free port.
 */
const CLI_MAIN = fileURLToPath(new URL('../../dist/apps/cli/src/main.js', import.meta.url));
const API_MAIN = fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../dist/apps/worker/src/main.js', import.meta.url));
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;

/** Every server a test started, so none outlives the file whatever fails. */
const servers: ChildProcess[] = [];

/** Nothing configured but where the data goes: no DATABASE_URL, REDIS_URL or SMTP_URL. */
function freshEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, DATA_DIR: dataDir, ...extra };
}

interface Server {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` without the build: `node dist/apps/cli/src/main.js start`, ready when /health answers 200. */
async function startServer(dataDir: string, port: number): Promise<Server> {
  const child = spawn(process.execPath, [CLI_MAIN, 'start'], {
    env: freshEnv(dataDir, { PORT: String(port), HOST, BCRYPT_COST: '4', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  servers.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const baseUrl = `http://${HOST}:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become healthy:\n${output}`);
    }
    const ready = await fetch(`${baseUrl}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready && child.exitCode === null) break;
    await sleep(100);
  }
  return { child, baseUrl, output: () => output, exited };
}

async function stopServer(
  server: Server,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
  server.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([server.exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 20_000)))]);
  clearTimeout(timer);
  return exit;
}

/** `npm run cli -- <args>` against DATA_DIR; resolves with its exit code and output. */
function cli(dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return node(CLI_MAIN, dataDir, ...args);
}

function node(main: string, dataDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main, ...args], { env: freshEnv(dataDir) }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The Postgres processes serving `cluster` (a zombie waiting for init to reap it is not one). */
function postgresProcessesOn(cluster: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
      if (!zombie && args.some((arg) => arg.endsWith('/postgres')) && args.includes(cluster)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

async function tokenFor(baseUrl: string, client: { client_id: string; client_secret: string }): Promise<string> {
  const response = await fetch(`${baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', ...client }),
  });
  expect(response.status).toBe(200);
  return (await json<{ access_token: string }>(response)).access_token;
}

/** The ATOM date `ms` from now, whole seconds (rounded up: never in the past). */
function atomIn(ms: number): string {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

async function eventTypes(baseUrl: string, token: string, contactId: string): Promise<string[]> {
  const response = await fetch(`${baseUrl}/api/contacts/${contactId}/events.json`, { headers: { authorization: `Bearer ${token}` } });
  return (await json<{ events: { type: string; data: { reason?: string } }[] }>(response)).events.map((e) =>
    e.data.reason ? `${e.type}:${e.data.reason}` : e.type,
  );
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('a fresh machine: npm start with nothing configured', () => {
  let dataDir: string;
  let cluster: string;
  let port: number;
  let server: Server;
  const created: { contactId?: string; token?: string } = {};

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'contacts-fresh-'));
    // Run as root (CI), Postgres runs as the `postgres` user, who must be able to enter DATA_DIR.
    await chmod(dataDir, 0o755);
    cluster = join(dataDir, 'postgres');
    port = await freePort();
  });

  afterAll(async () => {
    for (const child of servers) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of postgresProcessesOn(cluster)) process.kill(pid, 'SIGQUIT');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('comes up healthy on an embedded Postgres and runs the whole job: create, invite mail in the outbox, expiry; SIGTERM stops it and its Postgres', async () => {
    server = await startServer(dataDir, port);
    const { baseUrl } = server;

    // One line says where each part runs, without the embedded Postgres's password.
    const password = (JSON.parse(await readFile(join(dataDir, 'postgres.json'), 'utf8')) as { password: string }).password;
    expect(server.output()).toMatch(
      new RegExp(
        `database: embedded Postgres 18 on 127\\.0\\.0\\.1:\\d+, data in ${cluster}; queues: BullMQ's PostgreSQL backend in the same database \\(no REDIS_URL\\); mail: the outbox folder ${dataDir}/outbox \\(no SMTP_URL\\)`,
      ),
    );
    expect(server.output()).not.toContain(password);
    expect(await json(await fetch(`${baseUrl}/health`))).toEqual({
      status: 'ok',
      checks: { postgres: { status: 'up' }, log: { status: 'up' }, queue: { status: 'up', backend: 'postgres' } },
    });

    // The CLI finds the server's embedded Postgres through DATA_DIR and uses it.
    const made = await cli(dataDir, 'clients:create', '--name', 'newcomer', '--scopes', 'contacts,roles,audit');
    expect(made).toMatchObject({ code: 0, stderr: '' });
    const client = JSON.parse(made.stdout) as { client_id: string; client_secret: string };
    const role = await cli(dataDir, 'roles:create', '--reference', 'trial', '--title', 'Trial', '--approval', 'none');
    expect(role.code).toBe(0);
    const token = await tokenFor(baseUrl, client);

    const expires = atomIn(2_000);
    const response = await fetch(`${baseUrl}/api/contacts.json`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        contact: {
          type: 'user',
          firstname: 'Ada',
          lastname: 'Lovelace',
          email: 'ada@example.com',
          accessRoles: [{ reference: 'trial', expires, status: 'active' }],
        },
        invite: true,
      }),
    });
    expect(response.status).toBe(201);
    const { contact } = await json<{ contact: { id: string; accessRoles: unknown[] } }>(response);
    expect(contact.accessRoles).toEqual([{ reference: 'trial', status: 'active', expires }]);
    Object.assign(created, { contactId: contact.id, token });

    const mail = await until('the invite in the outbox', async () => {
      const files = existsSync(join(dataDir, 'outbox')) ? (await readdir(join(dataDir, 'outbox'))).filter((f) => f.endsWith('.eml')) : [];
      return files.length > 0 ? simpleParser(await readFile(join(dataDir, 'outbox', files[0] ?? ''))) : null;
    });
    expect(Array.isArray(mail.to) ? mail.to[0]?.text : mail.to?.text).toBe('ada@example.com');
    expect(mail.text).toContain(`http://localhost:${port}/invites/`);
    await until('the grant revoked on expiry', async () => (await eventTypes(baseUrl, token, contact.id)).includes('RoleRevoked:expired'));
    expect(await eventTypes(baseUrl, token, contact.id)).toEqual([
      'ContactCreated',
      'RoleGranted',
      'InviteIssued',
      'InviteSent',
      'RoleRevoked:expired',
    ]);

    const exit = await stopServer(server);

    expect(exit).toEqual({ code: 0, signal: null });
    expect(postgresProcessesOn(cluster)).toEqual([]);
    expect(existsSync(join(cluster, 'postmaster.pid'))).toBe(false);
    expect(existsSync(join(dataDir, 'postgres.lock'))).toBe(false);
  }, 90_000);

  it('starts again on the same data, and after a kill -9 recovers the Postgres left running, with nothing lost', async () => {
    const { contactId, token } = created;
    if (!contactId || !token) throw new Error('the first test did not create its contact');

    server = await startServer(dataDir, port);
    expect(server.output()).not.toContain('initialising');
    expect(
      (await fetch(`${server.baseUrl}/api/contacts/${contactId}.json`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
    const before = postgresProcessesOn(cluster);
    expect(before).not.toEqual([]);

    await stopServer(server, 'SIGKILL');
    // The Postgres of a process killed outright keeps running; the next start takes over.
    expect(postgresProcessesOn(cluster)).toEqual(before);
    server = await startServer(dataDir, port);

    expect(server.output()).toContain('postgres.lock is stale');
    expect(server.output()).toContain('left running on');
    expect(await eventTypes(server.baseUrl, token, contactId)).toEqual([
      'ContactCreated',
      'RoleGranted',
      'InviteIssued',
      'InviteSent',
      'RoleRevoked:expired',
    ]);
    const verify = await cli(dataDir, 'verify');
    expect(verify).toMatchObject({ code: 0, stdout: 'verify: 5 events in 1 streams, every chain intact\n' });
    expect(await stopServer(server)).toEqual({ code: 0, signal: null });
    expect(postgresProcessesOn(cluster)).toEqual([]);
  }, 90_000);
});

describe('CLI commands on a fresh DATA_DIR with no server running', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'contacts-fresh-cli-'));
    await chmod(dataDir, 0o755);
  });

  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('start an embedded Postgres for themselves and stop it after; three at once make one cluster and take turns', async () => {
    const runs = await Promise.all([cli(dataDir, 'migrate'), cli(dataDir, 'migrate'), cli(dataDir, 'migrate')]);

    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs.filter((r) => r.stdout.startsWith('applied: '))).toHaveLength(1);
    expect(runs.filter((r) => r.stdout === 'schema is up to date\n')).toHaveLength(2);
    expect(runs.filter((r) => r.stderr.includes('initialising a new Postgres cluster'))).toHaveLength(1);
    expect(postgresProcessesOn(join(dataDir, 'postgres'))).toEqual([]);
    expect(existsSync(join(dataDir, 'postgres.lock'))).toBe(false);

    const made = await cli(dataDir, 'clients:create', '--name', 'offline', '--scopes', 'contacts');
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ scopes: ['contacts'] });
    expect(made.stderr).toMatch(/^database: embedded Postgres 18 on 127\.0\.0\.1:\d+, data in .+ \(started for this command\)\n$/);
    expect(postgresProcessesOn(join(dataDir, 'postgres'))).toEqual([]);
  }, 60_000);
});

describe('the API or the worker on its own, with nothing configured', () => {
  it.each([
    ['the API', API_MAIN, 'the API on its own (npm run start:api)'],
    ['the worker', WORKER_MAIN, 'the worker on its own (npm run start:worker)'],
  ])("%s refuses in one line naming DATABASE_URL: the embedded Postgres is npm start's", async (_name, main, what) => {
    const dataDir = join(tmpdir(), 'contacts-never-made');

    const run = await node(main, dataDir);

    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `configuration: DATABASE_URL is required to run ${what}; without it, npm start runs the API and the worker together on an embedded Postgres under DATA_DIR\n`,
    });
    expect(existsSync(dataDir)).toBe(false);
  });
});
