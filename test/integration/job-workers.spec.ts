import type { Job } from 'bullmq';
import { openQueue, QUEUE_NAMES, type QueueBackend, type QueueName } from '@app/queues';
import { startJobWorkers, type JobHandlers, type QueueSettings } from '../../apps/worker/src/jobs.js';
import { until } from '../support/polling.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe(startJobWorkers.name, () => {
  const backend: QueueBackend = { kind: 'redis', url: REDIS_URL, prefix: `test-job-workers-${process.pid}` };
  const settings = Object.fromEntries(QUEUE_NAMES.map((q) => [q, { concurrency: 1, lockDurationMs: 30_000 }])) as Record<
    QueueName,
    QueueSettings
  >;
  const done = (): Promise<string> => Promise.resolve('done');
  const everyHandler = (): JobHandlers => ({
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

  it('refuses to start when a job of a queue has no handler, naming the job', () => {
    const handlers = everyHandler();
    delete (handlers.roles as Partial<JobHandlers['roles']>)['sweep-expired'];

    expect(() => startJobWorkers(backend, handlers, settings)).toThrow('job roles/sweep-expired has no handler');
  });

  it('runs each job by its handler, and fails a job of an unknown name instead of completing it', async () => {
    const handled: string[] = [];
    const handlers = everyHandler();
    handlers.maintenance['forget-idempotency-keys'] = (job: Job) => {
      handled.push(job.name);
      return Promise.resolve('forgotten');
    };
    const workers = startJobWorkers(backend, handlers, settings);
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
      await Promise.all(workers.map((w) => w.close()));
      await queue.close();
    }
  });
});
