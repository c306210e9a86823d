import type { Job, Worker } from 'bullmq';
import { openWorker, QUEUES, type JobName, type QueueBackend, type QueueName } from '@app/queues';

/** A handler for every job of every queue: the type makes a missing one a compile error. */
export type JobHandlers = { [Q in QueueName]: { [J in JobName<Q>]: (job: Job, token?: string) => Promise<unknown> } };

export interface QueueSettings {
  concurrency: number;
  lockDurationMs: number;
}

/**
 * The worker's BullMQ workers, one per queue, routing each job to its handler by name. Startup
 * stops when a job listed in QUEUES has no handler (as Immich checks at boot), and a job of an
 * unknown name fails instead of completing as if done.
 */
export function startJobWorkers(backend: QueueBackend, handlers: JobHandlers, settings: Record<QueueName, QueueSettings>): Worker[] {
  for (const queue of Object.keys(QUEUES) as QueueName[]) {
    for (const name of QUEUES[queue]) {
      const handler = (handlers[queue] as Record<string, unknown> | undefined)?.[name];
      if (typeof handler !== 'function') throw new Error(`job ${queue}/${name} has no handler`);
    }
  }
  return (Object.keys(QUEUES) as QueueName[]).map((queue) => {
    const byName = handlers[queue] as Record<string, (job: Job, token?: string) => Promise<unknown>>;
    const { concurrency, lockDurationMs } = settings[queue];
    return openWorker(
      backend,
      queue,
      async (job: Job, token?: string) => {
        const handler = byName[job.name];
        if (!handler) throw new Error(`job ${queue}/${job.name} has no handler`);
        return handler(job, token);
      },
      // Stalled-job recovery stays on: a job whose worker died is taken up again after the lock runs out.
      { concurrency, lockDuration: lockDurationMs, stalledInterval: lockDurationMs, maxStalledCount: 3 },
    );
  });
}
