import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { Clock } from '@app/config';
import { DueWorkQueries } from '@app/projections';
import { sendInviteJobId } from '../dispatcher/dispatch.routes.js';
import { RepeatingJob, ScheduleCheck } from '../repeating-job.js';

/** An invite younger than this is left to the dispatcher, which adds its job as it commits. */
const GRACE_MS = 60_000;
const BATCH = 500;

/**
 * Adds the mail job again for every invite that is issued, unexpired and still unsent a minute
 * later: Postgres is the source of truth and the queue store may lose its jobs (a flushed Redis).
 * The job keeps the id the dispatcher gave it, so an invite whose job is still queued or retrying
 * is not added twice, one that failed is retried, and the processor's own checks keep a mail from
 * going out twice.
 * Runs every minute and when the worker starts.
 */
@Injectable()
export class UnsentInviteSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly schedule: RepeatingJob;

  constructor(
    @InjectQueue('invites') private readonly invites: Queue,
    @Inject(DueWorkQueries) private readonly due: DueWorkQueries,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(ScheduleCheck) check: ScheduleCheck,
  ) {
    this.schedule = new RepeatingJob(invites, 'sweep-unsent-invites', { everyMs: 60_000, runAtStart: true, checkEveryMs: check.everyMs });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.schedule.start();
  }

  beforeApplicationShutdown(): void {
    this.schedule.stop();
  }

  /** Returns how many unsent invites it found (each job added, or already there). */
  async run(): Promise<number> {
    const now = this.clock.now();
    const issuedBy = new Date(now.getTime() - GRACE_MS);
    let found = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const invites = await this.due.unsentInvites(now, issuedBy, after, BATCH);
      if (invites.length === 0) return found;
      await this.invites.addBulk(
        invites.map((data) => ({ name: 'send-invite', data, opts: { jobId: sendInviteJobId(data.eventPosition) } })),
      );
      await this.retryFailed(invites.map((invite) => sendInviteJobId(invite.eventPosition)));
      found += invites.length;
      after = invites.at(-1)?.contactId ?? after;
      if (invites.length < BATCH) return found;
    }
  }

  /**
   * An invite whose job failed past its retries (the SMTP server refused for longer) is still
   * unsent: its job, kept a week under the same id, would make the add above a no-op. It is run
   * again with its attempts reset; the processor's checks keep the mail to one.
   */
  private async retryFailed(jobIds: string[]): Promise<void> {
    for (const id of jobIds) {
      const job = await this.invites.getJob(id);
      if (job && (await job.isFailed())) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    }
  }
}
