import { createPostgresBackend, Queue, Worker, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { AppConfig } from '@app/config';
import type { QueueName } from './queue.names.js';

/**
 * Where BullMQ keeps its jobs (DESIGN §4): Redis when REDIS_URL is set, otherwise BullMQ's
 * PostgreSQL backend in the service's own database, in a schema of its own. Both run the same
 * queue code.
 */
export type QueueBackend = { kind: 'redis'; url: string; prefix: string } | { kind: 'postgres'; url: string; prefix: string };

export function queueBackendOf(config: AppConfig): QueueBackend {
  return config.REDIS_URL
    ? { kind: 'redis', url: config.REDIS_URL, prefix: config.QUEUE_PREFIX }
    : { kind: 'postgres', url: config.DATABASE_URL, prefix: config.QUEUE_PREFIX };
}

/** Retried with backoff (1 s, 2 s, 4 s … about 17 minutes in all); kept a day when done and a week when failed. */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * The connection a queue or worker of this backend opens. On the PostgreSQL backend each queue
 * and worker has a pool of its own (and a LISTEN connection): kept small, or a worker's six of
 * them alone would take 60 of Postgres's 100 default connections.
 */
function connectionOf(
  backend: QueueBackend,
  poolSize: number,
): { url: string; maxRetriesPerRequest: null } | { connectionString: string; schema: string; migrate: true; max: number } {
  // Workers block on Redis: ioredis must retry forever rather than fail a blocking call (BullMQ's advice).
  if (backend.kind === 'redis') return { url: backend.url, maxRetriesPerRequest: null };
  // The prefix names the schema, so deployments sharing a database keep their queues apart. A
  // schema name takes letters, digits and underscores only (a prefix may hold `-`, `{` and `}`).
  const schema = `bullmq_${backend.prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  return { connectionString: backend.url, schema, migrate: true, max: poolSize };
}

export function openQueue<T>(backend: QueueBackend, name: QueueName): Queue<T> {
  // A queue only adds jobs and reads counts.
  const options = { connection: connectionOf(backend, 2), prefix: backend.prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  if (backend.kind === 'redis') return new Queue<T>(name, options);
  return new Queue(name, options, createPostgresBackend) as unknown as Queue<T>;
}

export function openWorker<T>(
  backend: QueueBackend,
  name: QueueName,
  processor: Processor<T>,
  options: Omit<WorkerOptions, 'connection' | 'prefix'> = {},
): Worker<T> {
  const all = { ...options, connection: connectionOf(backend, 4), prefix: backend.prefix };
  if (backend.kind === 'redis') return new Worker<T>(name, processor, all);
  return new Worker(name, processor as Processor, all, createPostgresBackend) as unknown as Worker<T>;
}
