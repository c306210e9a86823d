import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';

/** How often a worker makes sure its repeating jobs are still scheduled: a wiped queue store is repaired within a minute. */
export const DEFAULT_SCHEDULE_CHECK_MS = 20_000;

/**
 * A job that runs every `everyMs` on a BullMQ job scheduler, and once when the worker starts:
 * whatever came due while no worker ran is handled at once.
 *
 * The scheduler lives in the queue store, which may lose it (a flushed Redis, a failover to an
 * empty replica). So every `checkEveryMs` the worker looks for it and, when it is gone, schedules
 * it again and runs the job at once, as at a start. Upserting is idempotent: several workers
 * checking at once schedule it once.
 */
export class RepeatingJob {
  private readonly logger = new Logger('Worker');
  private timer: NodeJS.Timeout | null = null;
  private checking = false;

  constructor(
    private readonly queue: Queue,
    private readonly name: string,
    private readonly options: { everyMs: number; runAtStart: boolean; checkEveryMs: number },
  ) {}

  async start(): Promise<void> {
    await this.schedule();
    this.timer = setInterval(() => void this.check(), this.options.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async schedule(): Promise<void> {
    await this.queue.upsertJobScheduler(this.name, { every: this.options.everyMs }, { name: this.name });
    if (this.options.runAtStart) await this.queue.add(this.name, {}, { jobId: `${this.name}-start-${Date.now()}` });
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      if (await this.queue.getJobScheduler(this.name)) return;
      this.logger.warn(`the ${this.queue.name}/${this.name} schedule was gone from the queue store: scheduled again`);
      await this.schedule();
    } catch (error) {
      // The queue store is unreachable: the next check tries again.
      this.logger.warn(`checking the ${this.queue.name}/${this.name} schedule: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }
}

/** How often the worker checks its repeating jobs (tests shorten it). */
export class ScheduleCheck {
  constructor(readonly everyMs: number) {}
}
