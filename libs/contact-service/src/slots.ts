import { availableParallelism } from 'node:os';

/** Runs at most `size` tasks at once; the others wait their turn in arrival order. */
export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slots: size must be a whole number >= 1, got ${size}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next in line, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * How many bcrypt hashes may run at once: one per core. Hashing is pure CPU, so more in flight
 * than cores hashes no faster; the extra libuv threads only compete with the event loop and
 * Postgres for the same cores (on 2 cores, 4 hashes at once gave reads a higher p50/p99 and a
 * slightly lower hash rate than 2, in `npm run bench -- users`), and they would fill libuv's pool
 * (4 threads), queueing any file or DNS work behind hashes: one thread is always left free.
 */
export const HASH_CONCURRENCY = Math.max(1, Math.min(availableParallelism(), libuvThreads() - 1));

/** libuv's pool: 4 threads unless UV_THREADPOOL_SIZE says otherwise. One is left for fs and DNS. */
function libuvThreads(): number {
  const size = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}
