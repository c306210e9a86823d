import { createPostgresBackend, Queue, Worker, type JobsOptions, type Processor, type QueueOptions, type WorkerOptions } from 'bullmq';
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

type RedisConnection = { url: string; maxRetriesPerRequest: null };
type PostgresConnection = { connectionString: string; schema: string; migrate: true; max: number };

/** A queue only adds jobs and reads counts; a worker also fetches, locks and completes them. */
const QUEUE_POOL = 2;
const WORKER_POOL = 4;

/**
 * The connection a queue or worker of this backend opens. On the PostgreSQL backend each queue
 * and worker has a pool of its own (and a LISTEN connection): kept small, or a worker's six of
 * them alone would take 60 of Postgres's 100 default connections.
 */
function connectionOf(backend: QueueBackend, poolSize: number): RedisConnection | PostgresConnection {
  // Workers block on Redis: ioredis must retry forever rather than fail a blocking call (BullMQ's advice).
  if (backend.kind === 'redis') return { url: backend.url, maxRetriesPerRequest: null };
  // The prefix names the schema, so deployments sharing a database keep their queues apart. A
  // schema name takes letters, digits and underscores only (a prefix may hold `-`, `{` and `}`).
  const schema = `bullmq_${backend.prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  return { connectionString: backend.url, schema, migrate: true, max: poolSize };
}

function isPostgres(connection: unknown): connection is PostgresConnection {
  return typeof connection === 'object' && connection !== null && 'connectionString' in connection;
}

/** A queue's options on this backend: the shared configuration of the worker's BullModule too. */
export function queueOptionsOf(backend: QueueBackend, jobOptions: JobsOptions = DEFAULT_JOB_OPTIONS): QueueOptions {
  return { connection: connectionOf(backend, QUEUE_POOL), prefix: backend.prefix, defaultJobOptions: jobOptions };
}

// BullMQ takes its backend as a constructor argument beside the options. Typed, that argument
// fixes the class's backend type parameter; these classes choose it at run time from the
// connection, so it crosses the overloads as `never`.
const backendFor = (connection: unknown): never => (isPostgres(connection) ? createPostgresBackend : undefined) as never;

/**
 * A BullMQ queue on the backend its connection names: a Postgres connection string runs it on
 * BullMQ's PostgreSQL backend, anything else on Redis. @nestjs/bullmq builds queues as
 * `new queueClass(name, options)`, with no backend argument; this class is its `queueClass`.
 */
export class QueueOnStore<T = unknown> extends Queue<T> {
  constructor(name: string, options: QueueOptions) {
    super(name, options, backendFor(options.connection));
  }
}

/**
 * A BullMQ worker on the backend its connection names (see QueueOnStore), with a pool of its own
 * on the PostgreSQL backend. @nestjs/bullmq's explorer builds each `@Processor`'s worker as
 * `new workerClass(name, processor, options)`; this class is its `workerClass`.
 */
export class WorkerOnStore<T = unknown> extends Worker<T> {
  constructor(name: string, processor: Processor<T> | null, options: WorkerOptions) {
    const connection = isPostgres(options.connection) ? { ...options.connection, max: WORKER_POOL } : options.connection;
    super(name, processor, { ...options, connection }, backendFor(connection));
  }
}

export function openQueue<T>(backend: QueueBackend, name: QueueName): Queue<T> {
  return new QueueOnStore<T>(name, queueOptionsOf(backend));
}
