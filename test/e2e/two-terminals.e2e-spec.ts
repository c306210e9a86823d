import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../support/dist-processes.js';
import { createTestDatabase, forgetQueuePrefix, REDIS_URL, testQueuePrefix, type TestDatabase } from '../support/test-database.js';

/**
 * A newcomer's two terminals: `npm start` in one, `npm run cli -- …` in the other (the README
 * invites it). Every npm script builds first; a build must never take away the tree a running
 * process loads, and two commands at once must not break each other.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOST = '127.0.0.1';

let database: TestDatabase;
let prefix: string;
let server: ChildProcess;
let baseUrl: string;
let serverOutput = '';

function env(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'warn',
  };
}

function npmCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'cli', '--', ...args], { cwd: ROOT, env: env(), timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  database = await createTestDatabase('twoterminals');
  prefix = testQueuePrefix('twoterminals');
  const port = await freePort(HOST);
  baseUrl = `http://${HOST}:${port}`;
  server = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    env: { ...env(), PORT: String(port), HOST },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  server.stderr?.on('data', (chunk: Buffer) => (serverOutput += chunk.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`npm start did not become healthy:\n${serverOutput}`);
    const ready = await fetch(`${baseUrl}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await sleep(100);
  }
}, 90_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    process.kill(-server.pid, 'SIGTERM');
    const timeout = new AbortController();
    await Promise.race([exited, sleep(20_000, undefined, { signal: timeout.signal }).catch(() => undefined)]);
    timeout.abort();
    if (server.exitCode === null) process.kill(-server.pid, 'SIGKILL');
  }
  server?.stdout?.destroy();
  server?.stderr?.destroy();
  await forgetQueuePrefix(REDIS_URL, prefix);
  await database?.drop();
}, 40_000);

describe('npm run cli during npm start', () => {
  it('runs two commands at once, both succeed, and the server keeps serving throughout', async () => {
    const refusals: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const status = await fetch(`${baseUrl}/health`).then(
          (r) => String(r.status),
          (error: Error) => error.message,
        );
        if (status !== '200') refusals.push(status);
        await sleep(50);
      }
    })();

    const [first, second] = await Promise.all([
      npmCli('clients:create', '--name', 'first', '--scopes', 'contacts'),
      npmCli('clients:create', '--name', 'second', '--scopes', 'contacts'),
    ]);
    polling = false;
    await poller;

    for (const run of [first, second]) {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(run.stdout.trim())).toEqual(
        expect.objectContaining({ client_id: expect.any(String), client_secret: expect.any(String), scopes: ['contacts'] }),
      );
    }
    expect(refusals).toEqual([]);

    // The clients the commands made work against the server that ran all along.
    const { client_id, client_secret } = JSON.parse(first.stdout.trim()) as { client_id: string; client_secret: string };
    const token = await fetch(`${baseUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id, client_secret }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const created = await fetch(`${baseUrl}/api/contacts.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
      body: JSON.stringify({ contact: { type: 'guest', firstname: 'Ada', lastname: 'Lovelace', email: 'ada@example.com' } }),
    });
    expect(created.status).toBe(201);
  }, 90_000);
});
