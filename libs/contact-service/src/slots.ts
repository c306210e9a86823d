import { availableParallelism } from 'node:os';

/**
 * Too much work is waiting already: the caller should come back after `retryAfterSeconds`
 * (an HTTP API answers 503 with Retry-After). Says nothing about the request itself.
 */
export class Busy extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`busy: retry in ${retryAfterSeconds} s`);
    this.name = 'Busy';
  }
}

export interface SlotsOptions {
  /**
   * How much work may wait, in time: a task is refused (Busy) when the ones ahead of it would
   * take longer than this to run, as the slots' recent tasks took.
   */
  maxWaitMs?: number;
  /** How many may wait before any task has finished, so before there is a duration to judge by. */
  maxWaitingUnmeasured?: number;
}

/** Weight of the newest duration in the running mean: recent tasks count most, one outlier little. */
const NEWEST_WEIGHT = 0.2;

/**
 * Runs at most `size` tasks at once; the others wait their turn in arrival order, as many as the
 * slots can run within `maxWaitMs`. Beyond that a task is refused at once with Busy rather than
 * queued: a flood would otherwise wait without bound, holding its requests and memory, and be
 * answered long after its clients gave up.
 */
export class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** mean duration of a task, once one has finished */
  private meanMs: number | undefined;
  private readonly maxWaitMs: number;
  private readonly maxWaitingUnmeasured: number;

  constructor(
    readonly size: number,
    options: SlotsOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slots: size must be a whole number >= 1, got ${size}`);
    this.maxWaitMs = options.maxWaitMs ?? 2000;
    this.maxWaitingUnmeasured = options.maxWaitingUnmeasured ?? 256;
  }

  /** How many tasks may wait now: at least one a slot, so slow tasks on a busy machine still queue a little. */
  get capacity(): number {
    if (this.meanMs === undefined) return this.maxWaitingUnmeasured;
    return Math.max(this.size, Math.floor((this.maxWaitMs * this.size) / Math.max(this.meanMs, 0.1)));
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active++;
    else if (this.waiting.length >= this.capacity) throw new Busy(this.retryAfterSeconds());
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    const startedAt = performance.now();
    try {
      return await task();
    } finally {
      const took = performance.now() - startedAt;
      this.meanMs = this.meanMs === undefined ? took : this.meanMs * (1 - NEWEST_WEIGHT) + took * NEWEST_WEIGHT;
      // Hand the slot straight to the next in line, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  /** When the work waiting now will have run: the time a retry has a fair chance. */
  private retryAfterSeconds(): number {
    const waitMs = ((this.waiting.length + this.active) * (this.meanMs ?? this.maxWaitMs / this.size)) / this.size;
    return Math.max(1, Math.ceil(waitMs / 1000));
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
