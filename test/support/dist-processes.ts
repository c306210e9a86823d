import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built processes (npm test builds first): real processes, so a test can signal or kill them. */
export const DIST_MAIN = {
  api: fileURLToPath(new URL('../../dist/apps/api/src/main.js', import.meta.url)),
  worker: fileURLToPath(new URL('../../dist/apps/worker/src/main.js', import.meta.url)),
} as const;

/** A TCP port nothing listens on right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface DistProcess {
  name: string;
  child: ChildProcess;
  /** everything it printed so far, stdout and stderr */
  output(): string;
  /** settles when it exits, with its code or the signal that ended it */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs` */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node dist/apps/<kind>/src/main.js` with exactly `env` (and PATH): nothing of the test
 * runner's environment (NODE_OPTIONS, DATABASE_URL …) leaks in.
 */
export function startDist(name: string, kind: keyof typeof DIST_MAIN, env: Record<string, string>): DistProcess {
  const main = DIST_MAIN[kind];
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build (npm test does)`);
  const child = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    output: () => output,
    exited,
    get running() {
      return running();
    },
    async stop(graceMs = 10_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (late && running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Waits until `GET <baseUrl>/health` answers 200; fails early, with its output, if the process exits. */
export async function waitUntilHealthy(baseUrl: string, proc: DistProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${baseUrl}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return;
    if (!proc.running) throw new Error(`${proc.name} exited before it was healthy:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} was not healthy within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
