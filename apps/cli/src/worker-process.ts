import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The worker's entry, beside this app's in the build (a process, not an import). */
const WORKER_MAIN = fileURLToPath(new URL('../../worker/src/main.js', import.meta.url));
/** How long a stopping worker may take to finish its active jobs before it is killed. */
const STOP_GRACE_MS = 30_000;

export interface WorkerProcess {
  /** settles when the worker has started (its queues and dispatcher run), or rejects if it exits first */
  ready: Promise<void>;
  /** asks it to stop (it finishes its active jobs), and waits until it has exited */
  close(): Promise<void>;
}

/**
 * `npm start`'s worker, in a process of its own beside the API: the two then use both cores
 * instead of sharing one event loop (a burst of creates no longer holds up the mail of the invites
 * it made). It runs on the same database; it stops when told, on a signal to the process group,
 * or when this process is gone.
 */
export function forkWorker(databaseUrl: string): WorkerProcess {
  const child = fork(WORKER_MAIN, [], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message) => message === 'ready' && resolve());
    child.once('exit', (code, signal) => reject(new Error(`the worker exited (${code ?? signal}) before it had started`)));
  });
  // A start that fails elsewhere may never look at `ready`: its rejection is not an unhandled one.
  ready.catch(() => undefined);
  return {
    ready,
    async close() {
      if (!running()) return;
      if (child.connected) child.send('stop');
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
