import type { Queue } from 'bullmq';

/**
 * A job that runs every `everyMs` on a BullMQ job scheduler, and once when the worker starts:
 * whatever came due while no worker ran is handled at once.
 */
export class RepeatingJob {
  constructor(
    private readonly queue: Queue,
    private readonly name: string,
    private readonly everyMs: number,
    private readonly runAtStart: boolean,
  ) {}

  async start(): Promise<void> {
    await this.queue.upsertJobScheduler(this.name, { every: this.everyMs }, { name: this.name });
    if (this.runAtStart) await this.queue.add(this.name, {}, { jobId: `${this.name}-start-${Date.now()}` });
  }
}
