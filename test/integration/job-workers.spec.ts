import { Module, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule } from '@nestjs/bullmq';
import type { Job, Processor, QueueOptions, WorkerOptions } from 'bullmq';
import { openQueue, QUEUE_NAMES, queueOptionsOf, QueueOnStore, WorkerOnStore, type QueueBackend, type QueueName } from '@app/queues';
import { QueueWorker, withSettings, type JobHandlers, type QueueSettings } from '../../apps/worker/src/jobs.js';
import { until } from '../support/polling.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type EveryHandler = { [Q in QueueName]: JobHandlers<Q> };

/** Queues and workers opened by an application that then failed to start: nothing else can close them. */
const opened: { close(): Promise<void> }[] = [];
class TrackedQueue extends QueueOnStore {
  constructor(name: string, options: QueueOptions) {
    super(name, options);
    opened.push(this);
  }
}
class TrackedWorker extends WorkerOnStore {
  constructor(name: string, processor: Processor | null, options: WorkerOptions) {
    super(name, processor, options);
    opened.push(this);
  }
}

/** The worker's queues with a processor for each, built from these handlers, in an application of their own. */
async function startJobWorkers(backend: QueueBackend, handlers: EveryHandler, settings: QueueSettings): Promise<INestApplicationContext> {
  BullModule.queueClass = TrackedQueue;
  BullModule.workerClass = TrackedWorker;
  const processorOf = <Q extends QueueName>(queue: Q): Type<QueueWorker<Q>> =>
    class extends QueueWorker<Q> {
      constructor() {
        super(queue, handlers[queue]);
      }
    };
  @Module({
    imports: [BullModule.forRoot(queueOptionsOf(backend)), BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name })))],
    providers: QUEUE_NAMES.map((queue) => withSettings(processorOf(queue), queue, settings)),
  })
  class JobWorkersModule {}
  try {
    const app = await NestFactory.createApplicationContext(JobWorkersModule, { logger: false, abortOnError: false });
    opened.splice(0);
    return app;
  } catch (error) {
    await Promise.all(opened.splice(0).map((opening) => opening.close()));
    throw error;
  }
}

describe(QueueWorker.name, () => {
  const backend: QueueBackend = { kind: 'redis', url: REDIS_URL, prefix: `test-job-workers-${process.pid}` };
  const settings: QueueSettings = { concurrency: 1, lockDurationMs: 30_000 };
  const done = (): Promise<string> => Promise.resolve('done');
  const everyHandler = (): EveryHandler => ({
    invites: { 'send-invite': done, 'sweep-unsent-invites': done },
    roles: { 'expire-role': done, 'sweep-expired': done },
    maintenance: { 'forget-idempotency-keys': done },
  });

  afterAll(async () => {
    for (const name of QUEUE_NAMES) {
      const queue = openQueue(backend, name);
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('refuses to start when a job of a queue has no handler, naming the job', async () => {
    const handlers = everyHandler();
    delete (handlers.roles as Partial<JobHandlers<'roles'>>)['sweep-expired'];

    await expect(startJobWorkers(backend, handlers, settings)).rejects.toThrow('job roles/sweep-expired has no handler');
  });

  it('runs each job by its handler, and fails a job of an unknown name instead of completing it', async () => {
    const handled: string[] = [];
    const handlers = everyHandler();
    handlers.maintenance['forget-idempotency-keys'] = (job: Job) => {
      handled.push(job.name);
      return Promise.resolve('forgotten');
    };
    const workers = await startJobWorkers(backend, handlers, settings);
    const queue = openQueue(backend, 'maintenance');
    try {
      const known = await queue.add('forget-idempotency-keys', {}, { attempts: 1 });
      const unknown = await queue.add('no-such-job', {}, { attempts: 1 });

      await until(
        async () =>
          ['completed', 'failed'].includes(await queue.getJobState(unknown.id ?? '')) &&
          (await queue.getJobState(known.id ?? '')) === 'completed',
        10_000,
      );

      expect(handled).toEqual(['forget-idempotency-keys']);
      expect((await queue.getJob(known.id ?? ''))?.returnvalue).toBe('forgotten');
      expect(await queue.getJobState(unknown.id ?? '')).toBe('failed');
      expect((await queue.getJob(unknown.id ?? ''))?.failedReason).toBe('job maintenance/no-such-job has no handler');
    } finally {
      await workers.close();
      await queue.close();
    }
  });
});
