import { Logger, type OnApplicationBootstrap, type OnModuleInit, type Type } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import { QUEUES, type JobData, type JobName, type QueueName } from '@app/queues';

/** A job of queue Q named J, its data typed by the job's name. */
export type JobOf<Q extends QueueName, J extends JobName<Q> = JobName<Q>> = Job<JobData<Q, J>, unknown, J>;

/** A handler for every job of queue Q: the type makes a missing one a compile error. */
export type JobHandlers<Q extends QueueName> = { [J in JobName<Q>]: (job: JobOf<Q, J>, token?: string) => Promise<unknown> };

type AnyHandler = (job: Job, token?: string) => Promise<unknown>;

export interface QueueSettings {
  concurrency: number;
  lockDurationMs: number;
}

/**
 * A queue's processor: routes each job to its handler by name. Startup stops when a job listed
 * in QUEUES has no handler (as Immich checks at boot); a job of an unknown name fails instead of
 * completing as if done.
 */
export abstract class QueueWorker<Q extends QueueName> extends WorkerHost implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Worker');
  private readonly handlers: ReadonlyMap<string, AnyHandler>;

  protected constructor(
    readonly queue: Q,
    handlers: JobHandlers<Q>,
  ) {
    super();
    // A job's data is what its producers typed for its name (the dispatcher's routes, the sweeps):
    // past the queue store, the name is what selects the type.
    this.handlers = new Map(Object.entries(handlers as unknown as Record<string, AnyHandler>));
  }

  /** Checked once every provider exists (not in the constructor), so a refused start leaves nothing half-built. */
  onModuleInit(): void {
    for (const name of QUEUES[this.queue]) {
      if (typeof this.handlers.get(name) !== 'function') throw new Error(`job ${this.queue}/${name} has no handler`);
    }
  }

  /** A queue store that cannot be reached (or a schema BullMQ refuses) stops startup here. */
  async onApplicationBootstrap(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  async process(job: Job, token?: string): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) throw new Error(`job ${this.queue}/${job.name} has no handler`);
    return handler(job, token);
  }

  @OnWorkerEvent('failed')
  protected onFailed(job: Job | undefined, error: Error): void {
    this.logger.warn(`job ${this.queue}/${job?.name ?? '?'} ${job?.id ?? ''} failed: ${error.message}`);
  }

  @OnWorkerEvent('error')
  protected onError(error: Error): void {
    this.logger.error(`queue ${this.queue}: ${error.message}`);
  }
}

/**
 * The processor class with this deployment's worker options. @nestjs/bullmq reads a worker's
 * options from its class's `@Processor` metadata, fixed where the class is declared; the lock
 * duration is configuration, and applications with different settings may share a process
 * (the tests), so each application registers a subclass carrying its own.
 */
export function withSettings<Q extends QueueName, T extends Type<QueueWorker<Q>>>(processor: T, queue: Q, settings: QueueSettings): T {
  const options: Omit<WorkerOptions, 'connection'> = {
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    // Stalled-job recovery stays on: a job whose worker died is taken up again after the lock runs out.
    stalledInterval: settings.lockDurationMs,
    maxStalledCount: 3,
  };
  const configured = class extends processor {};
  Processor(queue, options)(configured);
  return configured;
}
